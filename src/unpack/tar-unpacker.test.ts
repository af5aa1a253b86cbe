import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  createReadStream,
  ftruncateSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pack, type Header } from 'tar-stream';
import { DenError } from '../common/errors.js';
import { lgetxattr, lsetxattr } from '../common/libc.js';
import { END, chunked, paxEntry, rawEntry } from './tar-fixture.js';
import { decompressor, unpackLayer, type UnpackOptions } from './index.js';

/** Layers carry arbitrary owners: unpacking them needs root with every id mapped (not `unshare -r`). */
const allIds =
  process.getuid?.() === 0 && /^\s*0\s+0\s+4294967295\s*$/m.test(readFileSync('/proc/self/uid_map', 'utf8'));
const skip = allIds ? false : 'unpacking sets arbitrary file owners: run the tests as root';

const base = mkdtempSync(join(tmpdir(), 'den-unpack-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

type Spec = Partial<Header> & { name: string; content?: string };

/** A tar archive written by tar-stream, an implementation other than the one under test. */
async function tarOf(entries: Spec[]): Promise<Buffer> {
  const p = pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of p) out.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    const type = header.type ?? 'file';
    const h = { mtime: new Date(1_600_000_000_000), ...header, type };
    if (type === 'file') p.entry(h, content ?? '');
    else p.entry(h);
  }
  p.finalize();
  await done;
  return Buffer.concat(out);
}

interface Workspace {
  dir: string;
  dest: string;
  outside: string;
  sentinel: string;
}

/** A case directory holding dest (not yet created) and, beside it, a directory no unpack may touch. */
function workspace(): Workspace {
  const dir = mkdtempSync(join(base, 'case-'));
  const outside = join(dir, 'outside');
  mkdirSync(outside, { mode: 0o755 });
  const sentinel = join(outside, 'sentinel');
  writeFileSync(sentinel, 'keep', { mode: 0o644 });
  return { dir, dest: join(dir, 'dest'), outside, sentinel };
}

function assertOutsideUntouched(ws: Workspace): void {
  assert.deepEqual(readdirSync(ws.dir).sort(), ['dest', 'outside'], 'nothing may appear beside dest');
  assert.deepEqual(readdirSync(ws.outside), ['sentinel']);
  assert.equal(readFileSync(ws.sentinel, 'utf8'), 'keep');
  const st = statSync(ws.sentinel);
  assert.equal(st.mode & 0o7777, 0o644);
  assert.equal(st.uid, process.getuid?.());
  assert.equal(statSync(ws.outside).mode & 0o7777, 0o755);
}

async function unpack(archive: Buffer, dest: string, options: Partial<UnpackOptions> = {}, sizes?: number[]) {
  const warnings: string[] = [];
  const stats = await unpackLayer(chunked(archive, sizes), dest, {
    canMknod: true,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { stats, warnings };
}

async function unpackStream(input: NodeJS.ReadableStream, dest: string, options: Partial<UnpackOptions> = {}) {
  const warnings: string[] = [];
  const stats = await unpackLayer(input, dest, { canMknod: true, onWarning: (m) => warnings.push(m), ...options });
  return { stats, warnings };
}

async function refused(archive: Buffer, dest: string, options: Partial<UnpackOptions> = {}): Promise<DenError> {
  try {
    await unpack(archive, dest, options);
  } catch (e) {
    assert.ok(e instanceof DenError, `not a DenError: ${String(e)}`);
    return e;
  }
  assert.fail('the layer was accepted');
}

const xattr = (path: string, name: string): string | undefined => lgetxattr(Buffer.from(path), name)?.toString();
const isWhiteout = (path: string): boolean => {
  const st = lstatSync(path);
  return st.isCharacterDevice() && st.rdev === 0;
};
const mtime = (path: string): number => lstatSync(path).mtimeMs / 1000;
const T = 1_600_000_000;

test('unpacks files, modes, owners, links, long names, times and xattrs', { skip }, async () => {
  const ws = workspace();
  const longFile = 'f'.repeat(150);
  const deep = `${'deep/'.repeat(30)}leaf`;
  const archive = await tarOf([
    { name: 'usr/', type: 'directory', mode: 0o755, mtime: new Date((T + 1) * 1000) },
    { name: 'usr/bin/', type: 'directory', mode: 0o755, mtime: new Date((T + 2) * 1000) },
    { name: 'usr/bin/su', mode: 0o4755, uid: 1234, gid: 4321, content: '#!/bin/sh\n', mtime: new Date((T + 3) * 1000) },
    { name: 'usr/bin/wall', mode: 0o2755, gid: 5, content: 'w' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'usr/bin/sh', type: 'symlink', linkname: 'dash', uid: 1234, gid: 4321, mtime: new Date((T + 4) * 1000) },
    { name: 'usr/bin/dash', mode: 0o755, content: 'dash'.repeat(5000) },
    { name: 'usr/bin/hard', type: 'link', linkname: 'usr/bin/dash' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'lib/libc.so', content: 'libc' },
    { name: 'abs', type: 'symlink', linkname: '/usr' },
    { name: 'abs/through-absolute', content: 'in scope' },
    { name: `usr/${longFile}`, content: 'long' },
    { name: deep, content: 'deep' },
    { name: 'xattr', content: 'x', pax: { 'SCHILY.xattr.user.foo': 'bar' } },
    { name: 'big-owner', content: '', pax: { uid: '3000000', gid: '70000' } },
    { name: 'pipe', type: 'fifo', mode: 0o600 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 },
    { name: './', type: 'directory', mode: 0o755 },
  ]);
  // Odd chunk sizes put every header and data boundary in the middle of a chunk somewhere.
  const { stats, warnings } = await unpack(archive, ws.dest, {}, [1, 333, 4096, 7]);
  const p = (rel: string): string => join(ws.dest, rel);

  assert.deepEqual(warnings, []);
  assert.deepEqual(stats, {
    entries: 20,
    bytes: 10 + 1 + 20000 + 4 + 8 + 4 + 4 + 1,
    maxUid: 3_000_000,
    maxGid: 70_000,
  });

  const su = lstatSync(p('usr/bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755, 'setuid survives the chown');
  assert.deepEqual([su.uid, su.gid], [1234, 4321]);
  assert.equal(su.mtimeMs, (T + 3) * 1000);
  assert.equal(readFileSync(p('usr/bin/su'), 'utf8'), '#!/bin/sh\n');
  assert.equal(lstatSync(p('usr/bin/wall')).mode & 0o7777, 0o2755);
  assert.equal(lstatSync(p('tmp')).mode & 0o7777, 0o1777);

  const sh = lstatSync(p('usr/bin/sh'));
  assert.ok(sh.isSymbolicLink());
  assert.equal(readlinkSync(p('usr/bin/sh')), 'dash');
  assert.deepEqual([sh.uid, sh.gid, sh.mtimeMs], [1234, 4321, (T + 4) * 1000]);

  assert.equal(lstatSync(p('usr/bin/hard')).ino, lstatSync(p('usr/bin/dash')).ino);
  assert.equal(lstatSync(p('usr/bin/dash')).nlink, 2);
  assert.equal(readFileSync(p('usr/bin/hard'), 'utf8'), 'dash'.repeat(5000));

  assert.equal(readFileSync(p('usr/lib/libc.so'), 'utf8'), 'libc', 'lib/x goes through lib -> usr/lib');
  assert.ok(lstatSync(p('lib')).isSymbolicLink());
  assert.equal(readFileSync(p('usr/through-absolute'), 'utf8'), 'in scope', '/usr is the layer root /usr');

  assert.equal(readFileSync(p(`usr/${longFile}`), 'utf8'), 'long');
  assert.equal(readFileSync(p(deep), 'utf8'), 'deep');
  assert.equal(xattr(p('xattr'), 'user.foo'), 'bar');
  assert.deepEqual([lstatSync(p('big-owner')).uid, lstatSync(p('big-owner')).gid], [3_000_000, 70_000]);

  assert.ok(lstatSync(p('pipe')).isFIFO());
  const nul = lstatSync(p('dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  assert.equal(nul.mode & 0o7777, 0o666);
  assert.ok(lstatSync(p('dev/loop0')).isBlockDevice());

  // Directory times are set last: writing usr/bin/* after usr/bin/ did not disturb them.
  assert.equal(mtime(p('usr')), T + 1);
  assert.equal(mtime(p('usr/bin')), T + 2);
  assert.equal(mtime(ws.dest), T, 'the ./ entry applies to the root');
  assertOutsideUntouched(ws);
});

test('binary xattrs arrive byte for byte: security.capability with CAP_SETUID and CAP_SETGID', { skip }, async () => {
  const ws = workspace();
  // VFS_CAP_REVISION_2, permitted = CAP_SETGID | CAP_SETUID (0xc0): bytes that are not UTF-8.
  const capability = Buffer.from([1, 0, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const name = Buffer.from('bin/caf\u00e9', 'utf8');
  const archive = Buffer.concat([
    paxEntry([
      ['path', name],
      ['SCHILY.xattr.security.capability', capability],
    ]),
    rawEntry({ name: 'ignored', mode: 0o755, uid: 1234 }, 'x'),
    rawEntry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `gnu/${'n'.repeat(200)}\0`),
    rawEntry({ name: 'truncated-name', format: 'gnu' }, 'gnu'),
    END,
  ]);
  await unpack(archive, ws.dest);
  const path = join(ws.dest, 'bin/caf\u00e9');
  assert.deepEqual(lgetxattr(Buffer.from(path), 'security.capability'), capability, 'set after the chown');
  assert.equal(lstatSync(path).uid, 1234);
  assert.equal(readFileSync(join(ws.dest, `gnu/${'n'.repeat(200)}`), 'utf8'), 'gnu');
});

test('times land to the nanosecond: files, directories, symlinks, before 1970 too', { skip }, async () => {
  const ws = workspace();
  const archive = Buffer.concat([
    paxEntry([['mtime', '1700000000.123456789']]),
    rawEntry({ name: 'd/', typeflag: '5', mode: 0o755 }),
    paxEntry([
      ['mtime', '1700000001.000000001'],
      ['atime', '1600000000.5'],
    ]),
    rawEntry({ name: 'd/f' }, 'x'),
    paxEntry([['mtime', '-1.25']]),
    rawEntry({ name: 'd/l', typeflag: '2', linkname: 'f' }),
    END,
  ]);
  await unpack(archive, ws.dest);
  const ns = (rel: string): [bigint, bigint] => {
    const st = lstatSync(join(ws.dest, rel), { bigint: true });
    return [st.mtimeNs, st.atimeNs];
  };
  assert.deepEqual(ns('d'), [1_700_000_000_123_456_789n, 1_700_000_000_123_456_789n]);
  assert.deepEqual(ns('d/f'), [1_700_000_001_000_000_001n, 1_600_000_000_500_000_000n]);
  assert.deepEqual(ns('d/l')[0], -1_250_000_000n);
});

test('a name that is not UTF-8 is created with exactly its bytes', { skip }, async () => {
  const ws = workspace();
  const latin1Name = Buffer.from([0x66, 0xe9, 0x65]); // "fée" in ISO-8859-1
  await unpack(Buffer.concat([rawEntry({ name: latin1Name }, 'x'), END]), ws.dest);
  assert.deepEqual(readdirSync(ws.dest, { encoding: 'buffer' }), [latin1Name]);
});

test('OCI whiteouts become overlay whiteouts and opaque directories', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'etc/.wh.passwd' }, // in a directory this layer does not otherwise mention
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq' },
    { name: 'opq/kept', content: 'k' },
    { name: 'redone/.wh.d' }, // the lower d is deleted, then this layer makes a new d
    { name: 'redone/d/', type: 'directory' },
    { name: 'mine/', type: 'directory' },
    { name: 'mine/file', content: 'f' },
    { name: 'mine/dir/', type: 'directory' },
    { name: 'mine/.wh.file' }, // whiteouts apply to lower layers only: this layer's file stays
    { name: 'mine/.wh.dir' }, // ... and this layer's dir stays, hiding the lower one: opaque
    { name: '.wh..wh.plnk' }, // aufs bookkeeping
    { name: 'esc/', type: 'directory', pax: { 'SCHILY.xattr.user.overlay.opaque': 'y' } },
  ]);
  const { warnings } = await unpack(archive, ws.dest);
  const p = (rel: string): string => join(ws.dest, rel);
  assert.ok(isWhiteout(p('etc/passwd')));
  assert.deepEqual(readdirSync(p('etc')), ['passwd'], 'the .wh. file itself is not created');
  assert.equal(xattr(p('opq'), 'user.overlay.opaque'), 'y');
  assert.deepEqual(readdirSync(p('opq')), ['kept']);
  assert.ok(lstatSync(p('redone/d')).isDirectory());
  assert.equal(xattr(p('redone/d'), 'user.overlay.opaque'), 'y');
  assert.equal(readFileSync(p('mine/file'), 'utf8'), 'f');
  assert.equal(xattr(p('mine/dir'), 'user.overlay.opaque'), 'y');
  assert.equal(xattr(p('mine'), 'user.overlay.opaque'), undefined);
  assert.equal(
    xattr(p('esc'), 'user.overlay.opaque'),
    undefined,
    "an image's own overlay xattr must not steer our mount",
  );
  assert.equal(xattr(p('esc'), 'user.overlay.overlay.opaque'), 'y', "...it is kept in the kernel's escaped form");
  assert.deepEqual(warnings, ['layer entry .wh..wh.plnk: aufs metadata skipped']);
});

test('without mknod: devices are skipped with a warning; fifos and 0/0 whiteouts are made', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
    { name: 'dev/wh', type: 'character-device', devmajor: 0, devminor: 0 },
    { name: 'run/fifo', type: 'fifo' },
  ]);
  const { stats, warnings } = await unpack(archive, ws.dest, { canMknod: false });
  assert.deepEqual(readdirSync(join(ws.dest, 'dev')), ['wh']);
  assert.ok(isWhiteout(join(ws.dest, 'dev/wh')));
  assert.ok(lstatSync(join(ws.dest, 'run/fifo')).isFIFO());
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /^layer entry dev\/null: char device skipped/);
  assert.match(warnings[1] ?? '', /^layer entry dev\/sda: block device skipped/);
  assert.equal(stats.entries, 4);
});

test('later entries win, and replacing never writes through a symlink', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'f', type: 'symlink', linkname: ws.sentinel },
    { name: 'f', content: 'replaced the link' },
    { name: 'd', type: 'symlink', linkname: ws.outside },
    { name: 'd/', type: 'directory', mode: 0o700 },
    { name: 'd/sentinel', content: 'inside' },
    { name: 'x/', type: 'directory' },
    { name: 'x/child', content: 'c' },
    { name: 'x', content: 'file over a directory' },
    { name: 'y', content: 'file' },
    { name: 'y', type: 'symlink', linkname: 'f' },
    { name: 'h', content: 'old' },
    { name: 'h', type: 'link', linkname: 'f' },
    { name: 'again', content: 'one' },
    { name: 'again', content: 'two' },
  ]);
  await unpack(archive, ws.dest);
  const p = (rel: string): string => join(ws.dest, rel);
  assert.equal(readFileSync(p('f'), 'utf8'), 'replaced the link');
  assert.ok(lstatSync(p('d')).isDirectory());
  assert.equal(lstatSync(p('d')).mode & 0o777, 0o700);
  assert.equal(readFileSync(p('d/sentinel'), 'utf8'), 'inside');
  assert.equal(readFileSync(p('x'), 'utf8'), 'file over a directory');
  assert.equal(readlinkSync(p('y')), 'f');
  assert.equal(lstatSync(p('h')).ino, lstatSync(p('f')).ino);
  assert.equal(readFileSync(p('again'), 'utf8'), 'two');
  assertOutsideUntouched(ws);
});

test('a hardlink to a symlink that points outside links the symlink, never its target', { skip }, async () => {
  const ws = workspace();
  await unpack(
    await tarOf([
      { name: 'evil', type: 'symlink', linkname: ws.sentinel },
      { name: 'h', type: 'link', linkname: 'evil' },
    ]),
    ws.dest,
  );
  assert.ok(lstatSync(join(ws.dest, 'h')).isSymbolicLink());
  assert.equal(lstatSync(join(ws.dest, 'h')).ino, lstatSync(join(ws.dest, 'evil')).ino);
  assert.equal(statSync(ws.sentinel).nlink, 1);
  assertOutsideUntouched(ws);
});

test('a symlink replaced by a directory is not followed any more', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'sub/', type: 'directory' },
    { name: 'lnk', type: 'symlink', linkname: 'sub' },
    { name: 'lnk/a', content: 'a' },
    { name: 'lnk/', type: 'directory' },
    { name: 'lnk/b', content: 'b' },
  ]);
  await unpack(archive, ws.dest);
  assert.deepEqual(readdirSync(join(ws.dest, 'sub')), ['a']);
  assert.deepEqual(readdirSync(join(ws.dest, 'lnk')), ['b']);
});

test('a symlink with an absolute host path is resolved inside the layer', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'abs', type: 'symlink', linkname: ws.outside },
    { name: 'abs/sentinel', content: 'pwned?' },
  ]);
  await unpack(archive, ws.dest);
  assert.equal(readFileSync(join(ws.dest, ws.outside, 'sentinel'), 'utf8'), 'pwned?');
  assertOutsideUntouched(ws);
});

test('a user.* xattr on a symlink is refused by the kernel: a warning, not an error', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([{ name: 'l', type: 'symlink', linkname: 't', pax: { 'SCHILY.xattr.user.x': '1' } }]);
  const { warnings } = await unpack(archive, ws.dest);
  assert.deepEqual(warnings, ['layer entry l: extended attribute user.x not kept: EPERM']);
  assert.ok(lstatSync(join(ws.dest, 'l')).isSymbolicLink());
});

type Hostile = [
  what: string,
  code: string,
  build: (ws: Workspace) => Promise<Buffer>,
  options?: Partial<UnpackOptions>,
];

const hostile: Hostile[] = [
  ['a name climbing out with ..', 'DEN0301', () => tarOf([{ name: '../evil', content: 'x' }])],
  ['a name climbing out after a detour', 'DEN0301', () => tarOf([{ name: 'a/../../evil', content: 'x' }])],
  ['a directory climbing out', 'DEN0301', () => tarOf([{ name: '../outside/', type: 'directory', mode: 0o777 }])],
  ['an absolute name', 'DEN0302', (ws) => tarOf([{ name: ws.sentinel, content: 'pwned' }])],
  ['an empty name', 'DEN0303', () => tarOf([{ name: '', content: 'x' }])],
  [
    'a NUL byte in a PAX path',
    'DEN0303',
    async () => Buffer.concat([paxEntry([['path', 'a\0b']]), rawEntry({ name: 'x' }), END]),
  ],
  ['a symlink as the layer root', 'DEN0303', () => tarOf([{ name: './', type: 'symlink', linkname: '/' }])],
  [
    'a symlink to the parent of the root',
    'DEN0304',
    () =>
      tarOf([
        { name: 'evil', type: 'symlink', linkname: '..' },
        { name: 'evil/pwned', content: 'x' },
      ]),
  ],
  [
    'a symlink to a sibling directory, used to overwrite the sentinel',
    'DEN0304',
    () =>
      tarOf([
        { name: 'a/b', type: 'symlink', linkname: '../../outside' },
        { name: 'a/b/sentinel', content: 'pwned' },
      ]),
  ],
  [
    'a chain of symlinks',
    'DEN0304',
    () =>
      tarOf([
        { name: 'x', type: 'symlink', linkname: 'y' },
        { name: 'y', type: 'symlink', linkname: 'z/../..' },
        { name: 'z/', type: 'directory' },
        { name: 'x/outside/sentinel', content: 'pwned' },
      ]),
  ],
  [
    'an absolute symlink that climbs above /',
    'DEN0304',
    () =>
      tarOf([
        { name: 'up', type: 'symlink', linkname: '/../outside' },
        { name: 'up/sentinel', content: 'pwned' },
      ]),
  ],
  [
    'a directory turned into an escaping symlink after use',
    'DEN0304',
    () =>
      tarOf([
        { name: 'd/', type: 'directory' },
        { name: 'd/x', content: 'x' }, // the walk through d is remembered...
        { name: 'd', type: 'symlink', linkname: '../outside' }, // ...and must be forgotten here
        { name: 'd/sentinel', content: 'pwned' },
      ]),
  ],
  ['a hardlink to ..', 'DEN0305', () => tarOf([{ name: 'h', type: 'link', linkname: '../outside/sentinel' }])],
  ['a hardlink to an absolute path', 'DEN0305', (ws) => tarOf([{ name: 'h', type: 'link', linkname: ws.sentinel }])],
  [
    'a hardlink through an escaping symlink',
    'DEN0305',
    () =>
      tarOf([
        { name: 'up', type: 'symlink', linkname: '..' },
        { name: 'h', type: 'link', linkname: 'up/outside/sentinel' },
      ]),
  ],
  ['a hardlink to nothing', 'DEN0306', () => tarOf([{ name: 'h', type: 'link', linkname: 'missing' }])],
  [
    'a hardlink to a directory',
    'DEN0306',
    () =>
      tarOf([
        { name: 'd/', type: 'directory' },
        { name: 'h', type: 'link', linkname: 'd' },
      ]),
  ],
  ['a whiteout of ..', 'DEN0307', () => tarOf([{ name: 'a/.wh...' }])],
  ['a whiteout of nothing', 'DEN0307', () => tarOf([{ name: 'a/.wh.' }])],
  ['a whiteout climbing out with ..', 'DEN0301', () => tarOf([{ name: '../outside/.wh.sentinel' }])],
  ['a whiteout with an absolute name', 'DEN0302', (ws) => tarOf([{ name: join(ws.outside, '.wh.sentinel') }])],
  [
    'a whiteout through an escaping symlink',
    'DEN0307',
    () => tarOf([{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/outside/.wh.sentinel' }]),
  ],
  [
    'too many entries',
    'DEN0308',
    () => tarOf([{ name: 'a' }, { name: 'b' }, { name: 'c' }]),
    { limits: { maxEntries: 2 } },
  ],
  [
    'too many bytes',
    'DEN0309',
    () =>
      tarOf([
        { name: 'a', content: '0123456789' },
        { name: 'b', content: '0123456789' },
      ]),
    { limits: { maxTotalBytes: 15 } },
  ],
  [
    'a file too large',
    'DEN0310',
    () => tarOf([{ name: 'a', content: 'x'.repeat(100) }]),
    { limits: { maxFileBytes: 50 } },
  ],
  [
    'a truncated archive',
    'DEN0311',
    async () => (await tarOf([{ name: 'a', content: 'x'.repeat(3000) }])).subarray(0, 2000),
  ],
  [
    'a file used as a directory',
    'DEN0313',
    () =>
      tarOf([
        { name: 'a', content: 'x' },
        { name: 'a/b', content: 'y' },
      ]),
  ],
  [
    'a symlink loop',
    'DEN0314',
    () =>
      tarOf([
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'a/x', content: 'x' },
      ]),
  ],
  [
    'a sparse file whose map leaves its size',
    'DEN0311',
    async () =>
      Buffer.concat([
        rawEntry(
          { name: 's', typeflag: 'S', format: 'gnu', sparse: { regions: [[4096, 10]], realSize: 100 } },
          'x'.repeat(10),
        ),
        END,
      ]),
  ],
  [
    'a sparse file of 8 GiB (apparent size) under a 1 GiB limit',
    'DEN0310',
    async () =>
      Buffer.concat([
        rawEntry(
          { name: 's', typeflag: 'S', format: 'gnu', sparse: { regions: [[8 ** 11 - 2, 1]], realSize: 8 ** 11 - 1 } },
          'x',
        ),
        END,
      ]),
    { limits: { maxFileBytes: 2 ** 30 } },
  ],
  ['an unknown entry type', 'DEN0315', async () => Buffer.concat([rawEntry({ name: 'q', typeflag: 'Q' }), END])],
  [
    'trailing data far beyond the byte budget',
    'DEN0311',
    async () => Buffer.concat([rawEntry({ name: 'a' }, 'x'), END, Buffer.alloc(3 << 20, 1)]),
    { limits: { maxTotalBytes: 1000 } },
  ],
  [
    'uid -1, which chown reads as "unchanged"',
    'DEN0318',
    async () => Buffer.concat([paxEntry([['uid', '4294967295']]), rawEntry({ name: 'x' }), END]),
  ],
];

for (const [what, code, build, options] of hostile) {
  test(`refuses ${what} (${code})`, { skip }, async () => {
    const ws = workspace();
    const e = await refused(await build(ws), ws.dest, options);
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'InvalidArgument');
    assert.match(e.message, /^layer (entry|archive)/);
    assertOutsideUntouched(ws);
  });
}

test('messages name the entry', { skip }, async () => {
  const ws = workspace();
  const e = await refused(await tarOf([{ name: '../etc/passwd', content: 'x' }]), ws.dest);
  assert.equal(e.message, 'layer entry ../etc/passwd: escapes the layer root');
});

test('a file over the size limit is refused before it is created', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([{ name: 'big', content: 'x'.repeat(100) }]);
  const e = await refused(archive, ws.dest, { limits: { maxFileBytes: 99 } });
  assert.equal(e.code, 'DEN0310');
  assert.deepEqual(readdirSync(ws.dest), []);
});

test('dest must not exist', { skip }, async () => {
  const ws = workspace();
  mkdirSync(ws.dest);
  const e = await refused(await tarOf([{ name: 'a' }]), ws.dest);
  assert.equal(e.code, 'DEN0316');
  assert.equal(e.kind, 'AlreadyExists');
});

test('modes are exact whatever the umask: dest, implicit parents, files', { skip }, async () => {
  const ws = workspace();
  const old = process.umask(0o077);
  try {
    await unpack(
      await tarOf([
        { name: 'etc/apt/.wh.sources.list' },
        { name: 'etc/passwd', mode: 0o644, content: 'root' },
        { name: 'etc/ro', mode: 0o444, content: 'written before the mode applies' },
      ]),
      ws.dest,
    );
  } finally {
    process.umask(old);
  }
  const mode = (rel: string): number => statSync(join(ws.dest, rel)).mode & 0o7777;
  assert.deepEqual(['', 'etc', 'etc/apt', 'etc/passwd', 'etc/ro'].map(mode), [0o755, 0o755, 0o755, 0o644, 0o444]);
  assert.equal(readFileSync(join(ws.dest, 'etc/ro'), 'utf8'), 'written before the mode applies');
});

test('a file in a setgid directory still gets the group the archive says', { skip }, async () => {
  const ws = workspace();
  const archive = await tarOf([
    { name: 'sg/', type: 'directory', mode: 0o2775, gid: 50 },
    { name: 'sg/mine', content: 'x' },
    { name: 'sg/sub/', type: 'directory', mode: 0o755 },
  ]);
  await unpack(archive, ws.dest);
  assert.equal(statSync(join(ws.dest, 'sg')).gid, 50);
  assert.equal(statSync(join(ws.dest, 'sg/mine')).gid, 0, 'not inherited from the setgid directory');
  assert.equal(statSync(join(ws.dest, 'sg/sub')).gid, 0);
});

/** POSIX ACL xattr v2: user::rwx group::--- other::---, under which new files get 0600 or less. */
function privateAcl(): Buffer {
  const acl = Buffer.alloc(4 + 3 * 8);
  acl.writeUInt32LE(2, 0);
  [
    [0x01, 7],
    [0x04, 0],
    [0x20, 0],
  ].forEach(([tag, perm], i) => {
    acl.writeUInt16LE(tag as number, 4 + i * 8);
    acl.writeUInt16LE(perm as number, 6 + i * 8);
    acl.writeUInt32LE(0xffffffff, 8 + i * 8);
  });
  return acl;
}

test('a default ACL where dest is made does not change the modes of files', { skip }, async () => {
  const ws = workspace();
  lsetxattr(Buffer.from(ws.dir), 'system.posix_acl_default', privateAcl());
  await unpack(await tarOf([{ name: 'f', mode: 0o644, content: 'x' }]), ws.dest);
  assert.equal(statSync(join(ws.dest, 'f')).mode & 0o7777, 0o644);
});

test('a default ACL from the layer does not change the modes of later files', { skip }, async () => {
  const ws = workspace();
  const acl = privateAcl();
  const archive = Buffer.concat([
    paxEntry([['SCHILY.xattr.system.posix_acl_default', acl]]),
    rawEntry({ name: 'acl/', typeflag: '5', mode: 0o755 }),
    rawEntry({ name: 'acl/f', mode: 0o644 }, 'x'),
    END,
  ]);
  await unpack(archive, ws.dest);
  assert.ok(lgetxattr(Buffer.from(join(ws.dest, 'acl')), 'system.posix_acl_default'), 'the ACL is there');
  assert.equal(statSync(join(ws.dest, 'acl/f')).mode & 0o7777, 0o644);
});

/**
 * Runs unpackLayer in a new user namespace that maps only uid and gid 0, as a rootless session
 * without subordinate ids would: the kernel's own rules, not a simulation.
 */
function inUserNamespace(script: string): { ok: boolean; out: string; err: string } {
  const index = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;
  const fixture = pathToFileURL(join(import.meta.dirname, 'tar-fixture.ts')).href;
  const code = `const { unpackLayer } = await import(${JSON.stringify(index)});
const f = await import(${JSON.stringify(fixture)});
${script}`;
  const r = spawnSync(
    'unshare',
    ['--user', '--map-root-user', process.execPath, '--import', 'tsx', '--input-type=module', '-e', code],
    { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') },
  );
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true']);
const noUserns = probe.error || probe.status !== 0 ? 'unshare --user is not available on this host' : false;

test(
  'in a user namespace: whiteouts, fifos and xattrs are made, devices and trusted.* skipped',
  { skip: noUserns },
  () => {
    const ws = workspace();
    const r = inUserNamespace(`
const capability = Buffer.from([1, 0, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const archive = Buffer.concat([
  f.rawEntry({ name: 'etc/.wh.gone' }),
  f.rawEntry({ name: 'fifo', typeflag: '6' }),
  f.rawEntry({ name: 'null', typeflag: '3', devmajor: 1, devminor: 3 }),
  f.paxEntry([
    ['SCHILY.xattr.user.a', 'a'],
    ['SCHILY.xattr.trusted.b', 'b'],
    ['SCHILY.xattr.security.capability', capability],
  ]),
  f.rawEntry({ name: 'ping', mode: 0o755 }, 'x'),
  f.END,
]);
const warnings = [];
const stats = await unpackLayer(f.chunked(archive), ${JSON.stringify(ws.dest)}, { canMknod: false, onWarning: (m) => warnings.push(m) });
console.log(JSON.stringify({ stats, warnings }));`);
    assert.ok(r.ok, r.err);
    const { stats, warnings } = JSON.parse(r.out) as { stats: { entries: number }; warnings: string[] };
    assert.equal(stats.entries, 4);
    assert.deepEqual(warnings, [
      'layer entry null: char device skipped: device nodes cannot be created here',
      'layer entry ping: extended attribute trusted.b not kept: EPERM',
    ]);
    assert.ok(isWhiteout(join(ws.dest, 'etc/gone')));
    assert.ok(lstatSync(join(ws.dest, 'fifo')).isFIFO());
    assert.deepEqual(readdirSync(ws.dest).sort(), ['etc', 'fifo', 'ping']);
    assert.equal(xattr(join(ws.dest, 'ping'), 'user.a'), 'a');
    assert.ok(lgetxattr(Buffer.from(join(ws.dest, 'ping')), 'security.capability'), 'namespaced file capability');
  },
);

test('in a user namespace: an owner outside the mapping is DEN0312 naming uid or gid', { skip: noUserns }, () => {
  for (const [uid, gid, expected] of [
    [70000, 0, 'owner uid 70000 is not mapped'],
    [0, 5000, 'owner gid 5000 is not mapped'],
  ] as const) {
    const ws = workspace();
    const r = inUserNamespace(`
const archive = Buffer.concat([f.rawEntry({ name: 'usr/bin/x', uid: ${uid}, gid: ${gid} }, 'x'), f.END]);
try {
  await unpackLayer(f.chunked(archive), ${JSON.stringify(ws.dest)}, { canMknod: false });
  console.log('accepted');
} catch (e) {
  console.log(JSON.stringify({ code: e.code, kind: e.kind, message: e.message, hint: e.hint }));
}`);
    assert.ok(r.ok, r.err);
    const e = JSON.parse(r.out) as { code: string; kind: string; message: string; hint: string };
    assert.equal(e.code, 'DEN0312');
    assert.equal(e.kind, 'FailedPrecondition');
    assert.equal(e.message, `layer entry usr/bin/x: ${expected} in this user namespace`);
    assert.match(e.hint, /\/etc\/sub[ug]id/);
  }
});

test('overlayfs with userxattr reads the unpacked layers as intended', { skip }, async (t) => {
  const ws = workspace();
  const lower = join(ws.dir, 'lower');
  const upper = join(ws.dir, 'upper');
  const merged = join(ws.dir, 'merged');
  await unpack(
    await tarOf([
      { name: 'd/keep', content: 'k' },
      { name: 'd/gone', content: 'g' },
      { name: 'op/hidden', content: 'h' },
      { name: 'esc/lowerfile', content: 'l' },
    ]),
    lower,
  );
  await unpack(
    await tarOf([
      { name: 'd/.wh.gone' },
      { name: 'op/.wh..wh..opq' },
      { name: 'op/new', content: 'n' },
      { name: 'esc/', type: 'directory', pax: { 'SCHILY.xattr.user.overlay.opaque': 'y' } },
    ]),
    upper,
  );
  mkdirSync(merged);
  const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `userxattr,lowerdir=${upper}:${lower}`, merged], {
    encoding: 'utf8',
  });
  if (m.status !== 0) return t.skip(`cannot mount overlayfs here: ${m.stderr.trim()}`);
  try {
    assert.deepEqual(readdirSync(join(merged, 'd')), ['keep']);
    assert.deepEqual(readdirSync(join(merged, 'op')), ['new']);
    assert.deepEqual(readdirSync(join(merged, 'esc')), ['lowerfile'], 'the escaped xattr is not an opaque marker');
    assert.equal(xattr(join(merged, 'esc'), 'user.overlay.opaque'), 'y', 'the image sees its own xattr');
  } finally {
    spawnSync('umount', [merged]);
  }
});

const gnuTar = spawnSync('tar', ['--version'], { encoding: 'utf8' });
const noGnuTar = /GNU tar/.test(gnuTar.stdout ?? '') ? false : 'GNU tar is not installed';

/**
 * A tree with every kind of thing a root file system holds, made with the real system calls, for
 * GNU tar to pack: what den unpacks must be what tar itself would have made.
 */
function makeTree(dir: string): void {
  const run = (argv: string[]): void => {
    const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { mode: 0o1777 });
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeFileSync(join(dir, 'usr/bin/su'), '#!/bin/sh\n');
  chownSync(join(dir, 'usr/bin/su'), 0, 0);
  chmodSync(join(dir, 'usr/bin/su'), 0o4755);
  writeFileSync(join(dir, 'usr/bin/wall'), 'w');
  chownSync(join(dir, 'usr/bin/wall'), 0, 5);
  chmodSync(join(dir, 'usr/bin/wall'), 0o2755);
  writeFileSync(join(dir, 'secret'), 's', { mode: 0o600 });
  chownSync(join(dir, 'secret'), 1234, 4321);
  writeFileSync(join(dir, 'readonly'), 'r');
  chmodSync(join(dir, 'readonly'), 0o444);
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'big'), Buffer.alloc(3 << 20, 'b')); // spans many input chunks
  linkSync(join(dir, 'big'), join(dir, 'usr/big-link'));
  symlinkSync('bin/su', join(dir, 'usr/su-link'));
  symlinkSync('/nonexistent/target', join(dir, 'dangling'));
  lchownSync(join(dir, 'dangling'), 1234, 4321);
  run(['mkfifo', '-m', '0640', join(dir, 'fifo')]);
  run(['mknod', '-m', '0666', join(dir, 'null'), 'c', '1', '3']);
  const long = join(dir, 'd'.repeat(120), 'e'.repeat(120));
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, 'f'.repeat(200)), 'long');
  writeFileSync(join(dir, Buffer.from('caf\xe9', 'latin1').toString('latin1')), 'latin1'); // not UTF-8
  writeFileSync(join(dir, 'xattr'), 'x');
  lsetxattr(Buffer.from(join(dir, 'xattr')), 'user.den', Buffer.from('value'));
  // A sparse file: data, holes between, and a hole at the end.
  const fd = openSync(join(dir, 'sparse'), 'w');
  writeSync(fd, Buffer.alloc(5000, 's'), 0, 5000, 1 << 20);
  writeSync(fd, Buffer.alloc(100, 't'), 0, 100, 5 << 20);
  ftruncateSync(fd, 9 << 20);
  closeSync(fd);
  // Times last: directories after their contents.
  for (const rel of ['usr/bin/su', 'secret', 'sparse', 'big', 'usr/bin', 'usr', 'tmp', '']) {
    utimesSync(join(dir, rel), T + 7, T + 7);
  }
  lutimesSync(join(dir, 'dangling'), T + 9, T + 9);
}

for (const [format, compression] of [
  ['gnu', 'none'],
  ['posix', 'none'],
  ['posix', 'gzip'],
  ['gnu', 'zstd'],
] as const) {
  test(
    `GNU tar --format=${format} (${compression}): den's tree is what tar --compare expects`,
    { skip: skip || noGnuTar },
    async () => {
      const ws = workspace();
      const packing = mkdtempSync(join(base, 'packing-'));
      const src = join(packing, 'src');
      mkdirSync(src);
      makeTree(src);
      const archive = join(packing, 'layer.tar');
      const flags = compression === 'gzip' ? ['-z'] : compression === 'zstd' ? ['--zstd'] : [];
      const pack = spawnSync(
        'tar',
        [
          `--format=${format}`,
          '--sparse',
          '--xattrs',
          '--xattrs-include=user.*',
          ...flags,
          '-cf',
          archive,
          '-C',
          src,
          '.',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(pack.status, 0, pack.stderr);
      const input = createReadStream(archive).pipe(decompressor({ layer: 'layer.tar' }));
      const { warnings } = await unpackStream(input, ws.dest);
      assert.deepEqual(warnings, []);
      const diff = spawnSync('tar', ['--compare', '--xattrs', ...flags, '-f', archive, '-C', ws.dest], {
        encoding: 'utf8',
      });
      assert.equal(diff.status, 0, `tar --compare: ${diff.stdout}${diff.stderr}`);
      // What --compare does not look at.
      const sparse = statSync(join(ws.dest, 'sparse'));
      assert.equal(sparse.size, 9 << 20);
      assert.ok(sparse.blocks * 512 < 64 * 1024, `the holes are holes on disk (${sparse.blocks} blocks)`);
      assert.equal(xattr(join(ws.dest, 'xattr'), 'user.den'), 'value');
      assert.equal(lstatSync(join(ws.dest, 'usr/big-link')).ino, lstatSync(join(ws.dest, 'big')).ino);
      assert.equal(lstatSync(join(ws.dest, 'dangling')).mtimeMs, (T + 9) * 1000);
      assert.deepEqual(
        [lstatSync(join(ws.dest, 'dangling')).uid, lstatSync(join(ws.dest, 'dangling')).gid],
        [1234, 4321],
      );
      assert.equal(lstatSync(join(ws.dest, 'fifo')).mode & 0o7777, 0o640);
      assertOutsideUntouched(ws);
    },
  );
}
