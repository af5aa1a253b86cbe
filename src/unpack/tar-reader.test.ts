import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DenError } from '../common/errors.js';
import { END, chunked, paxEntry, rawEntry, rawHeader, sparseExtension } from './tar-fixture.js';
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
    assert.deepEqual(got[0]?.entry.mtime, { sec: 1_700_000_000, nsec: 0 });
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
  assert.deepEqual(first?.entry.mtime, { sec: 1_700_000_000, nsec: 250_000_000 });
  assert.deepEqual(first?.entry.atime, { sec: 1_600_000_000, nsec: 0 });
  assert.deepEqual(first?.entry.xattrs.get('security.capability'), capability);
  assert.equal(first?.entry.xattrs.has('user.global'), false, 'an empty local value deletes the global one');
  assert.equal(first?.data, 'data');
  assert.deepEqual(second?.entry.xattrs.get('user.global'), Buffer.from('g'));
});

test('PAX times are exact to the nanosecond, before 1970 too', async () => {
  const times: Array<[string, { sec: number; nsec: number }]> = [
    ['1700000000.123456789', { sec: 1_700_000_000, nsec: 123_456_789 }],
    ['1700000000.1234567891234', { sec: 1_700_000_000, nsec: 123_456_789 }],
    ['1700000000.5', { sec: 1_700_000_000, nsec: 500_000_000 }],
    ['-1.25', { sec: -2, nsec: 750_000_000 }],
    ['-3', { sec: -3, nsec: 0 }],
  ];
  for (const [text, expected] of times) {
    const [r] = await readAll(Buffer.concat([paxEntry([['mtime', text]]), rawEntry({ name: 'f' }), END]));
    assert.deepEqual(r?.entry.mtime, expected, text);
  }
  for (const bad of ['1.2.3', '1e9', '99999999999999999', '.5']) {
    const e = await readError(Buffer.concat([paxEntry([['mtime', bad]]), rawEntry({ name: 'f' }), END]));
    assert.equal(e.code, 'DEN0311', bad);
  }
});

test('base-256 numbers and a negative mtime', async () => {
  const uid = Buffer.from([0x80, 0, 0, 0, 0, 0, 0x01, 0x00]); // 65536 * 256 / 256
  const mtime = Buffer.alloc(12, 0xff); // -1
  const [r] = await readAll(Buffer.concat([rawEntry({ name: 'f', fields: { uid, mtime } }), END]));
  assert.equal(r?.entry.uid, 256);
  assert.deepEqual(r?.entry.mtime, { sec: -1, nsec: 0 });
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

test('a GNU dumpdir is a directory: its listing is skipped, not handed out as data', async () => {
  // Found by tar-reader.fuzz.ts: the listing reached readData, past the directory's size of 0.
  const got = await readAll(
    Buffer.concat([
      rawEntry({ name: 'd/', typeflag: 'D', format: 'gnu' }, 'Yfile\0\0'),
      rawEntry({ name: 'next' }, 'n'),
      END,
    ]),
  );
  assert.deepEqual(
    got.map((r) => [r.entry.name, r.entry.type, r.entry.size, r.data]),
    [
      ['d/', 'dir', 0, ''],
      ['next', 'file', 1, 'n'],
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
  ['old GNU sparse type in a ustar header', Buffer.concat([rawEntry({ name: 's', typeflag: 'S' }), END]), 'DEN0311'],
  [
    'PAX sparse format 2.0',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.major', '2'],
        ['GNU.sparse.minor', '0'],
      ]),
      rawEntry({ name: 's' }),
      END,
    ]),
    'DEN0315',
  ],
  [
    'PAX sparse size without a map',
    Buffer.concat([paxEntry([['GNU.sparse.size', '100']]), rawEntry({ name: 's' }), END]),
    'DEN0311',
  ],
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
  const mine = new DenError('InvalidArgument', 'DEN0405', 'digest mismatch');
  const den = new TarReader(failing(mine)[Symbol.asyncIterator]());
  await assert.rejects(den.next(), (e) => e === mine);
});

/** Reads one sparse entry: its regions, and its content as the file would hold it (holes as zeros). */
async function readSparse(archive: Buffer): Promise<{ entry: TarEntry; content: Buffer }> {
  const reader = new TarReader(chunked(archive, [700, 512, 3])[Symbol.asyncIterator]());
  const entry = await reader.next();
  assert.ok(entry);
  const content = Buffer.alloc(entry.size);
  await reader.readData((chunk, position) => void chunk.copy(content, position));
  assert.equal(await reader.next(), null);
  return { entry, content };
}

/** The content of a sparse file with data `fill` in each region, zeros elsewhere. */
function sparseContent(size: number, regions: Array<[number, number]>, fill: (i: number) => string): Buffer {
  const b = Buffer.alloc(size);
  regions.forEach(([offset, length], i) => b.fill(fill(i), offset, offset + length));
  return b;
}

const SPARSE_REGIONS: Array<[number, number]> = [
  [0, 10],
  [4096, 600],
  [100_000, 1],
  [200_000, 0], // GNU tar ends a map that finishes in a hole with an empty region at the end
];
const SPARSE_SIZE = 200_000;
const sparseData = (regions: Array<[number, number]>): Buffer =>
  Buffer.concat(regions.map(([, length], i) => Buffer.alloc(length, String.fromCharCode(97 + i))));

test('old GNU sparse files: regions in the header and in extension blocks', async () => {
  const few = await readSparse(
    Buffer.concat([
      rawEntry(
        { name: 'sparse', typeflag: 'S', format: 'gnu', sparse: { regions: SPARSE_REGIONS, realSize: SPARSE_SIZE } },
        sparseData(SPARSE_REGIONS),
      ),
      END,
    ]),
  );
  assert.equal(few.entry.type, 'file');
  assert.equal(few.entry.size, SPARSE_SIZE);
  assert.deepEqual(
    few.entry.sparse,
    SPARSE_REGIONS.map(([offset, length]) => ({ offset, length })),
  );
  assert.deepEqual(
    few.content,
    sparseContent(SPARSE_SIZE, SPARSE_REGIONS, (i) => String.fromCharCode(97 + i)),
  );

  // 4 + 21 + 5 regions: two extension blocks.
  const many: Array<[number, number]> = Array.from({ length: 30 }, (_, i) => [i * 1000, 7]);
  const got = await readSparse(
    Buffer.concat([
      rawEntry(
        {
          name: 'many',
          typeflag: 'S',
          format: 'gnu',
          size: 30 * 7,
          sparse: { regions: many.slice(0, 4), realSize: 40_000, extended: true },
        },
        Buffer.alloc(0),
      ).subarray(0, 512),
      sparseExtension(many.slice(4, 25), true),
      sparseExtension(many.slice(25)),
      sparseData(many),
      Buffer.alloc(512 - ((30 * 7) % 512)),
      END,
    ]),
  );
  assert.equal(got.entry.sparse?.length, 30);
  assert.deepEqual(
    got.content,
    sparseContent(40_000, many, (i) => String.fromCharCode(97 + i)),
  );
});

test('PAX sparse files: formats 0.0, 0.1 and 1.0', async () => {
  const data = sparseData(SPARSE_REGIONS);
  const expected = sparseContent(SPARSE_SIZE, SPARSE_REGIONS, (i) => String.fromCharCode(97 + i));
  const v00 = Buffer.concat([
    paxEntry([
      ['GNU.sparse.size', String(SPARSE_SIZE)],
      ['GNU.sparse.numblocks', String(SPARSE_REGIONS.length)],
      ...SPARSE_REGIONS.flatMap(([o, l]): Array<[string, string]> => [
        ['GNU.sparse.offset', String(o)],
        ['GNU.sparse.numbytes', String(l)],
      ]),
    ]),
    rawEntry({ name: 'v00' }, data),
    END,
  ]);
  const v01 = Buffer.concat([
    paxEntry([
      ['GNU.sparse.major', '0'],
      ['GNU.sparse.minor', '1'],
      ['GNU.sparse.name', 'v01'],
      ['GNU.sparse.size', String(SPARSE_SIZE)],
      ['GNU.sparse.numblocks', String(SPARSE_REGIONS.length)],
      ['GNU.sparse.map', SPARSE_REGIONS.flat().join(',')],
    ]),
    rawEntry({ name: 'GNUSparseFile.0/v01' }, data),
    END,
  ]);
  const map = `${SPARSE_REGIONS.length}\n${SPARSE_REGIONS.flat().join('\n')}\n`;
  const map10 = Buffer.concat([Buffer.from(map), Buffer.alloc(512 - map.length)]);
  const v10 = Buffer.concat([
    paxEntry([
      ['GNU.sparse.major', '1'],
      ['GNU.sparse.minor', '0'],
      ['GNU.sparse.name', 'v10'],
      ['GNU.sparse.realsize', String(SPARSE_SIZE)],
    ]),
    rawEntry({ name: 'GNUSparseFile.0/v10' }, Buffer.concat([map10, data])),
    END,
  ]);
  for (const [name, archive] of [
    ['v00', v00],
    ['v01', v01],
    ['v10', v10],
  ] as const) {
    const { entry, content } = await readSparse(archive);
    assert.equal(entry.name, name);
    assert.equal(entry.size, SPARSE_SIZE, name);
    assert.equal(entry.sparse?.length, SPARSE_REGIONS.length, name);
    assert.deepEqual(content, expected, name);
  }
});

/** An old-GNU sparse file 's' with this map and stored data, alone in an archive. */
const gnuSparse = (regions: [number, number][], realSize: number, data: string): Buffer =>
  Buffer.concat([rawEntry({ name: 's', typeflag: 'S', format: 'gnu', sparse: { regions, realSize } }, data), END]);

const badSparse: Array<[string, Buffer, string]> = [
  ['a region beyond the real size', gnuSparse([[95, 10]], 100, 'x'.repeat(10)), 'DEN0311'],
  [
    'regions out of order',
    gnuSparse(
      [
        [50, 10],
        [0, 10],
      ],
      100,
      'x'.repeat(20),
    ),
    'DEN0311',
  ],
  [
    'overlapping regions',
    gnuSparse(
      [
        [0, 10],
        [5, 10],
      ],
      100,
      'x'.repeat(20),
    ),
    'DEN0311',
  ],
  ['a map that promises more data than the archive holds', gnuSparse([[0, 5000]], 9000, 'x'), 'DEN0311'],
  ['data the map does not account for', gnuSparse([[0, 1]], 9000, 'xyz'), 'DEN0311'],
  [
    'a 0.1 map with an odd count of numbers',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.size', '100'],
        ['GNU.sparse.numblocks', '1'],
        ['GNU.sparse.map', '0,5,9'],
      ]),
      rawEntry({ name: 's' }, 'xxxxx'),
      END,
    ]),
    'DEN0311',
  ],
  [
    'a 0.0 map whose records come out of turn',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.size', '100'],
        ['GNU.sparse.numblocks', '1'],
        ['GNU.sparse.numbytes', '5'],
        ['GNU.sparse.offset', '0'],
      ]),
      rawEntry({ name: 's' }, 'xxxxx'),
      END,
    ]),
    'DEN0311',
  ],
  [
    'a 1.0 map that is not numbers',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.realsize', '100'],
      ]),
      rawEntry({ name: 's' }, Buffer.concat([Buffer.from('1\n0\n-5\n'), Buffer.alloc(505)])),
      END,
    ]),
    'DEN0311',
  ],
  [
    'a 1.0 map longer than the data',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.realsize', '100'],
      ]),
      rawEntry({ name: 's' }, Buffer.concat([Buffer.from('999999\n'), Buffer.alloc(505, 0x31)])),
      END,
    ]),
    'DEN0311',
  ],
  [
    'a 1.0 map of a million regions',
    Buffer.concat([
      paxEntry([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.realsize', '100'],
        ['size', String(4 << 20)],
      ]),
      rawHeader({ name: 's', size: 0 }),
      Buffer.from('1000000\n'),
      Buffer.alloc(4 << 20, '0\n'),
      END,
    ]),
    'DEN0311',
  ],
];

for (const [what, archive, code] of badSparse) {
  test(`refuses a sparse file with ${what}`, async () => {
    const e = await readError(archive);
    assert.equal(e.code, code, e.message);
  });
}

test('metadata floods are refused: endless PAX headers, huge global records, huge volume labels', async () => {
  const many = Buffer.concat([
    ...Array.from({ length: 100 }, () => paxEntry([['comment', 'x']])),
    rawEntry({ name: 'f' }),
    END,
  ]);
  assert.equal((await readError(many)).code, 'DEN0311');
  const big = 'v'.repeat(900_000);
  const globals = Buffer.concat([
    paxEntry([['a', big]], 'g'),
    paxEntry([['b', big]], 'g'),
    rawEntry({ name: 'f' }),
    END,
  ]);
  assert.equal((await readError(globals)).code, 'DEN0311');
  const volume = Buffer.concat([rawHeader({ name: 'vol', typeflag: 'V', size: 2 ** 30 }), END]);
  assert.equal((await readError(volume)).code, 'DEN0311');
});

test('trailing data after the end marker is read up to a limit', async () => {
  const archive = Buffer.concat([rawEntry({ name: 'f' }, 'x'), END, Buffer.alloc(5000, 1)]);
  const ok = new TarReader(chunked(archive, [1000])[Symbol.asyncIterator]());
  while (await ok.next());
  await ok.drain(512 + 5000); // the second zero block of the end marker, then the rest
  const over = new TarReader(chunked(archive, [1000])[Symbol.asyncIterator]());
  while (await over.next());
  await assert.rejects(over.drain(5000), (e: DenError) => e.code === 'DEN0311');
});
