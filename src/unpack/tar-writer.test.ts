import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { isDenError } from '../common/errors.js';
import { lgetxattr } from '../common/libc.js';
import { TarReader, type TarEntry } from './tar-reader.js';
import { streamChunks } from './stream-chunks.js';
import { TarWriter, type TarHeader } from './tar-writer.js';
import { TreePacker } from './pack-tree.js';
import { unpackCopy } from './tar-unpacker.js';

const root = process.getuid?.() === 0;
const base = mkdtempSync(join(tmpdir(), 'den-tar-writer-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

/** Everything the writer wrote, as one buffer. */
async function written(make: (w: TarWriter) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  await make(w);
  await w.finish();
  return Buffer.concat(chunks);
}

async function readAll(tar: Buffer): Promise<{ entry: TarEntry; data: Buffer }[]> {
  const input = new PassThrough();
  input.end(tar);
  const reader = new TarReader(streamChunks(input));
  const out: { entry: TarEntry; data: Buffer }[] = [];
  for (let e = await reader.next(); e !== null; e = await reader.next()) {
    const parts: Buffer[] = [];
    await reader.readData((chunk) => void parts.push(Buffer.from(chunk)));
    out.push({ entry: e, data: Buffer.concat(parts) });
  }
  return out;
}

/** `tar -tv --numeric-owner` of the archive: GNU tar, a reader other than den's. */
function gnuList(tar: Buffer): string[] {
  const r = spawnSync('tar', ['-tv', '--numeric-owner', '--full-time'], { input: tar, encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

const CAPABILITY = Buffer.from('0100000200c000000000000000000000000000000000', 'hex'); // CAP_SETUID|CAP_SETGID, byte 0xc0

test('headers GNU tar and den read alike: long names and targets, large ids, binary xattrs, devices', async () => {
  const long = `${'d'.repeat(60)}/${'n'.repeat(120)}`;
  const notUtf8 = Buffer.from([0x66, 0xff, 0x6f]).toString('latin1');
  const entries: [TarHeader, Buffer?][] = [
    [{ name: 'dir/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 }],
    [
      { name: 'dir/file', type: 'file', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1_700_000_001, size: 5 },
      Buffer.from('hello'),
    ],
    [{ name: long, type: 'file', mode: 0o644, uid: 5_000_000, gid: 4_000_000, mtime: 1_700_000_002, size: 0 }],
    [
      {
        name: 'link',
        type: 'symlink',
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_003,
        linkname: `/${'t'.repeat(150)}`,
      },
    ],
    [{ name: 'hard', type: 'link', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_004, linkname: 'dir/file' }],
    [{ name: 'null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 1_700_000_005, devmajor: 1, devminor: 3 }],
    [{ name: 'fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_006 }],
    [
      {
        name: 'capable',
        type: 'file',
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_007,
        size: 0,
        xattrs: new Map([['security.capability', CAPABILITY]]),
      },
    ],
    [{ name: notUtf8, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: -86_400, size: 0 }],
  ];
  const tar = await written(async (w) => {
    for (const [h, data] of entries) await w.add(h, data);
  });
  assert.equal(tar.length % 512, 0);
  const gnu = gnuList(tar);
  assert.equal(gnu.length, entries.length);
  assert.match(gnu[1]!, /^-rwsr-xr-x 1000\/1000 +5 2023-11-14 .* dir\/file$/);
  assert.match(gnu[2]!, new RegExp(`5000000/4000000 .* ${long}$`));
  assert.match(gnu[3]!, new RegExp(`link -> /t{150}$`));
  assert.match(gnu[4]!, /hard link to dir\/file$/);
  assert.match(gnu[5]!, /^crw-rw-rw- 0\/0 +1,3 /);
  assert.match(gnu[8]!, /1969-12-31/);
  const read = await readAll(tar);
  assert.deepEqual(
    read.map((r) => [r.entry.name, r.entry.type, r.entry.uid, r.entry.mode, r.entry.linkname, r.entry.mtime.sec]),
    entries.map(([h]) => [h.name, h.type, h.uid, h.mode, h.linkname ?? '', h.mtime]),
  );
  assert.equal(read[1]!.data.toString(), 'hello');
  assert.deepEqual(read[5]!.entry.devminor, 3);
  assert.deepEqual(read[7]!.entry.xattrs.get('security.capability'), CAPABILITY, 'byte for byte');
});

test('a file that shrinks while it is read is padded to the size its header gave', async () => {
  const path = join(base, 'shrinks');
  writeFileSync(path, 'abc');
  const fd = openSync(path, 'r');
  try {
    const tar = await written((w) =>
      w.add({ name: 'shrinks', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 8 }, { fd }),
    );
    const [r] = await readAll(tar);
    assert.deepEqual(r!.data, Buffer.from('abc\0\0\0\0\0'));
  } finally {
    closeSync(fd);
  }
});

test('TreePacker: depth first and sorted, hardlinks once, sockets left out, owners mapped', async () => {
  const src = join(base, 'tree');
  mkdirSync(join(src, 'b'), { recursive: true });
  writeFileSync(join(src, 'b', 'z'), 'z');
  writeFileSync(join(src, 'a'), 'a');
  linkSync(join(src, 'a'), join(src, 'c'));
  symlinkSync('/outside', join(src, 'b', 'link'));
  writeFileSync(join(src, 'B'), 'capital');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(src, 'sock'), resolve));
  try {
    for (const access of ['anchored', 'confined'] as const) {
      const tar = await written(async (w) => {
        const packer = new TreePacker(w, { access, owner: (uid, gid) => ({ uid: uid + 7, gid: gid + 9 }) });
        assert.equal(await packer.addTree(src, 'top'), true);
        assert.equal(await packer.addTree(join(src, 'nothing'), 'x'), false);
      });
      const read = await readAll(tar);
      const uid = (lstatSync(src).uid + 7).toString();
      assert.deepEqual(
        read.map((r) => `${r.entry.type} ${r.entry.name} ${r.entry.linkname} ${r.entry.uid === Number(uid)}`),
        [
          'dir top/  true',
          'file top/B  true',
          'file top/a  true',
          'dir top/b/  true',
          'symlink top/b/link /outside true',
          'file top/b/z  true',
          'link top/c top/a true',
        ],
        access,
      );
    }
  } finally {
    server.close();
  }
});

test(
  'unpackCopy: names renamed, `.wh.` files kept, owners mapped or left, the destination itself untouched',
  { skip: !root && 'sets owners: run as root' },
  async () => {
    const dest = join(base, 'copy-dest');
    mkdirSync(dest, { mode: 0o711 });
    mkdirSync(join(dest, 'isdir'));
    writeFileSync(join(dest, 'isfile'), 'x');
    const header = (name: string, type: TarHeader['type'], size = 0): TarHeader => ({
      name,
      type,
      mode: type === 'dir' ? 0o700 : 0o640,
      uid: 1234,
      gid: 5678,
      mtime: 1_700_000_000,
      size,
    });
    const tar = await written(async (w) => {
      await w.add(header('./', 'dir'));
      await w.add(header('./.wh.file', 'file', 2), Buffer.from('wh'));
      await w.add(header('./sub/', 'dir'));
      await w.add(header('./sub/f', 'file', 1), Buffer.from('f'));
      await w.add({ ...header('./sub/h', 'link'), linkname: './sub/f' });
    });
    const input = new PassThrough();
    input.end(tar);
    await unpackCopy(input, dest, {
      canMknod: true,
      rename: (n) => (n === './' || n === '.' ? n : n.replace(/^\.\/sub/, './renamed')),
      owner: (uid, gid) => ({ uid: uid + 1, gid: gid === 5678 ? 42 : undefined }),
    });
    assert.equal(lstatSync(dest).mode & 0o777, 0o711, 'the destination keeps its mode');
    assert.equal(readFileSync(join(dest, '.wh.file'), 'utf8'), 'wh', 'a .wh. name is a file like any other');
    const f = lstatSync(join(dest, 'renamed', 'f'));
    assert.deepEqual([f.uid, f.gid, f.mode & 0o777, f.nlink], [1235, 42, 0o640, 2]);
    // Without an owner function, files are the unpacker's.
    const plain = new PassThrough();
    plain.end(await written((w) => w.add(header('mine', 'file'))));
    await unpackCopy(plain, dest, { canMknod: true });
    assert.equal(lstatSync(join(dest, 'mine')).uid, process.getuid!());
    // A directory never becomes a file, nor the other way round.
    for (const [name, type] of [
      ['isdir', 'file'],
      ['isfile', 'dir'],
    ] as const) {
      const bad = new PassThrough();
      bad.end(await written((w) => w.add(header(name, type))));
      await assert.rejects(unpackCopy(bad, dest, { canMknod: true }), (e: unknown) => {
        return isDenError(e) && e.code === 'DEN0327' && e.message.startsWith(`archive entry ${name}: cannot overwrite`);
      });
    }
    // An id the destination cannot hold is refused, naming the entry.
    const unmapped = new PassThrough();
    unmapped.end(await written((w) => w.add(header('unmapped', 'file'))));
    await assert.rejects(
      unpackCopy(unmapped, dest, { canMknod: true, owner: () => ({ uid: undefined, gid: 0 }) }),
      /archive entry unmapped: owner uid 1234 is out of range/,
    );
  },
);

test('a copy keeps user.overlay.* attributes as named', { skip: !root && 'run as root' }, async () => {
  const dest = join(base, 'xattr-dest');
  mkdirSync(dest);
  const tar = await written((w) =>
    w.add({
      name: 'x',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
      xattrs: new Map([['user.overlay.opaque', Buffer.from('y')]]),
    }),
  );
  const input = new PassThrough();
  input.end(tar);
  await unpackCopy(input, dest, { canMknod: true });
  assert.deepEqual(lgetxattr(Buffer.from(join(dest, 'x')), 'user.overlay.opaque'), Buffer.from('y'));
  assert.equal(lgetxattr(Buffer.from(join(dest, 'x')), 'user.overlay.overlay.opaque'), undefined);
});
