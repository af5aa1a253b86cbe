/**
 * A streaming reader for tar archives (ustar, GNU and PAX), written for hostile input.
 *
 * We read tar ourselves rather than through tar-stream because tar-stream decodes PAX values as
 * UTF-8 text, which mangles binary extended attributes (a `security.capability` with CAP_SETUID
 * holds the byte 0x80) and non-UTF-8 file names. Here names and values stay bytes: a name is a
 * latin1 string, one char per byte, and becomes a Buffer again at the file system call.
 *
 * Every header is checksummed, every number parsed strictly, and metadata records are bounded, so
 * a corrupt or truncated archive fails with DEN0311 instead of being half-understood. Header-only
 * types (links, directories, devices, fifos) carry no data even when their size field says so,
 * as in Go's archive/tar, which wrote most layers.
 */
import type { DenError } from '../common/errors.js';
import { isDenError } from '../common/errors.js';
import { corrupt, unpackBug, unsupportedEntry } from './unpack-errors.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** The member name as bytes (latin1 string), exactly as archived: not cleaned or checked. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow; 0 for every type but 'file'. */
  size: number;
  /** Seconds since the epoch, fractional when a PAX header gives nanoseconds. */
  mtime: number;
  atime: number | undefined;
  /** Symlink target or hardlink target (latin1 string). */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.*` PAX records: name (latin1) to raw value. */
  xattrs: Map<string, Buffer>;
}

const BLOCK = 512;
/** A PAX header or GNU long name larger than this is not a real archive's. */
const MAX_META_BYTES = 1 << 20;
const EMPTY = Buffer.alloc(0);

export class TarReader {
  private chunk: Buffer = EMPTY;
  private pos = 0;
  /** Archive offset of `chunk[0]`, for error messages. */
  private chunkOffset = 0;
  /** Data bytes of the current entry not yet consumed, and the padding after them. */
  private remaining = 0;
  private padding = 0;
  private globalPax = new Map<string, Buffer>();

  constructor(private readonly source: AsyncIterator<Uint8Array | string>) {}

  /** The next entry, or null at the end of the archive. Skips any unread data of the previous one. */
  async next(): Promise<TarEntry | null> {
    await this.skip(this.remaining + this.padding);
    this.remaining = this.padding = 0;
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const at = this.offset();
      const block = await this.read(BLOCK);
      if (block === null || isZero(block)) {
        if (pax || longName !== undefined || longLink !== undefined) {
          throw corrupt('archive ends after an extended header');
        }
        // The end marker, or an archive that stops without one, which GNU tar accepts too.
        return null;
      }
      const h = parseHeader(block, at);
      switch (h.typeflag) {
        case 'x':
          pax = parsePax(await this.readMeta(h.size, at), pax ?? new Map());
          continue;
        case 'g':
          this.globalPax = withoutEmpty(parsePax(await this.readMeta(h.size, at), this.globalPax));
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
      const entry = this.makeEntry(h, mergePax(this.globalPax, pax), longName, longLink, at);
      this.remaining = entry.size;
      this.padding = pad(entry.size);
      return entry;
    }
  }

  /**
   * Hands the current entry's data to `sink` in order. The chunks are views of the input, valid
   * until the promise `sink` returns settles.
   */
  async readData(sink: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    while (this.remaining > 0) {
      if (this.pos === this.chunk.length && !(await this.pull())) throw corrupt('archive ends inside file data');
      const n = Math.min(this.remaining, this.chunk.length - this.pos);
      const piece = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.remaining -= n;
      await sink(piece);
    }
  }

  /** Reads the input to its end: whatever verifies the stream upstream (a digest) sees every byte. */
  async drain(): Promise<void> {
    this.pos = this.chunk.length;
    while (await this.pull()) this.pos = this.chunk.length;
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
  ): TarEntry {
    const name = paxString(pax, 'path') ?? longName ?? h.name;
    let type: TarEntryType;
    switch (h.typeflag) {
      case '0':
      case '7': // contiguous file: a plain file everywhere but on one 1980s system
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
      case 'S':
        throw unsupportedEntry(name, 'GNU sparse file');
      default:
        throw unsupportedEntry(name, `type flag ${JSON.stringify(h.typeflag)}`);
    }
    for (const key of pax.keys()) {
      if (key.startsWith('GNU.sparse.')) throw unsupportedEntry(name, 'PAX sparse file');
    }
    const size = paxNumber(pax, 'size', at) ?? h.size;
    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of pax) {
      if (key.startsWith('SCHILY.xattr.') && key.length > 13) xattrs.set(key.slice(13), value);
    }
    return {
      name,
      type,
      mode: h.mode & 0o7777,
      uid: paxNumber(pax, 'uid', at) ?? h.uid,
      gid: paxNumber(pax, 'gid', at) ?? h.gid,
      // D carries data; the other header-only types never do, whatever their size field says.
      size: type === 'file' || h.typeflag === 'D' ? size : 0,
      mtime: paxTime(pax, 'mtime', at) ?? h.mtime,
      atime: paxTime(pax, 'atime', at),
      linkname: paxString(pax, 'linkpath') ?? longLink ?? h.linkname,
      devmajor: h.devmajor,
      devminor: h.devminor,
      xattrs,
    };
  }

  private offset(): number {
    return this.chunkOffset + this.pos;
  }

  /** Fetches the next input chunk; false at the end of the input. */
  private async pull(): Promise<boolean> {
    let r: IteratorResult<Uint8Array | string>;
    try {
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
    out.set(key, data.subarray(eq + 1, end - 1));
    pos = end;
  }
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

function paxTime(pax: Map<string, Buffer>, key: string, at: number): number | undefined {
  const text = paxString(pax, key);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text) || !Number.isFinite(n)) throw corrupt(`invalid PAX ${key} at offset ${at}`);
  return n;
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
