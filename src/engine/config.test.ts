import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { engineConfigFromEnv } from './config.js';

const self = { node: process.execPath, script: undefined };
const config = (env: Record<string, string>) => engineConfigFromEnv({ HOME: '/home/x', ...env }, self, 1000, 1000);

test('DEN_MAX_LAYER_RATIO: the decompression-bomb bound, 100 unless set; 0 lifts it; anything else is refused', () => {
  assert.equal(config({}).maxLayerRatio, 100);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '' }).maxLayerRatio, 100);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '2000' }).maxLayerRatio, 2000);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '0' }).maxLayerRatio, 0);
  for (const bad of ['-1', '1.5', 'lots']) {
    assert.throws(
      () => config({ DEN_MAX_LAYER_RATIO: bad }),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0105' && e.message.includes(`DEN_MAX_LAYER_RATIO=${bad}`),
    );
  }
});

test('DEN_GZIP: igzip where PATH has it, else zlib; zlib when asked; igzip asked for and missing, or anything else, refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'den-config-gzip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // An executable named igzip is all the lookup needs: nothing runs here.
  writeFileSync(join(dir, 'igzip'), '#!/bin/sh\n', { mode: 0o755 });
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.deepEqual(config({ PATH: dir }).gzip, { program: join(dir, 'igzip'), why: 'found in PATH' });
  assert.deepEqual(config({ PATH: dir, DEN_GZIP: 'igzip' }).gzip, {
    program: join(dir, 'igzip'),
    why: 'DEN_GZIP=igzip',
  });
  assert.deepEqual(config({ PATH: dir, DEN_GZIP: 'zlib' }).gzip, { why: 'DEN_GZIP=zlib' });
  assert.equal(config({ PATH: empty }).gzip.program, undefined);
  assert.match(config({ PATH: empty }).gzip.why, /^igzip is not installed/);
  for (const env of [
    { PATH: dir, DEN_GZIP: 'pigz' },
    { PATH: empty, DEN_GZIP: 'igzip' },
  ]) {
    assert.throws(
      () => config(env),
      (e: DenError) => e.code === 'DEN1502' && e.message.startsWith('DEN_GZIP=') && e.hint !== undefined,
      JSON.stringify(env),
    );
  }
});

test('the default --userns: DEN_USERNS, else den.conf, else containers.conf, else den chooses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-config-'));
  try {
    const conf = join(dir, 'den', 'den.conf');
    const containersConf = join(dir, 'containers.conf');
    const at = (env: Record<string, string>) => {
      const c = config({ XDG_CONFIG_HOME: dir, CONTAINERS_CONF: containersConf, ...env });
      return [c.defaultUserns, c.defaultUsernsFrom];
    };
    assert.deepEqual(at({}), [undefined, undefined]);
    writeFileSync(
      containersConf,
      '[engine]\nuserns = "host"\n[containers]\n# userns = "host"\nuserns = "auto" # ranges\n',
    );
    assert.deepEqual(at({}), ['auto', `${containersConf} line 5`], "containers.conf's [containers] table only");
    mkdirSync(join(dir, 'den'));
    writeFileSync(conf, '# den settings\n\nuserns = keep-id\n');
    assert.deepEqual(at({}), ['keep-id', `${conf} line 3`], 'den.conf over containers.conf');
    assert.deepEqual(at({ DEN_USERNS: 'host' }), ['host', 'DEN_USERNS'], 'the environment over both');
    const refused = (env: Record<string, string>, code: string, text: string) =>
      assert.throws(
        () => at(env),
        (e: unknown) => e instanceof DenError && e.code === code && e.message.includes(text),
      );
    refused({ DEN_USERNS: 'sideways' }, 'DEN1301', 'DEN_USERNS: userns "sideways" is not a --userns value');
    writeFileSync(conf, 'userns = auto:size=0\n');
    refused({}, 'DEN1301', `${conf} line 1: userns "auto:size=0"`);
    writeFileSync(conf, 'userns auto\n');
    refused({}, 'DEN1302', `${conf} line 1: expected NAME = VALUE`);
    writeFileSync(conf, 'usrns = auto\n');
    refused({}, 'DEN1302', `${conf} line 1: unknown setting "usrns"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default network: DEN_NETWORK, else den.conf, else containers.conf (rootless), else den chooses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-config-'));
  try {
    const conf = join(dir, 'den', 'den.conf');
    const containersConf = join(dir, 'containers.conf');
    const at = (env: Record<string, string>) =>
      config({ XDG_CONFIG_HOME: dir, CONTAINERS_CONF: containersConf, ...env }).defaultNetwork;
    assert.equal(at({}), undefined);
    writeFileSync(containersConf, '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n');
    assert.equal(at({}), 'slirp4netns', "podman's choice of helper, rootless");
    mkdirSync(join(dir, 'den'));
    writeFileSync(conf, 'userns = auto\nnetwork = pasta\n');
    assert.equal(at({}), 'pasta', 'den.conf over containers.conf');
    assert.equal(at({ DEN_NETWORK: 'none' }), 'none', 'the environment over both');
    for (const bad of ['container:web', 'pasta bad', 'slirp4netns:mtu=1']) {
      assert.throws(
        () => at({ DEN_NETWORK: bad }),
        (e: unknown) => e instanceof DenError && e.code === 'DEN1218' && e.message.startsWith('DEN_NETWORK: '),
        bad,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
