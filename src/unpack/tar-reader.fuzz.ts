/**
 * Fuzz targets for the tar reader (tar-reader.ts): every layer den pulls or loads goes through it
 * before anything is trusted. See common/fuzz.ts.
 *
 * - tar-roundtrip: archives written by tar-stream's packer (an independent writer: ustar with
 *   prefixes, PAX for long and non-ASCII names, PAX records of its caller) read back to the same
 *   names, types, modes, owners, times, link targets, extended attributes and data.
 * - tar-mutate: valid archives (from tar-stream, and from tar-fixture.ts for what tar-stream cannot
 *   write: GNU long names, base-256 numbers, global PAX records, old GNU and PAX 1.0 sparse files)
 *   mutated, often inside one header whose checksum is then fixed so that the mutation reaches the
 *   field parsers; the reader must refuse with a DenError or return entries that keep its limits.
 * - tar-meta-limit: a flood of extended headers before one entry is accepted up to the limit of 64,
 *   and refused beyond it.
 */
import { pack as tarPack, type Header } from 'tar-stream';
import { acceptOrRefuseAsync, mutateBytes, property, type FuzzTarget } from '../common/fuzz.js';
import type { SeededRandom } from '../common/seeded-random.js';
import { END, chunked, paxEntry, rawEntry, rawHeader, sparseExtension } from './tar-fixture.js';
import { TarReader, type TarEntry } from './tar-reader.js';

const BLOCK = 512;
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789._- ';
const UNICODE = ['é', '日本', 'ü', '\u{1f600}'];

interface Read {
  entry: TarEntry;
  data: Buffer;
}

/** Every entry and its data, fed in chunks of random sizes so that every boundary is crossed. */
async function readArchive(rand: SeededRandom, archive: Buffer): Promise<Read[]> {
  // One-byte chunks cost an iteration per byte: only for small archives.
  const tiny = archive.length < 4096 ? [1, 7] : [];
  const sizes = Array.from({ length: rand.int(1, 4) }, () =>
    rand.pick([...tiny, 100, 511, 512, 513, 4096, archive.length || 1]),
  );
  const reader = new TarReader(chunked(archive, sizes)[Symbol.asyncIterator]());
  const out: Read[] = [];
  for (let entry = await reader.next(); entry; entry = await reader.next()) {
    const data = Buffer.alloc(entry.type === 'file' && entry.size <= archive.length * 8 ? entry.size : 0);
    let delivered = 0;
    await reader.readData((chunk, position) => {
      property(
        position >= 0 && position + chunk.length <= entry.size,
        `data at ${position}+${chunk.length} lies outside ${entry.size} bytes`,
        archive,
      );
      if (data.length > 0) chunk.copy(data, position);
      delivered += chunk.length;
    });
    const regions = entry.sparse;
    const stored = regions ? regions.reduce((n, r) => n + r.length, 0) : entry.size;
    property(delivered === stored, `${delivered} data bytes delivered, the entry holds ${stored}`, archive);
    out.push({ entry, data });
  }
  await reader.drain(1 << 20);
  return out;
}

const safe = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** The reader's promises about every entry it returns, whatever the archive was. */
function checkEntries(reads: Read[], archive: Buffer): void {
  for (const { entry: e } of reads) {
    property(['file', 'link', 'symlink', 'char', 'block', 'dir', 'fifo'].includes(e.type), `type ${e.type}`, archive);
    property(safe(e.mode) && e.mode <= 0o7777, `mode ${e.mode}`, archive);
    property(safe(e.uid) && safe(e.gid), `owner ${e.uid}:${e.gid}`, archive);
    property(safe(e.size) && (e.type === 'file' || e.size === 0), `size ${e.size} of a ${e.type}`, archive);
    property(safe(e.devmajor) && safe(e.devminor), 'device numbers', archive);
    for (const t of [e.mtime, e.atime]) {
      if (t === undefined) continue;
      property(
        Number.isSafeInteger(t.sec) && Number.isInteger(t.nsec) && t.nsec >= 0 && t.nsec < 1e9,
        `time ${JSON.stringify(t)}`,
        archive,
      );
    }
    if (e.sparse) {
      let end = 0;
      for (const r of e.sparse) {
        property(
          safe(r.offset) && safe(r.length) && r.offset >= end,
          `sparse regions ${JSON.stringify(e.sparse)}`,
          archive,
        );
        end = r.offset + r.length;
      }
      property(end <= e.size, `sparse regions past the size ${e.size}`, archive);
    }
    // Names and values are bytes, one char each: nothing was decoded as UTF-8 on the way.
    property(![...e.name, ...e.linkname].some((c) => c.charCodeAt(0) > 0xff), 'a name is not bytes', archive);
  }
}

function fixChecksum(b: Buffer, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += b[i] as number;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

/** Fields of a header block: where the parser reads numbers, names, the type and the magic. */
const FIELDS: Array<[at: number, length: number, kind: 'number' | 'text' | 'type' | 'magic']> = [
  [0, 100, 'text'],
  [100, 8, 'number'],
  [108, 8, 'number'],
  [116, 8, 'number'],
  [124, 12, 'number'],
  [136, 12, 'number'],
  [156, 1, 'type'],
  [157, 100, 'text'],
  [257, 8, 'magic'],
  [329, 8, 'number'],
  [337, 8, 'number'],
  [345, 155, 'text'],
  [386, 12, 'number'], // old GNU sparse: the first region and the real size
  [398, 12, 'number'],
  [482, 1, 'type'],
  [483, 12, 'number'],
];

/** Rewrites one field of the header at `at` with something a parser must survive. */
function mutateField(rand: SeededRandom, b: Buffer, at: number): void {
  const [offset, length, kind] = rand.pick(FIELDS);
  const start = at + offset;
  const put = (v: Buffer): void => {
    b.fill(0, start, start + length);
    v.copy(b, start, 0, Math.min(length, v.length));
  };
  switch (kind) {
    case 'number': {
      const big = Buffer.alloc(length, 0xff);
      big[0] = rand.pick([0x80, 0xff, 0xc0]);
      put(
        rand.pick([
          Buffer.from('7'.repeat(length)),
          Buffer.from(`${'7'.repeat(length - 1)}\0`),
          big,
          rand.bytes(length),
          Buffer.from(rand.pick(['8', '-1', ' 1 2', '0x10', '1e9', '   ', '\0\0\0\x01'])),
          Buffer.from(
            rand
              .int(0, 2 ** 40)
              .toString(8)
              .padStart(length - 1, '0'),
          ),
        ]),
      );
      break;
    }
    case 'text':
      put(
        Buffer.from(rand.pick(['../../etc/passwd', '/abs', 'a\0b', '', '.', '..', 'x'.repeat(length), 'é\xff/\x80'])),
      );
      break;
    case 'type':
      b[start] = rand.chance(0.7)
        ? rand.pick([...'01234567xgLKSVDMNA\0'].map((c) => c.charCodeAt(0)))
        : rand.int(0, 255);
      break;
    default:
      put(Buffer.from(rand.pick(['ustar\u000000', 'ustar  \u0000', 'ustar\u0000', 'xxxxxxxx', ''])));
  }
}

/** A path of up to `maxComponents` components, now and then long or not ASCII. */
function name(rand: SeededRandom, maxComponents = 4, ascii = false): string {
  const parts = Array.from({ length: rand.int(1, maxComponents) }, () => {
    let s = rand.string(rand.int(1, rand.chance(0.1) ? 120 : 20), NAME_CHARS);
    if (!ascii && rand.chance(0.1)) s += rand.pick(UNICODE);
    return s;
  });
  return parts.join('/');
}

interface Expected {
  name: string;
  type: TarEntry['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: { sec: number; nsec: number };
  linkname: string;
  data: Buffer;
  xattrs: Record<string, Buffer>;
}

const STREAM_TYPES: Array<[Header['type'], TarEntry['type']]> = [
  ['file', 'file'],
  ['file', 'file'],
  ['directory', 'dir'],
  ['symlink', 'symlink'],
  ['link', 'link'],
  ['fifo', 'fifo'],
  ['character-device', 'char'],
  ['block-device', 'block'],
];

/** An archive written by tar-stream, and what each of its entries is. */
async function streamArchive(rand: SeededRandom): Promise<{ archive: Buffer; expected: Expected[] }> {
  const pack = tarPack();
  const expected: Expected[] = [];
  for (let n = rand.int(0, 6); n > 0; n--) {
    const [streamType, type] = rand.pick(STREAM_TYPES);
    const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    let entryName = name(rand);
    if (type === 'dir') entryName += '/';
    // tar-stream writes times through `| 0`, which wraps after 2038: stay below 2^31.
    const sec = rand.int(0, 2 ** 31 - 1);
    const header: Partial<Header> & { name: string } = {
      name: entryName,
      type: streamType,
      // Not 0: tar-stream writes its default mode (0644 or 0755) for a mode of 0.
      mode: rand.int(1, 0o7777),
      uid: rand.int(0, 0o777777),
      gid: rand.int(0, 0o777777),
      mtime: new Date(sec * 1000),
    };
    const e: Expected = {
      name: utf8(entryName),
      type,
      mode: header.mode!,
      uid: header.uid!,
      gid: header.gid!,
      mtime: { sec, nsec: 0 },
      linkname: '',
      data: Buffer.alloc(0),
      xattrs: {},
    };
    const pax: Record<string, string> = {};
    if (rand.chance(0.2)) {
      // PAX records tar-stream does not interpret: den must.
      const fraction = rand.string(rand.int(1, 12), '0123456789');
      pax.mtime = `${sec}.${fraction}`;
      e.mtime = { sec, nsec: Number(fraction.slice(0, 9).padEnd(9, '0')) };
    }
    if (rand.chance(0.2)) {
      const big = rand.int(0o777777 + 1, 2 ** 32 - 2);
      pax.uid = String(big);
      e.uid = big;
    }
    for (let x = rand.chance(0.2) ? rand.int(1, 3) : 0; x > 0; x--) {
      const key = `user.${rand.string(rand.int(1, 10), 'abcdef.')}`;
      const value = rand.string(rand.int(0, 40), `${NAME_CHARS}=\n`) + (rand.chance(0.3) ? rand.pick(UNICODE) : '');
      pax[`SCHILY.xattr.${key}`] = value;
      // Empty values unset a record in PAX, so no attribute comes of one.
      if (value !== '') e.xattrs[key] = Buffer.from(value, 'utf8');
      else delete e.xattrs[key];
    }
    if (type === 'symlink' || type === 'link') {
      // A long target only through PAX: tar-stream writes a header's link field unchecked.
      const target = name(rand, Object.keys(pax).length > 0 ? 4 : 1).slice(0, Object.keys(pax).length > 0 ? 400 : 100);
      header.linkname = target;
      e.linkname = utf8(target);
      if (Buffer.byteLength(target) > 100) pax.linkpath = target;
    }
    if (type === 'char' || type === 'block') {
      header.devmajor = rand.int(0, 0o777777);
      header.devminor = rand.int(0, 0o777777);
    }
    if (Object.keys(pax).length > 0) header.pax = pax;
    if (type === 'file') {
      e.data = rand.bytes(rand.int(0, rand.chance(0.2) ? 5000 : 600));
      header.size = e.data.length;
      pack.entry(header, e.data);
    } else {
      pack.entry(header);
    }
    expected.push(e);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return { archive: Buffer.concat(chunks), expected };
}

/** Offsets of the header blocks of a valid archive made by tar-stream (octal sizes, no sparse files). */
function headerOffsets(archive: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + BLOCK <= archive.length && archive[at] !== 0;) {
    out.push(at);
    const size = parseInt(archive.toString('latin1', at + 124, at + 136).replace(/[\0 ]/g, '') || '0', 8);
    const type = String.fromCharCode(archive[at + 156] as number);
    const data = ['0', 'x', 'g', '7', '\0'].includes(type) ? size : 0;
    at += BLOCK + Math.ceil(data / BLOCK) * BLOCK;
  }
  return out;
}

/** An archive in the forms tar-stream does not write, built block by block, with its header offsets. */
function fixtureArchive(rand: SeededRandom): { archive: Buffer; headers: number[] } {
  const pieces: Array<{ bytes: Buffer; headers: number[] }> = [];
  const add = (bytes: Buffer, headers = [0]): void => void pieces.push({ bytes, headers });
  for (let n = rand.int(1, 5); n > 0; n--) {
    switch (rand.int(0, 7)) {
      case 0:
        add(
          rawEntry(
            { name: name(rand, 1, true).slice(0, 100), format: rand.pick(['ustar', 'gnu', 'v7']) as 'ustar' },
            rand.bytes(rand.int(0, 700)),
          ),
        );
        break;
      case 1: {
        const long = name(rand, 4, true).padEnd(150, 'n');
        add(
          Buffer.concat([
            rawEntry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `${long}\0`),
            rawEntry({ name: long.slice(0, 99), format: 'gnu' }, 'x'),
          ]),
          [0, 1024],
        );
        break;
      }
      case 2: {
        const pax = paxEntry([
          ['path', name(rand)],
          ['uid', String(rand.int(0, 2 ** 32))],
          ['mtime', `${rand.int(-1e9, 2e9)}.${rand.int(0, 999999999)}`],
          [
            'SCHILY.xattr.security.capability',
            Buffer.from([1, 0, 0, 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          ],
        ]);
        add(Buffer.concat([pax, rawEntry({ name: 'f' }, rand.bytes(rand.int(0, 100)))]), [0, pax.length]);
        break;
      }
      case 3: {
        const g = paxEntry([['uid', String(rand.int(0, 70000))]], 'g');
        add(Buffer.concat([g, rawEntry({ name: 'g' }, 'global')]), [0, g.length]);
        break;
      }
      case 4: {
        const uid = Buffer.alloc(8);
        uid[0] = 0x80;
        uid.writeUInt32BE(rand.int(0, 2 ** 32 - 1), 4);
        add(rawEntry({ name: 'base256', fields: { uid } }, 'b'));
        break;
      }
      case 5: {
        // Old GNU sparse: two regions in the header, one in an extension block.
        const header = rawHeader({
          name: 'sparse',
          typeflag: 'S',
          format: 'gnu',
          size: 1536,
          sparse: {
            regions: [
              [0, 512],
              [4096, 512],
            ],
            realSize: 16384,
            extended: true,
          },
        });
        add(Buffer.concat([header, sparseExtension([[8192, 512]]), rand.bytes(1536)]), [0]);
        break;
      }
      case 6: {
        // PAX sparse 1.0: the map is the first block of the data.
        const map = Buffer.alloc(BLOCK);
        map.write('2\n0\n100\n1000\n200\n', 'latin1');
        const pax = paxEntry([
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.name', name(rand)],
          ['GNU.sparse.realsize', '2000'],
        ]);
        add(Buffer.concat([pax, rawEntry({ name: 'GNUSparseFile.0/x' }, Buffer.concat([map, rand.bytes(300)]))]), [
          0,
          pax.length,
        ]);
        break;
      }
      default:
        add(
          rawEntry({
            name: `${name(rand, 1, true).slice(0, 90)}/`,
            typeflag: rand.pick(['5', '2', '1', '3', '6']),
            linkname: 'target',
          }),
        );
    }
  }
  const headers: number[] = [];
  let at = 0;
  for (const p of pieces) {
    headers.push(...p.headers.map((h) => at + h));
    at += p.bytes.length;
  }
  return { archive: Buffer.concat([...pieces.map((p) => p.bytes), END]), headers };
}

export const TAR_TARGETS: FuzzTarget[] = [
  {
    name: 'tar-roundtrip',
    cases: 200,
    async one(rand) {
      const { archive, expected } = await streamArchive(rand);
      // Valid: any error, a DenError too, fails the case, with the error's own words.
      const reads = await readArchive(rand, archive);
      checkEntries(reads, archive);
      const got = reads.map(({ entry: e, data }) => ({
        name: e.name,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        linkname: e.linkname,
        data: data.toString('base64'),
        xattrs: Object.fromEntries([...e.xattrs].map(([k, v]) => [k, v.toString('base64')])),
      }));
      const want = expected.map((e) => ({
        ...e,
        data: e.data.toString('base64'),
        xattrs: Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, v.toString('base64')])),
      }));
      property(
        JSON.stringify(got) === JSON.stringify(want),
        `read ${JSON.stringify(got)}\nwrote ${JSON.stringify(want)}`,
        archive,
      );
    },
  },
  {
    name: 'tar-mutate',
    cases: 400,
    async one(rand) {
      const fromStream = rand.chance(0.5);
      const { archive, headers } = fromStream
        ? await streamArchive(rand).then(({ archive: a }) => ({ archive: a, headers: headerOffsets(a) }))
        : fixtureArchive(rand);
      let mutated: Buffer;
      if (headers.length > 0 && rand.chance(0.6)) {
        // Inside one header, checksum fixed (mostly), so the field parsers see the mutation.
        mutated = Buffer.from(archive);
        const at = rand.pick(headers);
        for (let n = rand.int(1, 3); n > 0; n--) mutateField(rand, mutated, at);
        if (rand.chance(0.85)) fixChecksum(mutated, at);
      } else {
        mutated = mutateBytes(rand, archive, fixtureArchive(rand).archive);
      }
      const reads = await acceptOrRefuseAsync(() => readArchive(rand, mutated), mutated);
      if (reads !== undefined) checkEntries(reads, mutated);
    },
  },
  {
    name: 'tar-meta-limit',
    cases: 60,
    maxCases: 2000,
    async one(rand) {
      // Up to 64 extended headers may precede an entry (MAX_META_HEADERS); one more is a flood.
      const count = rand.int(56, 72);
      const metas = Array.from({ length: count }, (_, i) =>
        i % 3 === 2
          ? rawEntry({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, `long-${i}\0`)
          : paxEntry([['comment', `header ${i}`]]),
      );
      const archive = Buffer.concat([...metas, rawEntry({ name: 'f' }, 'data'), END]);
      const reads = await acceptOrRefuseAsync(() => readArchive(rand, archive), archive);
      property(
        (reads !== undefined) === count <= 64,
        `${count} extended headers: ${reads ? 'accepted' : 'refused'}`,
        `${count} headers`,
      );
    },
  },
];
