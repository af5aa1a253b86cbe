import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDenError } from '../../common/errors.js';
import { parseDevice, parseMount, parseTmpfs, parseVolume } from './mount-spec.js';

/** The DenError code a parse throws (assert.throws with a code check). */
function codeOf(parse: () => unknown): string | undefined {
  try {
    parse();
  } catch (e) {
    return isDenError(e) ? e.code : 'not a DenError';
  }
  return undefined;
}

test('-v: binds, named and anonymous volumes, and their options', () => {
  assert.deepEqual(parseVolume('/srv/data:/data'), {
    type: 'bind',
    source: '/srv/data',
    destination: '/data',
    readOnly: false,
    origin: 'v',
  });
  assert.deepEqual(parseVolume('/srv//data/:/data/:ro,rslave,U'), {
    type: 'bind',
    source: '/srv/data/',
    destination: '/data',
    readOnly: true,
    chown: true,
    propagation: 'rslave',
    origin: 'v',
  });
  assert.deepEqual(parseVolume('pgdata:/var/lib/pg:nocopy,idmap'), {
    type: 'volume',
    name: 'pgdata',
    destination: '/var/lib/pg',
    readOnly: false,
    idmap: true,
    noCopy: true,
    origin: 'v',
  });
  // One part, or a path and options: an anonymous volume (named at create).
  assert.deepEqual(parseVolume('/cache'), {
    type: 'volume',
    name: '',
    destination: '/cache',
    readOnly: false,
    anonymous: true,
    origin: 'v',
  });
  assert.equal(parseVolume('/cache:ro').readOnly, true);
  assert.equal(parseVolume('/cache:ro').type, 'volume');
  // z, Z and macOS's consistency flags are accepted and change nothing.
  assert.equal(parseVolume('/a:/b:z,Z,cached,delegated').readOnly, false);
});

test('-v: malformed specifications are refused with their codes', () => {
  for (const [spec, code] of [
    ['', 'DEN0628'],
    [':/x', 'DEN0628'],
    ['a:b:c:d', 'DEN0628'],
    ['/a:relative', 'DEN0630'],
    ['/a:/', 'DEN0633'],
    ['/a:/b:bogus', 'DEN0631'],
    ['/a:/b:nocopy', 'DEN0631'],
    ['vol:/b:rshared', 'DEN0631'],
    ['./relative:/b', 'DEN1320'],
    ['a/b:/x', 'DEN1320'],
    ['x:/x', 'DEN1320'],
  ] as const) {
    assert.equal(
      codeOf(() => parseVolume(spec)),
      code,
      spec,
    );
  }
});

test("--mount: docker's keys, CSV quoting, and each type's own options", () => {
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared'), {
    type: 'bind',
    source: '/a',
    destination: '/b',
    readOnly: true,
    propagation: 'rshared',
    origin: 'mount',
  });
  assert.deepEqual(parseMount('"type=bind","source=/with,comma",target=/b,ro=false,idmap'), {
    type: 'bind',
    source: '/with,comma',
    destination: '/b',
    readOnly: false,
    idmap: true,
    origin: 'mount',
  });
  // type defaults to volume; no source: anonymous.
  assert.deepEqual(parseMount('target=/v,volume-nocopy'), {
    type: 'volume',
    name: '',
    destination: '/v',
    readOnly: false,
    noCopy: true,
    anonymous: true,
    origin: 'mount',
  });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770'), {
    type: 'tmpfs',
    destination: '/t',
    readOnly: false,
    size: 1024 * 1024,
    mode: 0o1770,
    options: [],
    origin: 'mount',
  });
  for (const bad of [
    'type=bind,target=/x',
    'type=nfs,target=/x',
    'source=v',
    'type=volume,source=v,target=/x,tmpfs-size=1m',
    'type=tmpfs,source=x,target=/t',
    'type=bind,source=relative,target=/x',
    'type=bind,source=/a,target=/x,readonly=maybe',
    'type=volume,target=/x,volume-driver=nfs',
    'type=volume,target=/x,volume-opt=a=b',
    'type=bind,"source=/a,target=/x',
    'type=bind,source=/a,target=/x,bogus=1',
  ]) {
    assert.equal(
      codeOf(() => parseMount(bad)),
      'DEN1325',
      bad,
    );
  }
});

test("--tmpfs: size and mode apart, docker's noexec,nosuid,nodev unless the flags say otherwise", () => {
  assert.deepEqual(parseTmpfs('/run'), {
    type: 'tmpfs',
    destination: '/run',
    readOnly: false,
    options: ['noexec', 'nosuid', 'nodev'],
    origin: 'tmpfs',
  });
  assert.deepEqual(parseTmpfs('/run:size=64k,mode=700,exec,ro'), {
    type: 'tmpfs',
    destination: '/run',
    readOnly: true,
    size: 65536,
    mode: 0o700,
    options: ['nosuid', 'nodev', 'exec'],
    origin: 'tmpfs',
  });
  assert.equal(
    codeOf(() => parseTmpfs('/run:uid=0')),
    'DEN1326',
  );
  assert.equal(
    codeOf(() => parseTmpfs('run')),
    'DEN0630',
  );
});

test('--device: HOST[:CONTAINER][:PERMISSIONS]', () => {
  assert.deepEqual(parseDevice('/dev/fuse'), { host: '/dev/fuse', container: '/dev/fuse', permissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/fuse:r'), { host: '/dev/fuse', container: '/dev/fuse', permissions: 'r' });
  assert.deepEqual(parseDevice('/dev/fuse:/dev/f:rw'), { host: '/dev/fuse', container: '/dev/f', permissions: 'rw' });
  for (const bad of ['fuse', '/dev/fuse:x', '/dev/fuse:/dev/f:rwx', '/a:/b:r:w']) {
    assert.equal(
      codeOf(() => parseDevice(bad)),
      'DEN1327',
      bad,
    );
  }
});
