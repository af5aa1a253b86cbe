import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/** Owners of some entries of a tar, as `tar -tv --numeric-owner` prints them: path -> "uid/gid". */
function owners(tarPath: string, paths: string[]): Record<string, string> {
  const out = spawnSync('tar', ['-tvf', tarPath, '--numeric-owner'], { encoding: 'utf8' }).stdout;
  const found: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[f.length - 1]?.replace(/^\.\//, '').replace(/\/$/, '');
    if (name && paths.includes(name)) found[name] = f[1]!;
  }
  return found;
}

for (const user of ['dentest', 'root'] as const) {
  describe(`den export as ${user}: the file system as the container sees it`, () => {
    let env: DenEnv;
    before(() => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
    });
    after(() => env.cleanup());

    for (const userns of ['host', 'auto']) {
      test(`--userns=${userns}: image owners and the container's changes, with the container's ids`, () => {
        const name = `exp-${userns}`;
        const made = env.den([
          'run',
          '--name',
          name,
          `--userns=${userns}`,
          'busybox',
          'sh',
          '-c',
          'echo hi > /root/by-root && su user -s /bin/sh -c "echo hi > /home/user/by-user" && rm /etc/group',
        ]);
        assert.equal(made.status, 0, made.stderr);
        const out = join(env.rootless ? env.home : env.root, `${name}.tar`);
        const r = env.den(['export', '-o', out, name]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(owners(out, ['root/by-root', 'home/user/by-user', 'home/user', 'bin/busybox']), {
          'root/by-root': '0/0',
          'home/user/by-user': '1000/1000',
          'home/user': '1000/1000',
          'bin/busybox': '0/0',
        });
        const list = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout;
        assert.doesNotMatch(list, /etc\/group\n/, 'a file the container deleted is not exported');
        assert.deepEqual(env.mountsUnderRoot(), [], 'the root file system was unmounted again');
        assert.equal(env.den(['rm', name]).status, 0);
      });
    }

    test('errors: no such container; an output den cannot write', () => {
      const r = env.den(['export', 'nope']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /no such container/i);
      const made = env.den(['create', '--name', 'exp-err', 'busybox', 'true']);
      assert.equal(made.status, 0, made.stderr);
      const unwritable = env.den(['export', '-o', '/proc/den-export.tar', 'exp-err']);
      assert.equal(unwritable.status, 1);
      assert.match(unwritable.stderr, /cannot write \/proc\/den-export\.tar: E/);
      assert.equal(env.den(['rm', 'exp-err']).status, 0);
    });
  });
}
