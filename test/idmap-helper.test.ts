import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IDMAP_HELPER_STATUS as STATUS } from '../src/snapshots/index.js';
import { busyboxTarball, DenEnv, lookupUser, REPO, scratchDir, TEST_USER, type UserInfo } from './harness.js';

/**
 * den-idmap (helpers/den-idmap/), the setuid helper that makes idmapped mounts for rootless users.
 * The suite builds the checkout's helper and its receiver (den-idmap-run) into a root-owned
 * directory, installs the helper setuid root there as setup-host.sh does, and runs both as real
 * unprivileged users: dentest with its /etc/subuid ranges, dentest-noids with none (setup-host.sh
 * makes both), and a uid without a passwd entry. The receiver runs a command in the mount it gets,
 * so the tests look at files through the mount, unattached.
 */
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HELPER_SRC = join(REPO, 'helpers', 'den-idmap');
const CFLAGS = [
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong',
  '-fPIE',
  '-pie',
];

interface Range {
  start: number;
  count: number;
}

/** A user's ranges in a subordinate id file, in file order. */
function rangesOf(user: UserInfo, file: string): Range[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length === 3 && (f[0] === user.name || f[0] === String(user.uid)))
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let helper: string;
let runner: string;
let user: UserInfo;
let subuids: Range[];
let subgids: Range[];

/** Runs argv as `who` with a clean environment (plus `env`). `uid` without a user: no passwd entry. */
function as(who: UserInfo | number, argv: string[], env: Record<string, string> = {}): Outcome {
  const become =
    typeof who === 'number'
      ? [`--reuid=${who}`, `--regid=${who}`, '--clear-groups']
      : [`--reuid=${who.uid}`, `--regid=${who.gid}`, '--init-groups'];
  const envArgs = Object.entries({ PATH, ...env }).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync('setpriv', [...become, '--', 'env', '-i', ...envArgs, ...argv], {
    encoding: 'utf8',
    cwd: '/',
    timeout: 30_000,
    maxBuffer: 16 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** den-idmap through its receiver, which runs `command` in the mount. */
function idmap(who: UserInfo | number, args: string[], command: string[] = ['true'], env = {}): Outcome {
  return as(who, [runner, helper, ...args, '--', ...command], env);
}

/** The arguments of a request whose maps are `uid` and `gid` (gid defaults to uid). */
function request(source: string, uid: string, gid = uid, ...more: string[]): string[] {
  return ['--uid-map', uid, '--gid-map', gid, '--source', source, ...more];
}

/** A refusal: the status of its class and one line on stderr that matches `message`. */
function assertRefused(r: Outcome, status: number, message: RegExp): void {
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, status, `status ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^den-idmap: /);
  assert.match(lines[0]!, message);
}

function assertOk(r: Outcome): void {
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 0, `status ${r.status}, stderr: ${r.stderr}`);
}

/** A directory made as root, then given to `owner`. */
function dirOf(path: string, owner: { uid: number; gid: number }, mode = 0o755): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  chownSync(path, owner.uid, owner.gid);
  return path;
}

function gcc(out: string, ...args: string[]): void {
  const r = spawnSync('gcc', [...CFLAGS, '-o', out, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gcc: ${r.stderr}`);
}

before(() => {
  user = lookupUser(TEST_USER);
  subuids = rangesOf(user, '/etc/subuid');
  subgids = rangesOf(user, '/etc/subgid');
  assert.ok(subuids.length >= 2 && subgids.length >= 2, `${TEST_USER} has two subordinate ranges (setup-host.sh)`);
  dir = scratchDir('den-idmap-');
  chmodSync(dir, 0o755);
  const bin = dirOf(join(dir, 'bin'), { uid: 0, gid: 0 });
  helper = join(bin, 'den-idmap');
  runner = join(bin, 'den-idmap-run');
  gcc(helper, join(HELPER_SRC, 'den-idmap.c'));
  gcc(runner, join(HELPER_SRC, 'den-idmap-run.c'));
  chmodSync(helper, 0o4755);
});

after(() => {
  spawnSync('umount', ['-l', join(dir, 'ramfs')]);
  rmSync(dir, { recursive: true, force: true });
});

describe('den-idmap: the mount the caller receives', () => {
  let src: string;
  let sub: Range;
  before(() => {
    sub = subuids[0]!;
    src = dirOf(join(dir, 'src'), user);
    writeFileSync(join(src, 'mine'), 'mine\n');
    chownSync(join(src, 'mine'), user.uid, user.gid);
    writeFileSync(join(src, 'sub5'), 'sub\n');
    chownSync(join(src, 'sub5'), sub.start + 5, subgids[0]!.start + 5);
    writeFileSync(join(src, 'roots'), 'root\n');
  });

  test('files show the owners of the map: own id, subordinate ids, and overflow for the rest', () => {
    const [u0, g0] = [subuids[1]!.start, subgids[1]!.start];
    const r = idmap(
      user,
      request(
        src,
        `${user.uid}:${u0}:1,${sub.start}:${u0 + 1}:100`,
        `${user.gid}:${g0}:1,${subgids[0]!.start}:${g0 + 1}:100`,
      ),
      ['stat', '-c', '%n %u %g', '.', 'mine', 'sub5', 'roots'],
    );
    assertOk(r);
    assert.equal(
      r.stdout,
      [`. ${u0} ${g0}`, `mine ${u0} ${g0}`, `sub5 ${u0 + 6} ${g0 + 6}`, 'roots 65534 65534', ''].join('\n'),
    );
    // The source itself is untouched.
    assert.equal(spawnSync('stat', ['-c', '%u', join(src, 'mine')], { encoding: 'utf8' }).stdout, `${user.uid}\n`);
  });

  test('a file written through the mount lands on disk with the reverse map', () => {
    // The caller writes as their own uid, which the map shows for the disk's first subordinate id.
    const u = subuids[0]!.start;
    const g = subgids[0]!.start;
    // w/ is owned on disk by that id, so the caller sees it as theirs and may write in it.
    dirOf(join(src, 'w'), { uid: u, gid: g });
    const r = idmap(
      user,
      request(src, `${u}:${user.uid}:1,${user.uid}:${u}:1`, `${g}:${user.gid}:1,${user.gid}:${g}:1`),
      ['sh', '-c', 'echo written > w/new && stat -c "%u %g" w w/new'],
    );
    assertOk(r);
    assert.equal(r.stdout, `${user.uid} ${user.gid}\n${user.uid} ${user.gid}\n`);
    assert.equal(spawnSync('stat', ['-c', '%u %g', join(src, 'w', 'new')], { encoding: 'utf8' }).stdout, `${u} ${g}\n`);
    rmSync(join(src, 'w'), { recursive: true });
  });

  test('--read-only: nothing can be written through the mount', () => {
    const u = subuids[0]!.start;
    const g = subgids[0]!.start;
    const r = idmap(user, request(src, `${u}:${user.uid}:1`, `${g}:${user.gid}:1`, '--read-only'), ['touch', 'nope']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Read-only file system/);
  });

  test('nosuid: a setuid file owned through the map does not change the euid', () => {
    // A copy of id(1) owned on disk by the first subordinate uid, setuid: run from the source's own
    // mount as root it would run as that uid; through the helper's mount it runs as the caller.
    copyFileSync('/usr/bin/id', join(src, 'suid-id'));
    chownSync(join(src, 'suid-id'), sub.start, subgids[0]!.start);
    chmodSync(join(src, 'suid-id'), 0o4755);
    const direct = as(user, [join(src, 'suid-id'), '-u']);
    assert.equal(direct.stdout, `${sub.start}\n`, 'without nosuid the setuid bit works (the test can fail)');
    const r = idmap(user, request(src, `${sub.start}:${subuids[1]!.start}:1`, `${user.gid}:${user.gid}:1`), [
      './suid-id',
      '-u',
    ]);
    assertOk(r);
    assert.equal(r.stdout, `${user.uid}\n`);
    rmSync(join(src, 'suid-id'));
  });

  test('nodev: a device node in the source cannot be opened through the mount', () => {
    const mk = spawnSync('mknod', ['-m', '0666', join(src, 'null'), 'c', '1', '3']);
    assert.equal(mk.status, 0);
    chownSync(join(src, 'null'), user.uid, user.gid);
    assert.equal(as(user, ['cat', join(src, 'null')]).status, 0, 'the device opens outside the mount');
    const r = idmap(user, request(src, `${user.uid}:${user.uid}:1`, `${user.gid}:${user.gid}:1`), ['cat', 'null']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Permission denied/);
    rmSync(join(src, 'null'));
  });

  test('a directory owned by one of the caller’s subordinate uids may be the source (the rootless store)', () => {
    const layer = dirOf(join(dir, 'layer'), { uid: sub.start, gid: subgids[0]!.start });
    const r = idmap(user, request(layer, `${sub.start}:${user.uid}:1`, `${subgids[0]!.start}:${user.gid}:1`), [
      'stat',
      '-c',
      '%u %g',
      '.',
    ]);
    assertOk(r);
    assert.equal(r.stdout, `${user.uid} ${user.gid}\n`);
  });

  test('a source closed to the caller as the map shows it (0700, seen as another id) still comes back', () => {
    // A layer's root is often 0700: the receiver cannot enter it, but the command gets it at fd 3,
    // which is what attaching it in the session needs.
    const closed = dirOf(join(dir, 'closed-src'), user, 0o700);
    const r = idmap(user, request(closed, `${user.uid}:${sub.start}:1`, `${user.gid}:${subgids[0]!.start}:1`), [
      'sh',
      '-c',
      'stat -L -c "%a %u" /proc/self/fd/3',
    ]);
    assertOk(r);
    assert.equal(r.stdout, `700 ${sub.start}\n`);
  });

  test('tmpfs (idmappable since 6.3) works', () => {
    const tmpfs = join(dir, 'tmpfs');
    mkdirSync(tmpfs);
    assert.equal(
      spawnSync('mount', ['-t', 'tmpfs', '-o', `uid=${user.uid},gid=${user.gid}`, 'tmpfs', tmpfs]).status,
      0,
    );
    try {
      assertOk(idmap(user, request(tmpfs, `${user.uid}:${subuids[0]!.start}:1`, `${user.gid}:${subgids[0]!.start}:1`)));
    } finally {
      spawnSync('umount', [tmpfs]);
    }
  });
});

describe('den-idmap refuses maps that name ids not the caller’s', () => {
  let src: string;
  before(() => {
    src = dirOf(join(dir, 'maps'), user);
  });
  const own = () => `${user.uid}:${user.uid}:1`;
  const ownGid = () => `${user.gid}:${user.gid}:1`;

  test('a whole range, its first and last ids, and ranges side by side are accepted', () => {
    for (const r of subuids) {
      assertOk(idmap(user, request(src, `${r.start}:${r.start}:${r.count}`, ownGid())));
      assertOk(idmap(user, request(src, `${r.start}:${r.start + r.count - 1}:1`, ownGid())));
    }
    const [a, b] = subuids as [Range, Range];
    assertOk(
      idmap(
        user,
        request(src, `${a.start}:${b.start}:${Math.min(a.count, b.count)},${user.uid}:${user.uid}:1`, ownGid()),
      ),
    );
  });

  for (const side of ['on-disk', 'seen'] as const) {
    test(`uid map, ${side} side: the id before a range, the id after it, one past the caller’s uid`, () => {
      const bad = (first: number, count = 1) => {
        const extent =
          side === 'on-disk' ? `${first}:${subuids[0]!.start}:${count}` : `${subuids[0]!.start}:${first}:${count}`;
        assertRefused(
          idmap(user, request(src, extent, ownGid())),
          STATUS.mapNotYours,
          new RegExp(`--uid-map: extent 1: ${side} ids`),
        );
      };
      for (const r of subuids) {
        bad(r.start - 1);
        bad(r.start + r.count);
        // A run that starts inside the range and ends one past it.
        if (side === 'on-disk') bad(r.start, r.count + 1);
      }
      bad(user.uid + 1);
      bad(0);
      bad(4294967294);
    });

    test(`gid map, ${side} side: the ids around each range are refused`, () => {
      for (const r of subgids) {
        for (const first of [r.start - 1, r.start + r.count]) {
          const extent = side === 'on-disk' ? `${first}:${subgids[0]!.start}:1` : `${subgids[0]!.start}:${first}:1`;
          assertRefused(
            idmap(user, request(src, own(), extent)),
            STATUS.mapNotYours,
            new RegExp(`--gid-map: extent 1: ${side} ids ${first}-${first}`),
          );
        }
      }
    });
  }

  test('container root is never host root: seen id 0 is refused', () => {
    assertRefused(idmap(user, request(src, `${user.uid}:0:1`, ownGid())), STATUS.mapNotYours, /seen ids 0-0/);
  });

  test('overlapping extents, on either side, are refused', () => {
    const s = subuids[1]!.start;
    for (const map of [
      `${s}:${s}:10,${s + 9}:${s + 100}:1`, // on disk
      `${s}:${s}:10,${s + 100}:${s + 5}:1`, // seen
      `${user.uid}:${s}:1,${user.uid}:${s + 1}:1`,
    ]) {
      assertRefused(idmap(user, request(src, map, ownGid())), STATUS.mapMalformed, /extents 1 and 2 overlap/);
    }
  });

  test('341 extents are refused (the kernel’s limit), and so is a map longer than a page', () => {
    const s = subuids[1]!.start;
    const extents = (n: number) => Array.from({ length: n }, (_, i) => `${s + 2 * i}:${s + 2 * i + 1}:1`).join(',');
    assertRefused(idmap(user, request(src, extents(341), ownGid())), STATUS.mapMalformed, /more than 340 extents/);
    // The kernel reads uid_map in one write of less than a page: with six-digit ids a line is
    // "200000 200001 1\n", 16 bytes, so 255 extents fit and 256 do not.
    assert.ok(String(s + 520).length === 6, 'six-digit ids');
    assertOk(idmap(user, request(src, extents(255), ownGid())));
    assertRefused(
      idmap(user, request(src, extents(256), ownGid())),
      STATUS.mapMalformed,
      /256 extents take more than the kernel reads in one write of uid_map \(4095 bytes\)/,
    );
  });

  test('a count of 0 and a run past the last id are refused', () => {
    assertRefused(idmap(user, request(src, `${user.uid}:${user.uid}:0`, ownGid())), STATUS.mapMalformed, /count 0/);
    assertRefused(idmap(user, request(src, `4294967294:${user.uid}:2`, ownGid())), STATUS.mapMalformed, /runs past/);
  });

  test('a caller without subordinate ids may map only their own uid and gid', () => {
    let noids: UserInfo;
    try {
      noids = lookupUser(`${TEST_USER}-noids`);
    } catch {
      assert.fail(`user ${TEST_USER}-noids is missing: run scripts/setup-host.sh --test-user ${TEST_USER}`);
    }
    assert.deepEqual(rangesOf(noids, '/etc/subuid'), [], `${noids.name} has no /etc/subuid line`);
    const theirs = dirOf(join(dir, 'noids'), noids);
    const ownMap = `${noids.uid}:${noids.uid}:1`;
    assertOk(idmap(noids, request(theirs, ownMap, `${noids.gid}:${noids.gid}:1`)));
    assertRefused(
      idmap(noids, request(theirs, `${noids.uid}:${subuids[0]!.start}:1`, `${noids.gid}:${noids.gid}:1`)),
      STATUS.mapNotYours,
      /your ranges in \/etc\/subuid, where you have none/,
    );
    // Another user's ranges are not theirs either.
    assertRefused(
      idmap(noids, request(theirs, ownMap, `${subgids[0]!.start}:${noids.gid}:1`)),
      STATUS.mapNotYours,
      /--gid-map.*where you have none/,
    );
  });

  test('a uid with no passwd entry is matched by number and has only its own id', () => {
    const uid = 4242;
    assert.ok(!readFileSync('/etc/passwd', 'utf8').includes(`:${uid}:`));
    const theirs = dirOf(join(dir, 'nobody-known'), { uid, gid: uid });
    assertOk(idmap(uid, request(theirs, `${uid}:${uid}:1`, `${uid}:${uid}:1`)));
    assertRefused(
      idmap(uid, request(theirs, `${uid}:${subuids[0]!.start}:1`, `${uid}:${uid}:1`)),
      STATUS.mapNotYours,
      /none/,
    );
  });
});

describe('den-idmap refuses sources that are not the caller’s or not reached plainly', () => {
  const maps = () => ['--uid-map', `${user.uid}:${user.uid}:1`, '--gid-map', `${user.gid}:${user.gid}:1`];
  const refused = (source: string, status: number, message: RegExp) =>
    assertRefused(idmap(user, [...maps(), '--source', source]), status, message);

  test('a directory owned by root or by another user', () => {
    refused(dirOf(join(dir, 'roots'), { uid: 0, gid: 0 }), STATUS.sourceOwner, /owned by uid 0, neither you/);
    refused(dirOf(join(dir, 'others'), { uid: 4243, gid: 4243 }), STATUS.sourceOwner, /owned by uid 4243/);
    refused('/tmp', STATUS.sourceOwner, /owned by uid 0/);
  });

  test('a symbolic link at any component, the last included', () => {
    // dir/c0/c1/c2/leaf, all the caller's; each variant replaces one component with a link to
    // the same place, so that following it would succeed.
    const base = dirOf(join(dir, 'links'), user);
    const real = dirOf(join(base, 'real', 'c1', 'c2', 'leaf'), user);
    const comps = ['c0', 'c1', 'c2', 'leaf'];
    for (let i = 0; i < comps.length; i++) {
      const root = dirOf(join(base, `v${i}`), user);
      let at = root;
      for (let j = 0; j < comps.length; j++) {
        const target = join(base, 'real', ...comps.slice(1, j + 1));
        const path = join(at, comps[j]!);
        if (j === i) {
          symlinkSync(j === 0 ? join(base, 'real') : target, path);
          break;
        }
        dirOf(path, user);
        at = path;
      }
      const source = join(root, ...comps);
      assert.equal(as(user, ['test', '-d', source]).status, 0, `${source} resolves through the link`);
      refused(source, STATUS.sourcePath, /a component is a symbolic link/);
    }
    assertOk(idmap(user, [...maps(), '--source', real]));
    // A magic link of /proc, to a directory the caller owns.
    refused(`/proc/1/root${real}`, STATUS.sourcePath, /symbolic link|Permission denied/);
  });

  test('`..`, `.`, empty components, a relative path and / itself', () => {
    const mine = dirOf(join(dir, 'dots', 'mine'), user);
    for (const source of [
      `${mine}/..`,
      `${dir}/dots/../dots/mine`,
      `${mine}/.`,
      `${dir}/./dots/mine`,
      `${dir}//dots/mine`,
      `${mine}/`,
      '/',
    ]) {
      refused(source, STATUS.sourcePath, /an empty, `\.` or `\.\.` component/);
    }
    refused('dots/mine', STATUS.sourcePath, /must be an absolute path/);
  });

  test('a directory the caller cannot reach (lookups run with the caller’s permissions)', () => {
    const closed = dirOf(join(dir, 'closed'), { uid: 0, gid: 0 }, 0o700);
    const inside = dirOf(join(closed, 'mine'), user);
    refused(inside, STATUS.sourcePath, /Permission denied/);
    refused(join(dir, 'no-such-dir'), STATUS.sourcePath, /No such file or directory/);
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    chownSync(file, user.uid, user.gid);
    refused(file, STATUS.sourcePath, /Not a directory/);
  });

  test('a component swapped for a symbolic link during the call is never followed (loop)', async () => {
    // race/p is the caller's real directory (leaf says "mine") or, for a moment, a link to decoy/
    // (leaf says "decoy", also the caller's, so only the refusal of links protects). A swapper
    // of the caller's flips it as fast as it can while the helper runs again and again.
    const race = dirOf(join(dir, 'race'), user);
    for (const [name, marker] of [
      ['real', 'mine'],
      ['decoy', 'decoy'],
    ] as const) {
      dirOf(join(race, name, 'leaf'), user);
      writeFileSync(join(race, name, 'leaf', 'marker'), marker);
    }
    spawnSync('setpriv', [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      '--init-groups',
      '--',
      'sh',
      '-c',
      `cd ${race} && mv real p`,
    ]);
    const swapper = spawn(
      'setpriv',
      [
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        '--init-groups',
        '--',
        'sh',
        '-c',
        `cd ${race} && while :; do mv p real; ln -s decoy p; rm p; mv real p; done`,
      ],
      { stdio: 'ignore' },
    );
    const seen = new Map<string, number>();
    try {
      for (let i = 0; i < 150; i++) {
        const r = idmap(user, [...maps(), '--source', join(race, 'p', 'leaf')], ['cat', 'marker']);
        assert.equal(r.signal, null);
        const key = r.status === 0 ? `ok ${r.stdout}` : `status ${r.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        assert.ok(r.status === 0 || r.status === STATUS.sourcePath, `status ${r.status}: ${r.stderr}`);
        assert.notEqual(r.stdout, 'decoy', 'the helper followed the swapped-in link');
      }
    } finally {
      swapper.kill('SIGKILL');
      await new Promise((resolve) => swapper.once('exit', resolve));
    }
    // The race happened: some calls met the link or the gap, some the real directory.
    assert.ok((seen.get(`status ${STATUS.sourcePath}`) ?? 0) > 0, JSON.stringify([...seen]));
    assert.ok((seen.get('ok mine') ?? 0) > 0, JSON.stringify([...seen]));
  });

  test('file systems that cannot be idmapped: procfs and ramfs', () => {
    // The caller's own /proc/PID directory: theirs, but procfs refuses idmapped mounts.
    const r = as(user, ['sh', '-c', `exec ${runner} ${helper} ${maps().join(' ')} --source /proc/$$ -- true`]);
    assertRefused(r, STATUS.notIdmappable, /cannot be idmapped here \(Invalid argument/);
    const ramfs = join(dir, 'ramfs');
    mkdirSync(ramfs);
    assert.equal(spawnSync('mount', ['-t', 'ramfs', 'ramfs', ramfs]).status, 0);
    chownSync(ramfs, user.uid, user.gid);
    chmodSync(ramfs, 0o755);
    refused(ramfs, STATUS.notIdmappable, /cannot be idmapped here/);
  });

  test('a FUSE mount of the caller’s: FUSE answers no process whose saved uid is root', () => {
    const base = dirOf(join(dir, 'fuse'), user);
    const lower = dirOf(join(base, 'lower'), user);
    const mnt = dirOf(join(base, 'mnt'), user);
    const r = as(user, [
      'sh',
      '-c',
      `fuse-overlayfs -o lowerdir=${lower} ${mnt} || exit 99; ${runner} ${helper} ${maps().join(' ')} --source ${mnt} -- true; s=$?; fusermount3 -u ${mnt}; exit $s`,
    ]);
    assertRefused(r, STATUS.sourcePath, /cannot stat it: Permission denied/);
  });
});

describe('den-idmap: arguments, file descriptors and environment', () => {
  let src: string;
  before(() => {
    src = dirOf(join(dir, 'args'), user);
  });
  const good = () => request(src, `${user.uid}:${user.uid}:1`, `${user.gid}:${user.gid}:1`);

  test('garbage, truncated, repeated and unknown arguments', () => {
    const cases: [string[], RegExp][] = [
      [[], /usage: den-idmap/],
      [[...good(), '--bogus'], /unknown argument/],
      [[...good(), '--source'], /--source given twice|needs a value/],
      [[...good(), '--read-only', '--read-only'], /--read-only given twice/],
      [[...good().slice(0, -1)], /usage|needs a value/],
      [request(src, '1001:1001'), /extent 1 is not ON_DISK:SEEN:COUNT/],
      [request(src, '1001:1001:1:'), /extents are separated by commas/],
      [request(src, '1001:1001:1,'), /extent 2 is not/],
      [request(src, '-1:1001:1'), /extent 1 is not/],
      [request(src, '01001:1001:1'), /extent 1 is not/],
      [request(src, ' 1001:1001:1'), /extent 1 is not/],
      [request(src, '1001:1001:+1'), /extent 1 is not/],
      [request(src, '0x3e9:1001:1'), /extent 1 is not/],
      [request(src, '4294967295:1001:1'), /extent 1 is not/],
      [request(src, '99999999999999999999999:1001:1'), /extent 1 is not/],
      [request(src, '1001:1001:1;1:1:1'), /separated by commas/],
      [request(src, ''), /extent 1 is not/],
    ];
    for (const [args, message] of cases) {
      assertRefused(idmap(user, args), STATUS.usage, message);
    }
  });

  test('huge arguments and too many of them', () => {
    assertRefused(idmap(user, request(src, '1'.repeat(16385))), STATUS.usage, /longer than 16384 bytes/);
    assertRefused(idmap(user, [...good(), 'x'.repeat(100_000)]), STATUS.usage, /longer than 16384 bytes|usage/);
    assertRefused(idmap(user, [...good(), ...Array<string>(10).fill('--read-only')]), STATUS.usage, /usage/);
    assertRefused(
      idmap(user, [...good().slice(0, 4), '--source', `/${'a/'.repeat(3000)}b`]),
      STATUS.sourcePath,
      /longer than/,
    );
  });

  test('--fd must be an open unix socket other than 0-2', () => {
    const direct = (fd: string, stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe']) => {
      const r = spawnSync(
        'setpriv',
        [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', helper, '--fd', fd, ...good()],
        { encoding: 'utf8', stdio, env: { PATH } },
      );
      return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    assertRefused(direct('2'), STATUS.handoff, /must not be stdin, stdout or stderr/);
    assertRefused(direct('77'), STATUS.handoff, /not an open unix socket/);
    const file = openSync(join(dir, 'not-a-socket'), 'w');
    try {
      assertRefused(direct('3', ['ignore', 'pipe', 'pipe', file]), STATUS.handoff, /not an open unix socket/);
    } finally {
      closeSync(file);
    }
    assertRefused(direct('nope'), STATUS.usage, /--fd: not a file descriptor number/);
  });

  test('closed stdin, stdout and stderr: the helper opens /dev/null in their place', () => {
    const r = as(user, ['sh', '-c', `exec 0<&- 1>&- 2>&- ${runner} ${helper} --bogus -- true`]);
    assert.equal(r.status, STATUS.usage);
    const okay = as(user, ['sh', '-c', `exec 0<&- 1>&- 2>&- ${runner} ${helper} ${good().join(' ')} -- true`]);
    assert.equal(okay.status, 0);
  });

  test('LD_PRELOAD, LD_LIBRARY_PATH and friends do not reach the helper', () => {
    // A library that announces itself when loaded; it does so for the receiver (not setuid), so
    // the environment is right and the test can fail.
    const lib = join(dir, 'bin', 'announce.so');
    const c = join(dir, 'announce.c');
    writeFileSync(
      c,
      [
        '#define _GNU_SOURCE',
        '#include <errno.h>',
        '#include <stdio.h>',
        '__attribute__((constructor)) static void announce(void) {',
        '  fprintf(stderr, "PRELOADED in %s\\n", program_invocation_short_name);',
        '}',
      ].join('\n'),
    );
    const r0 = spawnSync('gcc', ['-shared', '-fPIC', '-o', lib, c], { encoding: 'utf8' });
    assert.equal(r0.status, 0, r0.stderr);
    const env = {
      LD_PRELOAD: lib,
      LD_LIBRARY_PATH: join(dir, 'bin'),
      LD_AUDIT: lib,
      GCONV_PATH: dir,
      LOCPATH: dir,
      MALLOC_CHECK_: '3',
      TZ: `${dir}/zone`,
      NLSPATH: `${dir}/%N`,
      HOSTALIASES: `${dir}/hosts`,
      LANG: 'xx_XX.UTF-8',
    };
    // The control: the same helper, not setuid, loads it.
    const plain = join(dirOf(join(dir, 'plain'), { uid: 0, gid: 0 }), 'den-idmap');
    copyFileSync(helper, plain);
    chmodSync(plain, 0o755);
    const control = as(user, [runner, plain, '--bogus', '--', 'true'], env);
    assert.match(control.stderr, /PRELOADED in den-idmap/, 'the library loads into the helper when it is not setuid');
    const r = idmap(user, [...good(), '--bogus'], ['true'], env);
    assert.equal(r.status, STATUS.usage);
    assert.match(r.stderr, /PRELOADED in den-idmap-run/, 'the receiver (not setuid) loaded it');
    assert.doesNotMatch(r.stderr, /PRELOADED in den-idmap\n/);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('den-idmap:')).length, 1);
    // And a good request still works under that environment.
    assertOk(idmap(user, good(), ['true'], env));
  });

  test('argument parsing, fuzzed with a fixed seed: always a known status and one line', () => {
    const seed = Number(process.env.DEN_FUZZ_SEED ?? 1616);
    let s = seed >>> 0;
    // mulberry32: small, seeded, good enough to pick tokens.
    const rand = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const ids = [0, 1, user.uid, user.gid, subuids[0]!.start, subuids[1]!.start, 4294967294, 4294967295, 65534];
    const number = () =>
      pick([
        () => String(pick(ids)),
        () => String(Math.floor(rand() * 2 ** 33)),
        () => '9'.repeat(1 + Math.floor(rand() * 30)),
        () => pick(['', '-1', '00', '+5', ' 7', '1e3', '0x10']),
      ])();
    const map = () =>
      Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
        [number(), number(), number()].slice(0, 1 + Math.floor(rand() * 3.3)).join(pick([':', ':', ':', ';', ''])),
      ).join(pick([',', ',', ',,', ' ']));
    const mutate = (text: string) => {
      const chars = [...text];
      const n = Math.floor(rand() * 3);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(rand() * (chars.length + 1));
        const op = rand();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, String.fromCharCode(1 + Math.floor(rand() * 255)));
        else chars.splice(at, 0, pick([':', ',', '/', '..', '\u00e9', '\u{1F600}']));
      }
      return chars.join('');
    };
    const flags = ['--uid-map', '--gid-map', '--source', '--read-only', '--fd', '--', '-', '--uid-map=1:1:1', 'x'];
    const sources = [src, '/', `${src}/..`, '/proc/self', '/nonexistent', '', 'relative', `${src}/`];
    const known = new Set<number>(Object.values(STATUS));
    for (let i = 0; i < 200; i++) {
      let args: string[];
      if (rand() < 0.5) {
        // A near-valid request with one part mutated.
        args = request(pick(sources), rand() < 0.5 ? map() : `${user.uid}:${user.uid}:1`, map());
        const k = Math.floor(rand() * args.length);
        args[k] = mutate(args[k]!);
        if (rand() < 0.2) args.splice(Math.floor(rand() * args.length), 1);
      } else {
        args = Array.from({ length: Math.floor(rand() * 12) }, () =>
          pick([() => pick(flags), map, () => pick(sources), () => mutate(pick(flags))])(),
        );
      }
      args = args.filter((a) => a !== '--'); // the receiver's separator
      const r = idmap(user, args);
      const replay = `seed ${seed}, case ${i}: ${JSON.stringify(args)}`;
      assert.equal(r.signal, null, replay);
      assert.ok(
        r.status !== null && known.has(r.status) && r.status !== STATUS.system,
        `${replay}: status ${r.status} ${r.stderr}`,
      );
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, r.status === 0 ? 0 : 1, `${replay}: ${r.stderr}`);
      if (r.status !== 0) assert.match(lines[0]!, /^den-idmap: [\x20-\x7e]+$/, replay);
    }
  });
});

describe('den with den-idmap: rootless auto containers through idmapped mounts (DEN_SHIFT unset)', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => env.cleanup());

  test('den chooses the helper; two auto containers see the image’s owners, disjoint ranges, read-only idmapped layers, nothing copied', () => {
    const check = env.den(['system', 'check']);
    assert.match(check.stdout, /userns-shift +helper \(\/usr\/local\/libexec\/den\/den-idmap makes idmapped mounts/);
    const before = spawnSync('du', ['-sb', env.dataDir], { encoding: 'utf8' }).stdout.split('\t')[0];
    const started = ['a', 'b'].map((n) =>
      env.den(['run', '-d', '--name', n, '--userns=auto', '--network', 'none', 'busybox', 'sleep', '60']),
    );
    for (const s of started) assert.equal(s.status, 0, s.stderr);
    try {
      // Each container's layer is an ext4 mount in the session (an idmapped bind), not FUSE.
      const pid = env.sessionPid();
      const lowers = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`${env.dataDir}/containers/`) && / \/[^ ]*\/lower\/0 /.test(l));
      assert.equal(lowers.length, 2, lowers.join('\n'));
      for (const l of lowers) assert.match(l, / ro,nosuid,nodev,[a-z,]*idmapped - ext4 /, l);
      const views = ['a', 'b'].map((n) => {
        const r = env.den([
          'exec',
          n,
          'sh',
          '-c',
          'head -n 1 /proc/self/uid_map; stat -c "%u:%g" /bin/busybox /home/user',
        ]);
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim().split('\n');
      });
      const range = (line: string) => line.trim().split(/\s+/).map(Number) as [number, number, number];
      const [, sa, na] = range(views[0]![0]!);
      const [, sb, nb] = range(views[1]![0]!);
      assert.ok(sa + na <= sb || sb + nb <= sa, `ranges overlap: ${views[0]![0]} and ${views[1]![0]}`);
      for (const v of views) assert.deepEqual(v.slice(1), ['0:0', '1000:1000'], 'the image owners are seen unshifted');
      assert.ok(!existsSync(join(env.dataDir, 'shifted')), 'no shifted copy');
      const after = spawnSync('du', ['-sb', env.dataDir], { encoding: 'utf8' }).stdout.split('\t')[0];
      // Two containers' own directories (bundles, upper dirs): kilobytes, not the image again.
      assert.ok(Number(after) - Number(before) < 1 << 20, `den grew by ${Number(after) - Number(before)} bytes`);
    } finally {
      env.den(['rm', '-f', 'a', 'b']);
    }
    assert.deepEqual(env.mountsUnderRoot(), []);
  });

  test('the root of one range cannot read what the root of another keeps private; a bind of yours is theirs to write', () => {
    const shared = join(env.root, 'ranges-shared');
    mkdirSync(shared);
    chownSync(shared, env.user.uid, env.user.gid);
    chmodSync(shared, 0o777);
    // As the host sees them (idmap=false): each root writes as its own range.
    const plain = ['--mount', `type=bind,source=${shared},target=/s,idmap=false`];
    // The first keeps its range while the second runs (a range is handed out again once freed).
    const one = env.den(['run', '-d', '--name', 'holder', '--userns=auto', ...plain, 'busybox', 'sleep', '60']);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(env.den(['exec', 'holder', 'sh', '-c', 'echo secret > /s/p; chmod 600 /s/p']).status, 0);
    const two = env.den(['run', '--rm', '--userns=auto', ...plain, 'busybox', 'cat', '/s/p']);
    assert.notEqual(two.status, 0, 'another range cannot read it');
    assert.match(two.stderr, /Permission denied/);
    // den's default idmaps a bind of your directory: its root is you there, and what it writes is yours.
    const mine = env.den([
      'run',
      '--rm',
      '--userns=auto',
      '-v',
      `${shared}:/s`,
      'busybox',
      'sh',
      '-c',
      'echo x > /s/mine; stat -c %u /s/mine',
    ]);
    assert.equal(mine.status, 0, mine.stderr);
    assert.equal(mine.stdout, '0\n');
    assert.equal(statSync(join(shared, 'mine')).uid, env.user.uid);
    assert.equal(env.den(['rm', '-f', 'holder']).status, 0);
    assert.deepEqual(env.mountsUnderRoot(), []);
  });
});
