import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DenError } from '../common/errors.js';
import { END, chunked, paxEntry, rawEntry, rawHeader } from './tar-fixture.js';
import { TarReader, type TarEntry } from './tar-reader.js';

interface Read {
  entry: TarEntry;
  data: string;
}

async function readAll(archive: Buffer, sizes?: number[]): Promise<Read[]> {
  const reader = new TarReader(chunked(archive, sizes)[Symbol.asyncIterator]());
  const out: Read[] = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) {
    const parts: Buffer[] = [];
    await reader.readData((c) => void parts.push(Buffer.from(c)));
    out.push({ entry, data: Buffer.concat(parts).toString('latin1') });
  }
  await reader.drain();
  return out;
}

async function readError(archive: Buffer): Promise<DenError> {
  try {
    await readAll(archive);
  } catch (e) {
    assert.ok(e instanceof DenError, `not a DenError: ${String(e)}`);
    return e;
  }
  assert.fail('the archive was accepted');
}

test('reads ustar entries across every chunk boundary', async () => {
  const archive = Buffer.concat([
    rawEntry({ name: 'a.txt', mode: 0o4755, uid: 1234, gid: 4321, mtime: 1_700_000_000 }, 'hello'),
    rawEntry({ name: 'dir/', typeflag: '5', mode: 0o1777 }),
    rawEntry({ name: 'name.txt', prefix: 'p'.repeat(150), typeflag: '0' }, 'x'.repeat(1500)),
    rawEntry({ name: 'l', typeflag: '2', linkname: 'a.txt' }),
    END,
  ]);
  for (const sizes of [[archive.length], [1], [7, 511, 513], [512]]) {
    const got = await readAll(archive, sizes);
    assert.deepEqual(
      got.map((r) => [r.entry.name, r.entry.type, r.entry.mode, r.data.length]),
      [
        ['a.txt', 'file', 0o4755, 5],
        ['dir/', 'dir', 0o1777, 0],
        [`${'p'.repeat(150)}/name.txt`, 'file', 0o644, 1500],
        ['l', 'symlink', 0o644, 0],
      ],
    );
    assert.equal(got[0]?.data, 'hello');
    assert.equal(got[0]?.entry.uid, 1234);
    assert.equal(got[0]?.entry.gid, 4321);
    assert.equal(got[0]?.entry.mtime, 1_700_000_000);
    assert.equal(got[3]?.entry.linkname, 'a.txt');
  }
});

test('GNU headers keep access times where ustar has its prefix', async () => {
  const [r] = await readAll(Buffer.concat([rawEntry({ name: 'f', format: 'gnu', prefix: 'not-a-prefix' }, 'x'), END]));
  assert.equal(r?.entry.name, 'f');
});

test('GNU long names and long link names', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(200)}`;
  const target = `${'t'.repeat(300)}`;
  const [r] = await readAll(
    Buffer.concat([
      rawEntry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `${long}\0`),
      rawEntry({ name: '././@LongLink', typeflag: 'K', format: 'gnu' }, `${target}\0`),
      rawEntry({ name: long.slice(0, 99), typeflag: '2', format: 'gnu' }),
      END,
    ]),
  );
  assert.equal(r?.entry.name, long);
  assert.equal(r?.entry.linkname, target);
});

test('PAX records override the header, values stay bytes, globals apply to later entries', async () => {
  const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x00, 0x80, 0xff, 0xfe]);
  const name = Buffer.from('caf\u00e9-\u00ff', 'utf8');
  const got = await readAll(
    Buffer.concat([
      paxEntry([['SCHILY.xattr.user.global', 'g']], 'g'),
      paxEntry([
        ['path', name],
        ['uid', '3000000'],
        ['gid', '70000'],
        ['mtime', '1700000000.25'],
        ['atime', '1600000000'],
        ['SCHILY.xattr.security.capability', capability],
        ['SCHILY.xattr.user.global', ''],
      ]),
      rawEntry({ name: 'ignored' }, 'data'),
      rawEntry({ name: 'second' }),
      END,
    ]),
  );
  const [first, second] = got;
  assert.equal(first?.entry.name, name.toString('latin1'));
  assert.equal(first?.entry.uid, 3_000_000);
  assert.equal(first?.entry.gid, 70_000);
  assert.equal(first?.entry.mtime, 1_700_000_000.25);
  assert.equal(first?.entry.atime, 1_600_000_000);
  assert.deepEqual(first?.entry.xattrs.get('security.capability'), capability);
  assert.equal(first?.entry.xattrs.has('user.global'), false, 'an empty local value deletes the global one');
  assert.equal(first?.data, 'data');
  assert.deepEqual(second?.entry.xattrs.get('user.global'), Buffer.from('g'));
});

test('base-256 numbers and a negative mtime', async () => {
  const uid = Buffer.from([0x80, 0, 0, 0, 0, 0, 0x01, 0x00]); // 65536 * 256 / 256
  const mtime = Buffer.alloc(12, 0xff); // -1
  const [r] = await readAll(Buffer.concat([rawEntry({ name: 'f', fields: { uid, mtime } }), END]));
  assert.equal(r?.entry.uid, 256);
  assert.equal(r?.entry.mtime, -1);
});

test('header-only types carry no data whatever their size field says', async () => {
  const got = await readAll(
    Buffer.concat([rawHeader({ name: 'd/', typeflag: '5', size: 5000 }), rawEntry({ name: 'next' }, 'n'), END]),
  );
  assert.deepEqual(
    got.map((r) => [r.entry.name, r.entry.size, r.data]),
    [
      ['d/', 0, ''],
      ['next', 1, 'n'],
    ],
  );
});

test('an archive without its end marker ends cleanly; trailing input is drained', async () => {
  assert.equal((await readAll(rawEntry({ name: 'f' }, 'x'))).length, 1);
  let pulled = 0;
  const archive = Buffer.concat([rawEntry({ name: 'f' }, 'x'), END, Buffer.alloc(8192, 7)]);
  const source = Readable.from([archive.subarray(0, 2048), archive.subarray(2048)]).on('data', () => pulled++);
  const reader = new TarReader(source[Symbol.asyncIterator]());
  while (await reader.next());
  await reader.drain();
  assert.equal(pulled, 2);
});

test('old archives: type NUL with a trailing slash is a directory', async () => {
  const [r] = await readAll(Buffer.concat([rawEntry({ name: 'old/', typeflag: '\0', format: 'v7' }), END]));
  assert.equal(r?.entry.type, 'dir');
});

const corrupt: Array<[string, Buffer, string]> = [
  ['bad checksum', Buffer.concat([rawEntry({ name: 'f', checksumDelta: 1 }, 'x'), END]), 'DEN0311'],
  ['garbage', Buffer.concat([Buffer.alloc(512, 0x41), END]), 'DEN0311'],
  ['truncated header', rawEntry({ name: 'f' }, 'x').subarray(0, 300), 'DEN0311'],
  ['truncated data', rawEntry({ name: 'f' }, 'x'.repeat(2000)).subarray(0, 1200), 'DEN0311'],
  ['pax header then end', Buffer.concat([paxEntry([['path', 'x']]), END]), 'DEN0311'],
  ['pax header then nothing', paxEntry([['path', 'x']]), 'DEN0311'],
  ['malformed pax length', Buffer.concat([rawEntry({ name: 'p', typeflag: 'x' }, '99 path=x\n'), END]), 'DEN0311'],
  ['pax record without =', Buffer.concat([rawEntry({ name: 'p', typeflag: 'x' }, '9 pathx\n\n'), END]), 'DEN0311'],
  ['invalid pax uid', Buffer.concat([paxEntry([['uid', '-1']]), rawEntry({ name: 'f' }), END]), 'DEN0311'],
  [
    'octal field with junk',
    Buffer.concat([rawEntry({ name: 'f', fields: { size: Buffer.from('0009') } }), END]),
    'DEN0311',
  ],
  ['negative size', Buffer.concat([rawEntry({ name: 'f', fields: { size: Buffer.alloc(12, 0xff) } }), END]), 'DEN0311'],
  ['huge pax header', Buffer.concat([rawHeader({ name: 'p', typeflag: 'x', size: 2 ** 21 }), END]), 'DEN0311'],
  ['GNU sparse file', Buffer.concat([rawEntry({ name: 's', typeflag: 'S' }), END]), 'DEN0315'],
  ['PAX sparse file', Buffer.concat([paxEntry([['GNU.sparse.major', '1']]), rawEntry({ name: 's' }), END]), 'DEN0315'],
  ['unknown type', Buffer.concat([rawEntry({ name: 'q', typeflag: 'Q' }), END]), 'DEN0315'],
];

for (const [what, archive, code] of corrupt) {
  test(`refuses: ${what}`, async () => {
    const e = await readError(archive);
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'InvalidArgument');
  });
}

test('an input stream error becomes DEN0311 with its cause; a DenError passes through', async () => {
  const failing = (err: Error): Readable =>
    new Readable({
      read() {
        this.destroy(err);
      },
    });
  const plain = new TarReader(failing(new Error('unexpected end of file'))[Symbol.asyncIterator]());
  await assert.rejects(plain.next(), (e: DenError) => e.code === 'DEN0311' && /unexpected end of file/.test(e.message));
  const mine = new DenError('InvalidArgument', 'DEN9999', 'digest mismatch');
  const den = new TarReader(failing(mine)[Symbol.asyncIterator]());
  await assert.rejects(den.next(), (e) => e === mine);
});
