import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DenError } from '../../common/errors.js';
import { ContentStore } from '../../content/index.js';
import { END, chunked, paxEntry, rawEntry, rawHeader } from '../../unpack/tar-fixture.js';
import { ArchiveFiles, type EntryTaker } from './archive-files.js';

const base = mkdtempSync(join(tmpdir(), 'den-archive-files-test-'));
after(() => rmSync(base, { recursive: true, force: true }));
const content = new ContentStore(join(base, 'content'));
content.init();

const declineAll: EntryTaker = () => Promise.resolve(undefined);

async function read(archive: Buffer, sizes?: number[], take: EntryTaker = declineAll): Promise<ArchiveFiles> {
  const files = new ArchiveFiles(content, 'test.tar', 'test');
  try {
    await files.read(chunked(archive, sizes), take, () => {});
  } catch (e) {
    files.abort();
    throw e;
  }
  return files;
}

const text = (files: ArchiveFiles, name: string): string | undefined => {
  const file = files.get(name);
  return file && files.bytes(name, file, 8 << 20).toString();
};

const big = Buffer.alloc((1 << 20) + 1, 'b');
const longName = `blobs/sha256/${'e'.repeat(64)}/${'n'.repeat(60)}`;
const good = Buffer.concat([
  rawEntry({ name: './manifest.json' }, '[]'),
  rawEntry({ name: 'dir/', typeflag: '5' }),
  rawEntry({ name: 'dir//layer.tar' }, 'layer'),
  rawEntry({ name: 'other/layer.tar', typeflag: '2', linkname: '../dir/layer.tar' }),
  rawEntry({ name: 'hard.tar', typeflag: '1', linkname: 'dir/layer.tar' }),
  rawEntry({ name: Buffer.from('caf\u00e9.json') }, 'utf-8 name'),
  paxEntry([['path', longName]]),
  rawEntry({ name: 'placeholder' }, 'pax name'),
  rawEntry({ name: 'big' }, big),
  rawEntry({ name: 'again' }, 'first'),
  rawEntry({ name: 'again' }, 'second'),
  rawEntry({ name: '../outside' }, 'not a name'),
  END,
  Buffer.alloc(9 * 1024),
]);

test('the regular files of an archive, by normalised name, through links, in any chunking', async () => {
  for (const [form, archive] of [
    ['plain', good],
    ['gzip', gzipSync(good)],
  ] as const) {
    for (const sizes of [undefined, [1, 511, 512, 513], [4096]]) {
      const files = await read(archive, sizes);
      const at = `${form} in chunks of ${String(sizes)}`;
      assert.equal(text(files, 'manifest.json'), '[]', at);
      assert.equal(text(files, 'dir/layer.tar'), 'layer', at);
      assert.equal(text(files, 'other/layer.tar'), 'layer', `${at}: a symlink is an alias`);
      assert.equal(text(files, 'hard.tar'), 'layer', `${at}: a hardlink is an alias`);
      assert.equal(text(files, 'café.json'), 'utf-8 name', at);
      assert.equal(text(files, longName), 'pax name', at);
      assert.equal(text(files, 'again'), 'second', `${at}: a later entry replaces an earlier one`);
      assert.equal(files.get('dir'), undefined, at);
      assert.equal(files.get('outside'), undefined, at);
      const spooled = files.get('big')!;
      assert.ok(spooled.ingest && !spooled.data, `${at}: a large file is spooled`);
      assert.ok(files.bytes('big', spooled, 8 << 20).equals(big), at);
      files.abort();
    }
  }
});

test('a taker gets the data it asks for; what it declines is kept', async () => {
  const taken = new Map<string, string>();
  const take: EntryTaker = async (name, size, data: Readable) => {
    if (!name.endsWith('.tar')) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of data) chunks.push(chunk as Buffer);
    taken.set(name, Buffer.concat(chunks).toString());
    return { size, data: Buffer.from('taken') };
  };
  const files = await read(good, [100], take);
  assert.deepEqual([...taken], [['dir/layer.tar', 'layer']]);
  assert.equal(text(files, 'dir/layer.tar'), 'taken');
  assert.equal(text(files, 'manifest.json'), '[]');
  assert.ok(files.bytes('big', files.get('big')!, 8 << 20).equals(big));
  files.abort();
});

/** The archive's failures in den load's words: DEN0950 before the first entry, DEN0951 after. */
test('broken archives, each with its code and reason', async () => {
  const first = rawEntry({ name: 'manifest.json' }, '[]');
  const cases: [string, Buffer, string, RegExp][] = [
    ['garbage', Buffer.from('this is not a tar archive\n'.repeat(40)), 'DEN0950', /not a tar archive: .*checksum/],
    ['a short garbage', Buffer.from('garbage'), 'DEN0950', /not a tar archive: .*ends inside a header/],
    ['empty', Buffer.alloc(0), 'DEN0952', /test\.tar is empty/],
    ['a gzip stream cut short', gzipSync(good).subarray(0, 100), 'DEN0950', /gzip stream is truncated or corrupt/],
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1, 2]), 'DEN0950', /unsupported compression: xz/],
    [
      'cut inside a file',
      Buffer.concat([first, rawEntry({ name: 'l.tar' }, Buffer.alloc(5000))]).subarray(0, 3000),
      'DEN0951',
      /^archive test\.tar: truncated or corrupt: .*archive ends inside file data/,
    ],
    [
      'a bad checksum after the first entry',
      Buffer.concat([first, rawEntry({ name: 'x', checksumDelta: 1 }, 'x'), END]),
      'DEN0951',
      /checksum mismatch at offset 1024/,
    ],
    [
      // The tar reader's own limit on metadata: there is one reader, with one set of header limits.
      'a PAX header of more than 1 MiB',
      Buffer.concat([first, paxEntry([['comment', 'x'.repeat(1 << 20)]]), rawEntry({ name: 'x' }), END]),
      'DEN0951',
      /extended headers of more than 1048576 bytes/,
    ],
    [
      'an entry type den does not read',
      Buffer.concat([first, rawEntry({ name: 'x', typeflag: 'N' }), END]),
      'DEN0951',
      /truncated or corrupt: .*unsupported entry/,
    ],
    [
      'a sparse file',
      Buffer.concat([
        first,
        rawHeader({
          name: 's',
          typeflag: 'S',
          format: 'gnu',
          size: 512,
          sparse: { regions: [[0, 512]], realSize: 4096 },
        }),
        Buffer.alloc(512),
        END,
      ]),
      'DEN0951',
      /s: a sparse file/,
    ],
  ];
  for (const [label, archive, code, message] of cases) {
    await assert.rejects(
      read(archive),
      (e: unknown) => {
        assert.ok(e instanceof DenError, `${label}: ${String(e)}`);
        assert.equal(e.code, code, `${label}: ${e.message}`);
        assert.match(e.message, message, label);
        return true;
      },
      label,
    );
  }
});

test('a taker failing because the archive broke under it is the archive failing; its own failure is its own', async () => {
  const archive = Buffer.concat([
    rawEntry({ name: 'manifest.json' }, '[]'),
    rawEntry({ name: 'l.tar' }, Buffer.alloc(8000)),
  ]);
  const consume: EntryTaker = async (_name, size, data) => {
    for await (const _ of data) void _;
    return { size };
  };
  await assert.rejects(read(archive.subarray(0, 4000), [512], consume), (e: DenError) => e.code === 'DEN0951');
  const mine = new Error('the taker gave up');
  const giveUp: EntryTaker = async (name, _size, data) => {
    if (name !== 'l.tar') return undefined;
    data.destroy();
    throw mine;
  };
  await assert.rejects(read(Buffer.concat([archive, END]), [512], giveUp), (e) => e === mine);
});
