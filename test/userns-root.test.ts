import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

interface Mapping {
  uid: [number, number, number];
  gid: [number, number, number];
}

function mappingOf(env: DenEnv, name: string): Mapping {
  const r = env.den(['inspect', '--format', '{{json .HostConfig}}', name]);
  assert.equal(r.status, 0, r.stderr);
  const hc = JSON.parse(r.stdout) as { IDMappings: { UidMap: string[]; GidMap: string[] } };
  const parse = (s: string) => s.split(':').map(Number) as [number, number, number];
  return { uid: parse(hc.IDMappings.UidMap[0]!), gid: parse(hc.IDMappings.GidMap[0]!) };
}

/** Owner, inode and mode of every file in the layer store: what a copy or a chown would change. */
function layerFingerprint(env: DenEnv): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      out.push(`${path} ${st.ino} ${st.uid}:${st.gid} ${st.mode}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(join(env.dataDir, 'layers'));
  return out.join('\n');
}

describe('--userns=auto as root: an isolated range per container, zero copy', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv('root');
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  test('auto is the default as root; files keep the image owners and the layer store is untouched', () => {
    const before = layerFingerprint(env);
    const r = env.den(['run', '--name', 'owners', 'busybox', 'sh', '-c', 'ls -ln /home; id -u; touch /root/new']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1000\s+1000\s+\d+.*user/);
    const m = mappingOf(env, 'owners');
    assert.equal(m.uid[0], 0);
    assert.ok(m.uid[1] >= 1000000000, `host ids come from the den pool, got ${m.uid[1]}`);
    assert.ok(m.uid[2] >= 1001, 'the range covers the image ids');
    assert.equal(layerFingerprint(env), before, 'no layer file was chowned or copied');
    // What the container wrote is owned on the host by its range, not by root.
    const upper = join(
      env.dataDir,
      'containers',
      env.den(['inspect', '-f', '{{.Id}}', 'owners']).stdout.trim(),
      'upper',
    );
    assert.equal(statSync(join(upper, 'root', 'new')).uid, m.uid[1]);
    assert.equal(env.den(['rm', 'owners']).status, 0);
  });

  test('two containers get disjoint ranges; root in one cannot read what root in the other keeps private', () => {
    const shared = join(env.root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    // As the host sees it (idmap=false): what each root writes lands in its own range. (den's
    // default idmaps a bind, and then the bind is a grant to both roots: docs/volumes.md.)
    const v = ['--mount', `type=bind,source=${shared},target=/shared,idmap=false`];
    assert.equal(
      env.den(['run', '--name', 'one', ...v, 'busybox', 'sh', '-c', 'echo secret > /shared/s; chmod 600 /shared/s'])
        .status,
      0,
    );
    const two = env.den(['run', '--name', 'two', ...v, 'busybox', 'cat', '/shared/s']);
    assert.notEqual(two.status, 0);
    assert.match(two.stderr, /Permission denied/);
    const [a, b] = [mappingOf(env, 'one'), mappingOf(env, 'two')];
    const overlap = (x: [number, number, number], y: [number, number, number]) =>
      x[1] < y[1] + y[2] && y[1] < x[1] + x[2];
    assert.equal(overlap(a.uid, b.uid), false);
    assert.equal(overlap(a.gid, b.gid), false);
    assert.equal(statSync(join(shared, 's')).uid, a.uid[1], "container root is not host root: the file is its range's");
    assert.equal(env.den(['rm', 'one', 'two']).status, 0);
  });

  test('20 concurrent creates: no overlap, no lost record; ranges come back on rm', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const runs = names.map((n) => env.spawnDen(['create', '--name', n, '--userns=auto', 'busybox', 'true']));
    const statuses = await Promise.all(runs.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve))));
    assert.deepEqual(
      statuses,
      names.map(() => 0),
    );
    const maps = names.map((n) => mappingOf(env, n).uid);
    const sorted = [...maps].sort((x, y) => x[1] - y[1]);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i - 1]![1] + sorted[i - 1]![2] <= sorted[i]![1], 'ranges do not overlap');
    }
    const lowest = sorted[0]![1];
    assert.equal(env.den(['rm', ...names]).status, 0);
    assert.equal(env.den(['create', '--name', 'again', 'busybox', 'true']).status, 0);
    assert.equal(mappingOf(env, 'again').uid[1], lowest, 'freed ranges are handed out again');
    assert.equal(env.den(['rm', 'again']).status, 0);
  });

  test('bad requests: a range too small for the image, keep-id as root, malformed values', () => {
    const small = env.den(['run', '--rm', '--userns=auto:size=100', 'busybox', 'true']);
    assert.equal(small.status, 125);
    assert.match(small.stderr, /too small for this image: it uses ids up to 65534/);
    for (const [args, message] of [
      [['--userns=auto:size=x'], /expected auto or auto:size=N/],
      [['--userns=bogus'], /invalid --userns/],
      [['--userns=keep-id'], /keep-id is for rootless den/],
      [['--uidmap', '0:100000'], /--uidmap/],
      [['--userns=auto', '--uidmap', '0:100000:10'], /cannot be combined/],
    ] as [string[], RegExp][]) {
      const r = env.den(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.status, 125, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
  });

  test('an explicit --uidmap/--gidmap is used as given', () => {
    const r = env.den([
      'run',
      '--rm',
      '--uidmap',
      '0:1500000000:70000',
      '--gidmap',
      '0:1500000000:70000',
      'busybox',
      'sh',
      '-c',
      'cat /proc/self/uid_map; ls -ln /home',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\s*0\s+1500000000\s+70000$/m);
    assert.match(r.stdout, /1000\s+1000/);
  });
});
