import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

describe('den run as root (root mode, no session)', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv('root');
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => env.cleanup());

  test('runs a container in a user namespace of its own, with the exit status', () => {
    const r = env.den([
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'id -u; readlink /proc/self/ns/user; ls -ln /home; exit 5',
    ]);
    assert.equal(r.status, 5, r.stderr);
    const [uid, userns, ...ls] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.notEqual(userns, readlinkSync('/proc/self/ns/user'), 'the container is not in the host user namespace');
    assert.match(ls.join('\n'), /1000\s+1000\s+.*user/, 'image owners are kept');
  });

  test('--rm as root leaves no mount, directory or record', () => {
    const r = env.den(['run', '--rm', '--network', 'none', 'busybox', 'true']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(env.mountsUnderRoot(), []);
    assert.deepEqual(env.containerDirs(), []);
    assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
  });

  for (const runtime of ['crun', 'runc']) {
    test(`${runtime}: nothing stays mounted after a container, whether its command ran or could not start, with --rm or not`, () => {
      for (const [cmd, status] of [
        [['true'], 0],
        [['no-such-command'], 127],
      ] as const) {
        const rm = env.den(['run', '--rm', '--runtime', runtime, 'busybox', ...cmd]);
        assert.equal(rm.status, status, rm.stderr);
        assert.deepEqual(env.mountsUnderRoot(), [], `--rm ${cmd.join(' ')}`);
        assert.deepEqual(env.containerDirs(), [], `--rm ${cmd.join(' ')}`);
        const kept = env.den(['run', '--name', 'kept', '--runtime', runtime, 'busybox', ...cmd]);
        assert.equal(kept.status, status, kept.stderr);
        assert.deepEqual(env.mountsUnderRoot(), [], cmd.join(' '));
        assert.equal(env.den(['rm', 'kept']).status, 0);
        assert.deepEqual(env.containerDirs(), [], cmd.join(' '));
      }
    });
  }

  test('runc works as the alternative runtime', () => {
    const r = env.den(['run', '--rm', '--runtime', 'runc', 'busybox', 'sh', '-c', 'echo via-runc; exit 3']);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, 'via-runc\n');
    const byPath = env.den(['run', '--rm', '--runtime', '/usr/sbin/runc', 'busybox', 'echo', 'by-path']);
    assert.equal(byPath.stdout, 'by-path\n', byPath.stderr);
    // runc relays a terminal only from one on its stdin (it refuses den's console socket attached):
    // without one, -t runs the container without a terminal, and says so.
    const tty = env.den(['run', '--rm', '-t', '--runtime', 'runc', 'busybox', 'sh', '-c', 'tty; true']);
    assert.equal(tty.status, 0, tty.stderr);
    assert.equal(tty.stdout, 'not a tty\n');
    assert.match(tty.stderr, /-t without a terminal on stdin: runc cannot relay one; running without/);
  });
});
