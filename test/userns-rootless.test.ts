import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/**
 * Rootless --userns=auto: each container gets a range of the caller's own subordinate ids (session
 * ids 1 and up), and sees the image with its owners shifted: through den-idmap's idmapped mounts
 * where setup-host.sh installed it (test/idmap-helper.test.ts), else fuse-overlayfs. The test user
 * has 262144 subordinate ids (scripts/setup-host.sh), four ranges of 65535 for the busybox image,
 * whose `nobody` is 65534.
 */
describe('--userns=auto rootless: a range of the caller subordinate ids per container', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => env.cleanup());

  test('two auto containers get disjoint ranges; root of one cannot read root of the other 0600 file', () => {
    const shared = join(env.root, 'auto-shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777); // both containers' roots are strangers to it
    const a = env.den([
      'run',
      '--name',
      'auto-a',
      '--userns=auto',
      '-v',
      `${shared}:/shared`,
      'busybox',
      'sh',
      '-c',
      'echo secret > /shared/a && chmod 600 /shared/a && cat /proc/self/uid_map && stat -c "%u:%g" /bin/busybox /home/user',
    ]);
    assert.equal(a.status, 0, a.stderr);
    const [mapA, ...owners] = a.stdout.trim().split('\n');
    assert.deepEqual(owners, ['0:0', '1000:1000'], 'the image owners are seen unshifted inside');
    const b = env.den([
      'run',
      '--rm',
      '--userns=auto',
      '-v',
      `${shared}:/shared`,
      'busybox',
      'sh',
      '-c',
      'cat /proc/self/uid_map; id -u; cat /shared/a',
    ]);
    assert.notEqual(b.status, 0, 'root of b read a 0600 file of root of a');
    assert.match(b.stderr, /Permission denied/);
    const [mapB] = b.stdout.trim().split('\n');
    const range = (line: string | undefined) => line!.trim().split(/\s+/).map(Number) as [number, number, number];
    const [ca, sa, na] = range(mapA);
    const [cb, sb, nb] = range(mapB);
    assert.equal(ca, 0);
    assert.equal(cb, 0);
    assert.ok(sa + na <= sb || sb + nb <= sa, `ranges overlap: ${mapA} and ${mapB}`);
    // Session id 0 is the caller: no auto container maps it.
    assert.ok(sa >= 1 && sb >= 1, 'an auto range includes the caller');
    const file = statSync(join(shared, 'a'));
    assert.notEqual(file.uid, env.user.uid, 'root of a is not the caller on the host');
    assert.ok(file.uid >= 100000, `root of a is a subordinate id on the host, got ${file.uid}`);
    assert.deepEqual(
      env.mountsUnderRoot().filter((m) => !m.includes('auto-shared')),
      [],
      'fuse and overlay mounts are gone',
    );
    assert.equal(env.den(['rm', 'auto-a']).status, 0);
  });

  test('concurrent auto containers get disjoint ranges until the ids run out; rm gives them back', async () => {
    const results = await Promise.all(
      ['c1', 'c2', 'c3', 'c4', 'c5'].map((name) =>
        env.denAsync(['create', '--name', name, '--userns=auto', 'busybox', 'true']),
      ),
    );
    const made = results.filter((r) => r.status === 0);
    const refused = results.filter((r) => r.status !== 0);
    assert.equal(made.length, 4, results.map((r) => r.stderr).join('\n'));
    assert.equal(refused.length, 1);
    assert.match(refused[0]!.stderr, /no free range of 65535 ids left in your subordinate ranges/);
    const ranges = ['c1', 'c2', 'c3', 'c4', 'c5']
      .map((n) => env.den(['inspect', '--format', '{{json .HostConfig.IDMappings.UidMap}}', n]))
      .filter((r) => r.status === 0)
      .map((r) => (JSON.parse(r.stdout) as string[])[0]!.split(':').map(Number) as [number, number, number]);
    assert.equal(ranges.length, 4);
    ranges.sort((x, y) => x[1] - y[1]);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]![1] + ranges[i - 1]![2] <= ranges[i]![1]);

    // The records outlive the session: kill it, and the next container still avoids the four.
    process.kill(env.sessionPid()!, 'SIGKILL');
    const full = env.den(['create', '--userns=auto', 'busybox', 'true']);
    assert.equal(full.status, 125, 'a new session forgot the ranges in use');
    const removed = env.den(['rm', ...['c1', 'c2', 'c3', 'c4', 'c5'].filter((_, i) => results[i]!.status === 0)]);
    assert.equal(removed.status, 0, removed.stderr);
    const again = env.den(['run', '--rm', '--userns=auto', 'busybox', 'true']);
    assert.equal(again.status, 0, again.stderr);
  });

  test('auto:size=N and its errors; the rootless default is the session mapping, auto one setting away', () => {
    const small = env.den(['run', '--rm', '--userns=auto:size=100', 'busybox', 'true']);
    assert.equal(small.status, 125);
    assert.match(small.stderr, /auto:size=100 is too small for this image: it uses ids up to 65534/);
    // Whatever the subordinate ids, rootless containers share the session's mapping by default.
    const d = env.den(['create', '--name', 'default-mode', 'busybox', 'true']);
    assert.equal(d.status, 0, d.stderr);
    const mode = (name: string) => env.den(['inspect', '--format', '{{.HostConfig.UsernsMode}}', name]).stdout.trim();
    assert.equal(mode('default-mode'), 'host');
    const check = env.den(['system', 'check']);
    assert.match(check.stdout, /default --userns: host \(rootless: the session mapping, container root is you/);
    // The first complaint: a bind mount of the caller's directory is writable, and what the
    // container's root writes there is the caller's.
    const work = join(env.home, 'work');
    mkdirSync(work);
    chownSync(work, env.user.uid, env.user.gid);
    const w = env.den(['run', '--rm', '-v', `${work}:/w`, 'busybox', 'sh', '-c', 'touch /w/f && id -u']);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout.trim(), '0');
    assert.equal(statSync(join(work, 'f')).uid, env.user.uid);
    // DEN_USERNS sets the default, as PODMAN_USERNS does; so do den.conf and containers.conf.
    const e = env.den(['create', '--name', 'env-mode', 'busybox', 'true'], { env: { DEN_USERNS: 'auto' } });
    assert.equal(e.status, 0, e.stderr);
    assert.equal(mode('env-mode'), 'auto');
    const config = join(env.home, '.config');
    for (const dir of [config, join(config, 'den'), join(config, 'containers')]) {
      mkdirSync(dir, { recursive: true });
      chownSync(dir, env.user.uid, env.user.gid);
    }
    writeFileSync(join(config, 'containers', 'containers.conf'), '[containers]\nuserns = "auto"\n');
    assert.equal(env.den(['create', '--name', 'containers-conf-mode', 'busybox', 'true']).status, 0);
    assert.equal(mode('containers-conf-mode'), 'auto');
    writeFileSync(join(config, 'den', 'den.conf'), 'userns = host\n');
    assert.equal(env.den(['create', '--name', 'den-conf-mode', 'busybox', 'true']).status, 0);
    assert.equal(mode('den-conf-mode'), 'host', 'den.conf wins over containers.conf');
    assert.match(env.den(['system', 'check']).stdout, /default --userns: host \(set by .*den\.conf line 1\)/);
    writeFileSync(join(config, 'den', 'den.conf'), 'userns = auto\n');
    assert.equal(env.den(['create', '--name', 'den-conf-auto', 'busybox', 'true']).status, 0);
    assert.equal(mode('den-conf-auto'), 'auto');
    writeFileSync(join(config, 'den', 'den.conf'), 'userns = sideways\n');
    const bad = env.den(['create', 'busybox', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /den\.conf line 1: userns "sideways" is not a --userns value/);
    rmSync(config, { recursive: true });
    const names = ['default-mode', 'env-mode', 'containers-conf-mode', 'den-conf-mode', 'den-conf-auto'];
    assert.equal(env.den(['rm', ...names]).status, 0);
  });

  test('an explicit --uidmap is relative to the session, cut along its extents; one past its ids is refused', () => {
    const r = env.den([
      'run',
      '--rm',
      '--uidmap',
      '0:5000:70000',
      'busybox',
      'sh',
      '-c',
      'cat /proc/self/uid_map; stat -c %u /home/user',
    ]);
    assert.equal(r.status, 0, r.stderr);
    // The session's ids are contiguous but its extents are not one: the map is cut where it crosses.
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(lines, [[0, 5000, 60537], [60537, 65537, 9463], [1000]]);
    const tooFar = env.den(['run', '--rm', '--uidmap', '0:200000:65536', 'busybox', 'true']);
    assert.equal(tooFar.status, 125);
    assert.match(tooFar.stderr, /host ids are your session's, 0 to 262144/);
  });

  test('a data directory others cannot pass through is refused with what to do', () => {
    const home = env.home;
    chmodSync(home, 0o700);
    try {
      const r = env.den(['run', '--rm', '--userns=auto', 'busybox', 'true']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, new RegExp(`${home} is closed to others \\(mode 700\\)`));
      assert.match(r.stderr, /chmod o\+x/);
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '', 'nothing was left behind');
    } finally {
      chmodSync(home, 0o755);
      chownSync(home, env.user.uid, env.user.gid);
    }
  });
});
