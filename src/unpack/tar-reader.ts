/**
 * A streaming reader for tar archives (ustar, GNU and PAX), written for hostile input.
 *
 * We read tar ourselves rather than through tar-stream because tar-stream decodes PAX values as
 * UTF-8 text, which mangles binary extended attributes (a `security.capability` with CAP_SETUID
 * holds the byte 0x80) and non-UTF-8 file names. Here names and values stay bytes: a name is a
 * latin1 string, one char per byte, and becomes a Buffer again at the file system call.
 *
 * Every header is checksummed, every number parsed strictly, and metadata (PAX records, long
 * names, sparse maps, the headers before one entry) is bounded, so a corrupt, truncated or merely
 * enormous archive fails with DEN0311 instead of being half-understood or filling memory.
 * Header-only types (links, directories, devices, fifos) carry no data even when their size field
 * says so, as in Go's archive/tar, which wrote most layers. Sparse files are read in every form GNU
 * tar writes them (old GNU 'S' headers with extension blocks, PAX 0.0, 0.1 and 1.0) and checked as
 * Go and BSD tar check them: regions in order, apart, inside the file, and accounting for exactly
 * the data that follows.
 */
import type { DenError } from '../common/errors.js';
import { isDenError } from '../common/errors.js';
import type { Timespec } from '../common/timestamps.js';
import { corrupt, display, unpackBug, unsupportedEntry } from './unpack-errors.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** A stretch of a sparse file that holds data; what lies between regions is a hole. */
export interface SparseRegion {
  offset: number;
  length: number;
}

export interface TarEntry {
  /** The member name as bytes (latin1 string), exactly as archived: not cleaned or checked. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** The file's size; for a sparse file, holes included. 0 for every type but 'file'. */
  size: number;
  /**
   * A sparse file's data regions, in file order and apart (GNU tar's old 'S' entries and its PAX
   * formats 0.0, 0.1 and 1.0). The entry's data fills them one after the other.
   */
  sparse: SparseRegion[] | undefined;
  /** To the nanosecond when a PAX header gives it. */
  mtime: Timespec;
  atime: Timespec | undefined;
  /** Symlink target or hardlink target (latin1 string). */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.*` PAX records: name (latin1) to raw value. */
  xattrs: ReadonlyMap<string, Buffer>;
}

const BLOCK = 512;
/**
 * The metadata one entry may carry (PAX headers, GNU long names, sparse maps), and the global PAX
 * records all together: more is not a real archive's, and would only cost memory.
 */
const MAX_META_BYTES = 1 << 20;
/** Metadata headers before one entry: a real archive has a few (x, g, L, K); more is a flood. */
const MAX_META_HEADERS = 64;
/**
 * How long the reader works before it lets the event loop turn. The unpacker's file system calls
 * are synchronous, and only a turning loop hands more input to the decompressor, takes its output,
 * and completes the reads: without a turn every so often, both would wait for the file system.
 */
const YIELD_MS = 0.5;
const EMPTY = Buffer.alloc(0);
const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();
const NO_PAX = new Map<string, Buffer>();

export class TarReader {
  private chunk: Buffer = EMPTY;
  private pos = 0;
  /** Archive offset of `chunk[0]`, for error messages. */
  private chunkOffset = 0;
  /** Data bytes of the current entry not yet consumed, and the padding after them. */
  private remaining = 0;
  private padding = 0;
  /** Where the next data byte goes in the file, and how much of the current region is left. */
  private position = 0;
  private regionLeft = 0;
  private regions: SparseRegion[] | undefined;
  private regionIndex = 0;
  private globalPax = NO_PAX;
  private lastYield = performance.now();

  constructor(private readonly source: AsyncIterator<Uint8Array | string>) {}

  /** The next entry, or null at the end of the archive. Skips any unread data of the previous one. */
  async next(): Promise<TarEntry | null> {
    await this.breathe();
    await this.skip(this.remaining + this.padding);
    this.remaining = this.padding = 0;
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    let metaBytes = 0;
    for (let headers = 0; ; headers++) {
      const at = this.offset();
      if (headers > MAX_META_HEADERS) throw corrupt(`more than ${MAX_META_HEADERS} extended headers at offset ${at}`);
      const block = await this.read(BLOCK);
      if (block === null || isZero(block)) {
        if (pax || longName !== undefined || longLink !== undefined) {
          throw corrupt('archive ends after an extended header');
        }
        // The end marker, or an archive that stops without one, which GNU tar accepts too.
        return null;
      }
      const h = parseHeader(block, at);
      if (META_TYPES.includes(h.typeflag)) {
        metaBytes += h.size;
        if (metaBytes > MAX_META_BYTES)
          throw corrupt(`extended headers of more than ${MAX_META_BYTES} bytes at offset ${at}`);
      }
      switch (h.typeflag) {
        case 'x':
          pax = parsePax(await this.readMeta(h.size, at), pax ?? new Map());
          continue;
        case 'g':
          this.globalPax = withoutEmpty(parsePax(await this.readMeta(h.size, at), this.globalPax));
          if (paxBytes(this.globalPax) > MAX_META_BYTES)
            throw corrupt(`global PAX records exceed ${MAX_META_BYTES} bytes`);
          continue;
        case 'L':
          longName = cString(await this.readMeta(h.size, at));
          continue;
        case 'K':
          longLink = cString(await this.readMeta(h.size, at));
          continue;
        case 'V': // a volume label names the archive, not a file
          await this.skip(h.size + pad(h.size));
          continue;
      }
      // An old GNU sparse header lists its regions in itself and in extension blocks after it.
      const gnuSparse = h.typeflag === 'S' ? await this.oldGnuSparseMap(block, at) : undefined;
      const merged = mergePax(this.globalPax, pax);
      const entry = this.makeEntry(h, merged, longName, longLink, at, gnuSparse?.realSize);
      const stored = entry.type === 'file' || h.typeflag === 'D' ? (paxNumber(merged, 'size', at) ?? h.size) : 0;
      // A dumpdir's listing is skipped like padding, not handed to readData: the entry is a
      // directory, whose size is 0, and data beyond an entry's size must never reach a sink.
      const listing = entry.type === 'file' ? 0 : stored;
      this.remaining = stored - listing;
      this.padding = listing + pad(stored);
      let regions = gnuSparse?.regions;
      if (regions === undefined && entry.type === 'file' && merged.size > 0)
        regions = await this.paxSparseMap(merged, entry, at);
      this.startData(entry, regions);
      return entry;
    }
  }

  /**
   * Hands the current entry's data to `sink` in order, with the file offset each piece belongs at
   * (holes of a sparse file are skipped over). The chunks are views of the input: the producer
   * does not reuse them, so they may be kept, but they must not be changed.
   */
  async readData(sink: (chunk: Buffer, position: number) => void | Promise<void>): Promise<void> {
    while (this.remaining > 0) {
      if (this.pos === this.chunk.length && !(await this.pull())) throw corrupt('archive ends inside file data');
      while (this.regionLeft === 0) this.nextRegion();
      const n = Math.min(this.remaining, this.chunk.length - this.pos, this.regionLeft);
      const piece = this.chunk.subarray(this.pos, this.pos + n);
      const position = this.position;
      this.pos += n;
      this.remaining -= n;
      this.regionLeft -= n;
      this.position += n;
      const pending = sink(piece, position);
      if (pending !== undefined) await pending;
    }
  }

  /**
   * Reads the input to its end: whatever verifies the stream upstream (a digest) sees every byte.
   * More than `maxBytes` after the end of the archive is refused rather than read forever.
   */
  async drain(maxBytes = Infinity): Promise<void> {
    let extra = 0;
    do {
      extra += this.chunk.length - this.pos;
      this.pos = this.chunk.length;
      if (extra > maxBytes) throw corrupt(`more than ${maxBytes} bytes after the end of the archive`);
    } while (await this.pull());
  }

  /** Stops reading early; a Node.js stream destroys itself when its iterator returns. */
  async close(): Promise<void> {
    await this.source.return?.();
  }

  private makeEntry(
    h: Header,
    pax: Map<string, Buffer>,
    longName: string | undefined,
    longLink: string | undefined,
    at: number,
    sparseSize: number | undefined,
  ): TarEntry {
    // GNU tar's PAX sparse formats keep the real name apart from the placeholder in the header.
    const name = paxString(pax, 'GNU.sparse.name') ?? paxString(pax, 'path') ?? longName ?? h.name;
    let type: TarEntryType;
    switch (h.typeflag) {
      case '0':
      case '7': // contiguous file: a plain file everywhere but on one 1980s system
      case 'S': // old GNU sparse file
        type = 'file';
        break;
      case '\0': // old tar marked directories only by the trailing slash
        type = h.name.endsWith('/') ? 'dir' : 'file';
        break;
      case '1':
        type = 'link';
        break;
      case '2':
        type = 'symlink';
        break;
      case '3':
        type = 'char';
        break;
      case '4':
        type = 'block';
        break;
      case '5':
      case 'D': // GNU dumpdir: a directory followed by a listing we do not need
        type = 'dir';
        break;
      case '6':
        type = 'fifo';
        break;
      default:
        throw unsupportedEntry(name, `type flag ${JSON.stringify(h.typeflag)}`);
    }
    let xattrs = NO_XATTRS;
    if (pax.size > 0) {
      for (const [key, value] of pax) {
        if (!key.startsWith('SCHILY.xattr.') || key.length <= 13) continue;
        if (xattrs === NO_XATTRS) xattrs = new Map();
        (xattrs as Map<string, Buffer>).set(key.slice(13), value);
      }
    }
    const size = type !== 'file' ? 0 : (sparseSize ?? paxNumber(pax, 'size', at) ?? h.size);
    return {
      name,
      type,
      mode: h.mode & 0o7777,
      uid: paxNumber(pax, 'uid', at) ?? h.uid,
      gid: paxNumber(pax, 'gid', at) ?? h.gid,
      size,
      sparse: undefined,
      mtime: paxTime(pax, 'mtime', at) ?? { sec: h.mtime, nsec: 0 },
      atime: paxTime(pax, 'atime', at),
      linkname: paxString(pax, 'linkpath') ?? longLink ?? h.linkname,
      devmajor: h.devmajor,
      devminor: h.devminor,
      xattrs,
    };
  }

  /** Sets up the data cursor; a sparse map must account for exactly the data that follows. */
  private startData(entry: TarEntry, regions: SparseRegion[] | undefined): void {
    this.position = 0;
    this.regions = undefined;
    this.regionIndex = 0;
    this.regionLeft = this.remaining;
    if (regions === undefined) return;
    let end = 0;
    let data = 0;
    for (const r of regions) {
      if (r.offset < end || r.offset + r.length > entry.size) {
        throw corrupt(`sparse map of ${display(entry.name)} has regions out of order or beyond its size`);
      }
      end = r.offset + r.length;
      data += r.length;
    }
    if (data !== this.remaining) {
      throw corrupt(
        `sparse map of ${display(entry.name)} describes ${data} bytes, the archive holds ${this.remaining}`,
      );
    }
    entry.sparse = regions;
    this.regions = regions;
    this.regionLeft = 0;
  }

  private nextRegion(): void {
    const r = (this.regions as SparseRegion[])[this.regionIndex++] as SparseRegion;
    this.position = r.offset;
    this.regionLeft = r.length;
  }

  /** The regions of an old GNU sparse entry ('S'): four in the header, 21 in each extension block. */
  private async oldGnuSparseMap(block: Buffer, at: number): Promise<{ realSize: number; regions: SparseRegion[] }> {
    if (block.toString('latin1', 257, 265) !== 'ustar  \0')
      throw corrupt(`sparse entry without a GNU header at offset ${at}`);
    const realSize = parseNumber(block, 483, 12, at, 'sparse size');
    const regions: SparseRegion[] = [];
    const parseRegions = (b: Buffer, start: number, count: number): void => {
      for (let i = 0; i < count; i++) {
        const o = start + i * 24;
        if (b[o] === 0) break; // as GNU and BSD tar: an empty offset ends the list
        regions.push({
          offset: parseNumber(b, o, 12, at, 'sparse offset'),
          length: parseNumber(b, o + 12, 12, at, 'sparse length'),
        });
      }
    };
    parseRegions(block, 386, 4);
    let extended = block[482] !== 0;
    for (let blocks = 0; extended; blocks++) {
      if (blocks * BLOCK > MAX_META_BYTES)
        throw corrupt(`sparse map of more than ${MAX_META_BYTES} bytes at offset ${at}`);
      const ext = await this.read(BLOCK);
      if (ext === null) throw corrupt('archive ends inside a sparse map');
      parseRegions(ext, 0, 21);
      extended = ext[504] !== 0;
    }
    return { realSize, regions };
  }

  /**
   * The regions of a GNU PAX sparse file: format 0.0 (repeated offset and numbytes records, joined
   * into GNU.sparse.map by parsePax), 0.1 (GNU.sparse.map), or 1.0 (a map at the start of the
   * data). Undefined when the records do not describe a sparse file.
   */
  private async paxSparseMap(
    pax: Map<string, Buffer>,
    entry: TarEntry,
    at: number,
  ): Promise<SparseRegion[] | undefined> {
    const major = paxString(pax, 'GNU.sparse.major');
    const minor = paxString(pax, 'GNU.sparse.minor');
    const map = paxString(pax, 'GNU.sparse.map');
    let version: '0' | '1';
    if (major === '1' && minor === '0') version = '1';
    else if (major === '0' && (minor === '0' || minor === '1')) version = '0';
    else if (major !== undefined || minor !== undefined)
      throw unsupportedEntry(entry.name, `PAX sparse format ${major ?? '?'}.${minor ?? '?'}`);
    else if (map !== undefined) version = '0';
    else if (pax.has('GNU.sparse.size') || pax.has('GNU.sparse.realsize'))
      throw corrupt(`sparse file ${display(entry.name)} without a sparse map`);
    else return undefined;
    const real = paxNumber(pax, 'GNU.sparse.size', at) ?? paxNumber(pax, 'GNU.sparse.realsize', at);
    if (real === undefined) throw corrupt(`sparse file ${display(entry.name)} without its real size`);
    entry.size = real;
    if (version === '1') return this.sparseMap1x0(entry, at);
    const count = paxNumber(pax, 'GNU.sparse.numblocks', at);
    const numbers = map === undefined || map === '' ? [] : map.split(',');
    if (count === undefined || numbers.length !== count * 2)
      throw corrupt(`malformed sparse map of ${display(entry.name)}`);
    return pairs(numbers.map((n) => sparseNumber(n, entry, at)));
  }

  /** PAX sparse 1.0: decimal numbers, one a line (count, then offset and length pairs), padded to a block. */
  private async sparseMap1x0(entry: TarEntry, at: number): Promise<SparseRegion[]> {
    const numbers: number[] = [];
    let line = '';
    let wanted = 1;
    let mapBlocks = 0;
    while (numbers.length < wanted) {
      if (this.remaining < BLOCK) throw corrupt(`sparse map of ${display(entry.name)} runs past its data`);
      if ((mapBlocks += 1) * BLOCK > MAX_META_BYTES) throw corrupt(`sparse map of ${display(entry.name)} is too long`);
      const block = await this.read(BLOCK);
      if (block === null) throw corrupt('archive ends inside a sparse map');
      this.remaining -= BLOCK;
      for (let i = 0; i < BLOCK && numbers.length < wanted; i++) {
        const c = block[i] as number;
        if (c !== 0x0a) {
          line += String.fromCharCode(c);
          if (line.length > 20) throw corrupt(`malformed sparse map of ${display(entry.name)}`);
          continue;
        }
        numbers.push(sparseNumber(line, entry, at));
        line = '';
        if (numbers.length === 1) wanted = 1 + 2 * (numbers[0] as number);
      }
    }
    return pairs(numbers.slice(1));
  }

  /** Lets the event loop turn if the reader has kept it busy for a while; see YIELD_MS. */
  private async breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }

  private offset(): number {
    return this.chunkOffset + this.pos;
  }

  /** Fetches the next input chunk; false at the end of the input. */
  private async pull(): Promise<boolean> {
    let r: IteratorResult<Uint8Array | string>;
    try {
      await this.breathe();
      r = await this.source.next();
    } catch (e) {
      throw isDenError(e) ? (e as DenError) : corrupt((e as Error).message, e);
    }
    if (r.done) return false;
    if (typeof r.value === 'string') throw unpackBug(new TypeError('the layer stream yields text, not bytes'));
    this.chunkOffset += this.chunk.length;
    this.chunk = Buffer.isBuffer(r.value)
      ? r.value
      : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pos = 0;
    return true;
  }

  /** Exactly n bytes, null at a clean end of input; throws if the input stops part way. */
  private async read(n: number): Promise<Buffer | null> {
    if (this.chunk.length - this.pos >= n) {
      this.pos += n;
      return this.chunk.subarray(this.pos - n, this.pos);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      if (this.pos === this.chunk.length && !(await this.pull())) {
        if (filled === 0) return null;
        throw corrupt(`archive ends inside a header at offset ${this.offset()}`);
      }
      const take = Math.min(n - filled, this.chunk.length - this.pos);
      this.chunk.copy(out, filled, this.pos, this.pos + take);
      this.pos += take;
      filled += take;
    }
    return out;
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.pos === this.chunk.length && !(await this.pull())) throw corrupt('archive ends inside file data');
      const take = Math.min(n, this.chunk.length - this.pos);
      this.pos += take;
      n -= take;
    }
  }

  /** The data of a metadata entry (PAX header, long name), copied out of the input. */
  private async readMeta(size: number, at: number): Promise<Buffer> {
    if (size > MAX_META_BYTES) throw corrupt(`extended header of ${size} bytes at offset ${at}`);
    const data = size === 0 ? EMPTY : await this.read(size);
    if (data === null) throw corrupt('archive ends inside an extended header');
    await this.skip(pad(size));
    return Buffer.from(data);
  }
}

/** Type flags of headers that describe the next entry rather than being one. */
const META_TYPES = ['x', 'g', 'L', 'K', 'V'];

function sparseNumber(text: string, entry: TarEntry, at: number): number {
  const n = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw corrupt(`malformed sparse map of ${display(entry.name)} at offset ${at}`);
  }
  return n;
}

function pairs(numbers: number[]): SparseRegion[] {
  const out: SparseRegion[] = [];
  for (let i = 0; i + 1 < numbers.length; i += 2)
    out.push({ offset: numbers[i] as number, length: numbers[i + 1] as number });
  return out;
}

function paxBytes(pax: Map<string, Buffer>): number {
  let n = 0;
  for (const [key, value] of pax) n += key.length + value.length;
  return n;
}

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function parseHeader(b: Buffer, at: number): Header {
  const stored = parseNumber(b, 148, 8, at, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (stored !== unsigned && stored !== signed) throw corrupt(`header checksum mismatch at offset ${at}`);
  // Only POSIX ustar has the prefix field; GNU tar keeps access and change times there.
  const ustar = b.toString('latin1', 257, 263) === 'ustar\0';
  const name = field(b, 0, 100);
  const prefix = ustar ? field(b, 345, 155) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: parseNumber(b, 100, 8, at, 'mode'),
    uid: parseNumber(b, 108, 8, at, 'uid'),
    gid: parseNumber(b, 116, 8, at, 'gid'),
    size: parseNumber(b, 124, 12, at, 'size'),
    mtime: parseNumber(b, 136, 12, at, 'mtime', true),
    typeflag: String.fromCharCode(b[156] as number),
    linkname: field(b, 157, 100),
    devmajor: parseNumber(b, 329, 8, at, 'devmajor'),
    devminor: parseNumber(b, 337, 8, at, 'devminor'),
  };
}

/** A NUL-terminated string field as bytes. */
function field(b: Buffer, start: number, length: number): string {
  const end = b.indexOf(0, start);
  return b.toString('latin1', start, end === -1 || end > start + length ? start + length : end);
}

/** A numeric field: octal text, or base-256 (GNU) when the high bit of the first byte is set. */
function parseNumber(
  b: Buffer,
  start: number,
  length: number,
  at: number,
  what: string,
  allowNegative = false,
): number {
  const first = b[start] as number;
  if (first & 0x80) {
    const negative = first === 0xff;
    if (negative && !allowNegative) throw corrupt(`negative ${what} in header at offset ${at}`);
    let v = negative ? -1 : first & 0x7f;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + (b[i] as number);
    if (!Number.isSafeInteger(v)) throw corrupt(`${what} out of range in header at offset ${at}`);
    return v;
  }
  let i = start;
  const end = start + length;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw corrupt(`invalid ${what} field in header at offset ${at}`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  // Anything after the terminator must be padding, or the field is not a number.
  for (; i < end; i++) {
    if (b[i] !== 0x20 && b[i] !== 0) throw corrupt(`invalid ${what} field in header at offset ${at}`);
  }
  return digits === 0 ? 0 : v;
}

/** PAX records `"<len> <key>=<value>\n"`. An empty value is kept: it unsets a global value (POSIX). */
function parsePax(data: Buffer, into: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map(into);
  // GNU sparse format 0.0 repeats these two keys, in turn, once per region.
  const sparse: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const lenText = space === -1 ? '' : data.toString('latin1', pos, space);
    const len = /^[1-9][0-9]{0,7}$/.test(lenText) ? Number(lenText) : NaN;
    const end = pos + len;
    if (!(end <= data.length) || data[end - 1] !== 0x0a) throw corrupt('malformed PAX record');
    const eq = data.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) throw corrupt('malformed PAX record');
    const key = data.toString('latin1', space + 1, eq);
    const value = data.subarray(eq + 1, end - 1);
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
      if (key !== (sparse.length % 2 === 0 ? 'GNU.sparse.offset' : 'GNU.sparse.numbytes')) {
        throw corrupt('malformed PAX sparse map: offset and numbytes records out of turn');
      }
      sparse.push(value.toString('latin1'));
    } else {
      out.set(key, value);
    }
    pos = end;
  }
  if (sparse.length > 0) out.set('GNU.sparse.map', Buffer.from(sparse.join(','), 'latin1'));
  return out;
}

function mergePax(global: Map<string, Buffer>, local: Map<string, Buffer> | undefined): Map<string, Buffer> {
  if (!local) return global;
  return withoutEmpty(global.size === 0 ? local : new Map([...global, ...local]));
}

function withoutEmpty(pax: Map<string, Buffer>): Map<string, Buffer> {
  for (const [key, value] of pax) if (value.length === 0) pax.delete(key);
  return pax;
}

const paxString = (pax: Map<string, Buffer>, key: string): string | undefined => pax.get(key)?.toString('latin1');

function paxNumber(pax: Map<string, Buffer>, key: string, at: number): number | undefined {
  const text = paxString(pax, key);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw corrupt(`invalid PAX ${key} at offset ${at}`);
  return n;
}

/** A PAX time, "-?seconds(.fraction)?", exactly: a double would round away the nanoseconds. */
function paxTime(pax: Map<string, Buffer>, key: string, at: number): Timespec | undefined {
  const text = paxString(pax, key);
  if (text === undefined) return undefined;
  const m = /^(-?)([0-9]{1,16})(?:\.([0-9]+))?$/.exec(text);
  const whole = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(whole)) throw corrupt(`invalid PAX ${key} at offset ${at}`);
  const nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1] !== '-') return { sec: whole, nsec };
  // -1.25 is 1.25 s before the epoch: second -2, plus 0.75 s.
  return nsec === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - nsec };
}

/** A GNU long name: NUL-terminated bytes. */
function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('latin1', 0, end === -1 ? data.length : end);
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

const pad = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;
