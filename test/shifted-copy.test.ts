import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { lgetxattr, lsetxattr } from '../src/common/libc.js';
import { busyboxTarball, DenEnv, scratchDir, subuidBase } from './harness.js';

/**
 * Rootless ids shifted by copying (src/snapshots/shifted-copy.ts, src/snapshots/copy-snapshotter.ts):
 * the layers are copied once per mapping with their owners shifted, and every container with that
 * mapping uses the copy. On this host den would choose den-idmap (setup-host.sh installs it), or
 * without it fuse-overlayfs (ext4 has no reflinks), so these tests ask for the copy with
 * DEN_SHIFT=copy; the last suite makes an xfs file system with reflinks, where den without den-idmap
 * chooses the copy itself.
 */
const COPY = { DEN_SHIFT: 'copy' };
const MTIME = '2021-01-02 03:04:05.123456789';

/**
 * An image that exercises what a copy must keep: a setuid file, hard links, a fifo, a symlink, a
 * user xattr, a file of uid 1000, and a time to the nanosecond. Built as root with real owners, on
 * top of the busybox image.
 */
function specialTarball(dir: string, extraFiles = 0): string {
  const out = join(dir, `special-${extraFiles}.tar`);
  if (existsSync(out)) return out;
  const root = join(dir, `special-rootfs-${extraFiles}`);
  mkdirSync(root, { recursive: true });
  const run = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  };
  run(['tar', '-C', root, '-xf', busyboxTarball()]);
  const s = join(root, 'special');
  mkdirSync(s);
  writeFileSync(join(s, 'setuid'), '#!/bin/sh\n');
  chmodSync(join(s, 'setuid'), 0o4755);
  writeFileSync(join(s, 'hard1'), 'linked\n');
  run(['ln', join(s, 'hard1'), join(s, 'hard2')]);
  run(['mkfifo', join(s, 'fifo')]);
  writeFileSync(join(s, 'owned'), 'mine\n');
  chownSync(join(s, 'owned'), 1000, 1000);
  chmodSync(join(s, 'owned'), 0o640);
  lsetxattr(Buffer.from(join(s, 'owned')), 'user.den.test', Buffer.from('kept'));
  symlinkSync('owned', join(s, 'link'));
  run(['touch', '-h', '-d', MTIME, join(s, 'owned'), join(s, 'link')]);
  if (extraFiles > 0) {
    const many = join(root, 'many');
    mkdirSync(many);
    for (let i = 0; i < extraFiles; i++) writeFileSync(join(many, `f${i}`), `${i}\n`);
  }
  run(['tar', '-C', root, '--numeric-owner', '--xattrs', '--xattrs-include=user.*', '-cf', out, '.']);
  chmodSync(out, 0o644);
  return out;
}

/** The directories of shifted copies: shifted/<key>/<layer>. */
function shiftedCopies(env: DenEnv): string[] {
  const dir = join(env.dataDir, 'shifted');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((key) =>
    readdirSync(join(dir, key))
      .filter((n) => !n.startsWith('.'))
      .map((n) => join(dir, key, n)),
  );
}

describe('rootless ids shifted by a copy per mapping (DEN_SHIFT=copy)', () => {
  let env: DenEnv;
  let fixtures: string;
  before(() => {
    env = new DenEnv();
    fixtures = scratchDir('den-e2e-special-');
    const r = env.den(['import', specialTarball(fixtures), 'special']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    env.cleanup();
    rmSync(fixtures, { recursive: true, force: true });
  });

  test('keep-id: the copy keeps owners, modes, links, fifos, xattrs and times; the caller owns what the container writes', () => {
    const shared = join(env.root, 'keep-shared');
    mkdirSync(shared);
    chownSync(shared, env.user.uid, env.user.gid);
    const r = env.den(
      [
        'run',
        '--rm',
        '--userns=keep-id',
        '-v',
        `${shared}:/shared`,
        'special',
        'sh',
        '-c',
        'id -u; cd /special && stat -c "%a %u:%g %h %F %n" setuid hard1 hard2 fifo owned && ' +
          'stat -c "%a %u:%g %n" / /bin/busybox && ' +
          'stat -c "%i" hard1 hard2 | uniq | wc -l; stat -c "%y" owned; echo written > /shared/out',
      ],
      { env: COPY },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /: copying with owners shifted for this id mapping \(first use\)/);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      String(env.user.uid),
      '4755 0:0 1 regular file setuid',
      '644 0:0 2 regular file hard1',
      '644 0:0 2 regular file hard2',
      '644 0:0 1 fifo fifo',
      '640 1000:1000 1 regular file owned',
      '755 0:0 /',
      '755 0:0 /bin/busybox',
      '1',
      `${MTIME} +0000`,
    ]);
    assert.equal(lstatSync(join(shared, 'out')).uid, env.user.uid, 'the caller owns what the container wrote');
    const [copy] = shiftedCopies(env);
    assert.ok(copy, 'a shifted copy was made');
    // On disk the copy's owners are the session's: image root is session id 1, the first subordinate id.
    const base = subuidBase(env.user);
    assert.equal(lstatSync(join(copy, 'special', 'setuid')).uid, base);
    assert.equal(lstatSync(join(copy, 'special', 'owned')).uid, base + 1000);
    assert.equal(lgetxattr(Buffer.from(join(copy, 'special', 'owned')), 'user.den.test')?.toString(), 'kept');
    // The canonical layer is untouched: still the session's own view of the image's owners.
    const layer = join(env.dataDir, 'layers', copy.split('/').pop()!);
    assert.equal(lstatSync(join(layer, 'special', 'owned')).uid, base + 999);
  });

  test('a second container with the same mapping uses the same copy and copies nothing', () => {
    const before = shiftedCopies(env).map((p) => lstatSync(join(p, 'bin', 'busybox')).ino);
    const r = env.den(['run', '--rm', '--userns=keep-id', 'special', 'true'], { env: COPY });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /copying/);
    assert.deepEqual(
      shiftedCopies(env).map((p) => lstatSync(join(p, 'bin', 'busybox')).ino),
      before,
    );
  });

  test('concurrent creates of one new mapping copy each layer once; all of them run', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map((i) =>
        env
          .denAsync(['run', '--rm', '--userns=keep-id:uid=500,gid=500', 'special', 'id', '-u'], { env: COPY })
          .then((r) => ({ i, ...r })),
      ),
    );
    for (const r of runs) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), '500');
    }
    assert.equal(runs.filter((r) => /copying/.test(r.stderr)).length, 1, 'exactly one den copied');
    assert.equal(shiftedCopies(env).length, 2, 'one copy per mapping');
  });

  test('auto: the copy is the container own and goes with it; prune collects copies no container uses', () => {
    const c = env.den(['create', '--userns=auto', 'special', 'true'], { env: COPY });
    assert.equal(c.status, 0, c.stderr);
    assert.equal(shiftedCopies(env).length, 3);
    const start = env.den(['run', '--rm', '--userns=auto', 'special', 'stat', '-c', '%u', '/special/owned'], {
      env: COPY,
    });
    assert.equal(start.status, 0, start.stderr);
    assert.equal(start.stdout.trim(), '1000');
    assert.equal(shiftedCopies(env).length, 3, 'the --rm auto container took its copy with it');
    assert.equal(env.den(['rm', c.stdout.trim()]).status, 0);
    assert.equal(shiftedCopies(env).length, 2, 'the removed auto container took its copy with it');
    // keep-id copies outlive their containers, for the next one; prune takes them when unused.
    const prune = env.den(['image', 'prune', '-f'], { env: { DEN_GC_GRACE_SECONDS: '0' } });
    assert.equal(prune.status, 0, prune.stderr);
    assert.match(prune.stdout, /2 shifted copies\)/);
    assert.deepEqual(shiftedCopies(env), []);
    const check = env.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  test('rmi removes the copies of the layers it deletes', () => {
    const r = env.den(['run', '--rm', '--userns=keep-id', 'special', 'true'], { env: COPY });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(shiftedCopies(env).length, 1);
    assert.equal(env.den(['rmi', 'special']).status, 0);
    assert.deepEqual(shiftedCopies(env), []);
    const again = env.den(['import', specialTarball(fixtures), 'special']);
    assert.equal(again.status, 0, again.stderr);
  });

  test('den killed while copying: the copier stops and cleans up, the next run copies and works', async () => {
    const big = env.den(['import', specialTarball(fixtures, 30000), 'special-big']);
    assert.equal(big.status, 0, big.stderr);
    const child = env.spawnDen(['run', '--rm', '--userns=keep-id', 'special-big', 'true'], { env: COPY });
    child.stdin.end();
    const shifted = join(env.dataDir, 'shifted');
    const copying = () =>
      existsSync(shifted) &&
      readdirSync(shifted).some((k) => readdirSync(join(shifted, k)).some((n) => n.startsWith('.tmp-')));
    for (let i = 0; i < 200 && !copying(); i++) await sleep(25);
    assert.ok(copying(), 'the copy started');
    child.kill('SIGKILL');
    for (let i = 0; i < 200 && copying(); i++) await sleep(25);
    assert.ok(!copying(), 'the copier noticed den was gone and removed its half copy');
    assert.deepEqual(env.strayProcesses(), []);
    // The container was recorded before its copy began: it stays Created (as podman's would) until
    // removed, like any container whose den died before starting it.
    const left = env.den(['ps', '-a', '--format', '{{.Status}}']);
    assert.equal(left.stdout.trim(), 'Created');
    assert.equal(env.den(['rm', env.den(['ps', '-a', '-q']).stdout.trim()]).status, 0);
    const r = env.den(['run', '--rm', '--userns=keep-id', 'special-big', 'sh', '-c', 'ls /many | wc -l'], {
      env: COPY,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '30000');
    const check = env.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.deepEqual(env.mountsUnderRoot(), []);
  });

  test('without fuse-overlayfs, shifted mappings still work by copying; DEN_SHIFT=fuse is refused with the fix', () => {
    // A PATH with every tool of /usr/bin but fuse-overlayfs (the test cannot uninstall it).
    const bin = join(env.root, 'bin-without-fuse');
    mkdirSync(bin);
    for (const name of readdirSync('/usr/bin')) {
      if (name !== 'fuse-overlayfs') symlinkSync(join('/usr/bin', name), join(bin, name));
    }
    // den-idmap would be chosen before either: this is the choice where it is not installed.
    const path = { PATH: `${bin}:/usr/sbin`, DEN_IDMAP_HELPER_DIR: '' };
    const check = env.den(['system', 'check'], { env: path });
    assert.match(check.stdout, /userns-shift +copy \(fuse-overlayfs cannot be used \(fuse-overlayfs is not installed/);
    const r = env.den(['run', '--rm', '--userns=keep-id', 'special', 'stat', '-c', '%u', '/special/owned'], {
      env: path,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1000');
    const fuse = env.den(['run', '--rm', '--userns=keep-id', 'special', 'true'], {
      env: { ...path, DEN_SHIFT: 'fuse' },
    });
    assert.equal(fuse.status, 125);
    assert.match(fuse.stderr, /DEN_SHIFT=fuse, but fuse-overlayfs is not installed/);
    assert.match(fuse.stderr, /apt-get install fuse-overlayfs, or unset DEN_SHIFT/);
    const bad = env.den(['run', '--rm', '--userns=keep-id', 'special', 'true'], { env: { DEN_SHIFT: 'chown' } });
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /DEN_SHIFT=chown: unknown way of shifting ids/);
    assert.equal(env.den(['ps', '-a', '-q']).stdout, '', 'nothing was left behind');
    assert.deepEqual(env.mountsUnderRoot(), []);
  });
});

/**
 * On a file system with reflinks (an xfs made here on a loop device, as root) den chooses the copy
 * by itself, and the copy shares the image's data: a 64 MiB file costs metadata only.
 */
describe('rootless on xfs with reflinks: den chooses the shifted copy, which shares the data', () => {
  let mnt: string;
  let image: string;
  let env: DenEnv;
  before(() => {
    const dir = scratchDir('den-e2e-xfs-', { varTmp: true });
    image = join(dir, 'xfs.img');
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const sh = (cmd: string) => {
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    };
    sh(`truncate -s 1G ${image} && mkfs.xfs -q -m reflink=1 ${image} && mount -o loop ${image} ${mnt}`);
    chmodSync(dir, 0o755);
    chmodSync(mnt, 0o755);
    env = new DenEnv(undefined, mnt);
    // den-idmap, where installed, is chosen before the copy: this suite is the choice without it.
    env.defaults = { DEN_IDMAP_HELPER_DIR: '' };
    const root = join(mnt, 'rootfs');
    sh(`mkdir ${root} && tar -C ${root} -xf ${busyboxTarball()} && head -c 64M /dev/urandom > ${root}/data`);
    sh(`tar -C ${root} --numeric-owner -cf ${mnt}/big.tar . && chmod 644 ${mnt}/big.tar && rm -rf ${root}`);
    const r = env.den(['import', join(mnt, 'big.tar'), 'big']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    env?.cleanup();
    spawnSync('umount', ['-l', mnt]);
    rmSync(join(mnt, '..'), { recursive: true, force: true });
  });

  test('system check names the copy and why; a keep-id container costs no data blocks', () => {
    const check = env.den(['system', 'check']);
    assert.match(check.stdout, /userns-shift +copy \(the store's file system has reflinks/);
    const used = () => {
      const s = statfsSync(mnt);
      return (s.blocks - s.bfree) * s.bsize;
    };
    const sum = env.den(['run', '--rm', '--userns=host', 'big', 'md5sum', '/data']);
    assert.equal(sum.status, 0, sum.stderr);
    const before = used();
    const r = env.den(['run', '--rm', '--userns=keep-id', 'big', 'sh', '-c', 'stat -c %u /bin/busybox; md5sum /data']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `0\n${sum.stdout}`);
    const extra = used() - before;
    assert.ok(extra < 8 * 1024 * 1024, `the copy of a 64 MiB image took ${extra} bytes`);
    assert.equal(shiftedCopies(env).length, 1);
  });
});
