/**
 * Test helpers: tar archives built byte by byte, for what tar-stream's packer cannot write
 * (binary PAX values, GNU long names, base-256 numbers, sparse and corrupt headers).
 */
import { Readable } from 'node:stream';

export interface RawHeader {
  name: string | Buffer;
  typeflag?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** 'ustar' (POSIX, with prefix), 'gnu', or 'v7' (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  prefix?: string;
  /** Overrides of whole numeric fields, e.g. base-256 bytes. */
  fields?: { uid?: Buffer; size?: Buffer; mtime?: Buffer };
  /** Added to the correct checksum, to make a corrupt header. */
  checksumDelta?: number;
  /** An old GNU sparse header ('S'): up to four regions, the real size, and whether extension blocks follow. */
  sparse?: { regions: Array<[offset: number, length: number]>; realSize: number; extended?: boolean };
}

export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  const put = (value: string | Buffer, at: number, len: number): void => {
    const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (v.length > len) throw new Error(`field at ${at} too long`);
    v.copy(b, at);
  };
  const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0');
  put(h.name, 0, 100);
  put(oct(h.mode ?? 0o644, 8), 100, 8);
  put(h.fields?.uid ?? oct(h.uid ?? 0, 8), 108, 8);
  put(oct(h.gid ?? 0, 8), 116, 8);
  put(h.fields?.size ?? oct(h.size ?? 0, 12), 124, 12);
  put(h.fields?.mtime ?? oct(h.mtime ?? 1_600_000_000, 12), 136, 12);
  put(h.typeflag ?? '0', 156, 1);
  put(h.linkname ?? '', 157, 100);
  const format = h.format ?? 'ustar';
  if (format === 'ustar') put('ustar\u000000', 257, 8);
  if (format === 'gnu') put('ustar  \u0000', 257, 8);
  put(oct(h.devmajor ?? 0, 8), 329, 8);
  put(oct(h.devminor ?? 0, 8), 337, 8);
  if (h.prefix) put(h.prefix, 345, 155);
  if (h.sparse) {
    h.sparse.regions.forEach(([offset, length], i) => {
      put(oct(offset, 12), 386 + i * 24, 12);
      put(oct(length, 12), 398 + i * 24, 12);
    });
    b[482] = h.sparse.extended ? 1 : 0;
    put(oct(h.sparse.realSize, 12), 483, 12);
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  put(`${oct(sum + (h.checksumDelta ?? 0), 7)}\u0000 `, 148, 8);
  return b;
}

const padding = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

/** A header followed by its data, padded to whole blocks. */
export function rawEntry(h: RawHeader, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([rawHeader({ size: d.length, ...h }), d, padding(d.length)]);
}

/** A PAX extended header ('x', or 'g' for global) holding the given records. */
export function paxEntry(records: Array<[string, string | Buffer]>, typeflag = 'x'): Buffer {
  const parts = records.map(([key, value]) => {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len++;
    return Buffer.concat([Buffer.from(String(len)), body]);
  });
  return rawEntry({ name: 'PaxHeader', typeflag }, Buffer.concat(parts));
}

/** An old GNU sparse extension block: up to 21 more regions, and whether another block follows. */
export function sparseExtension(regions: Array<[offset: number, length: number]>, extended = false): Buffer {
  const b = Buffer.alloc(512);
  const oct = (n: number): string => n.toString(8).padStart(11, '0');
  regions.forEach(([offset, length], i) => {
    b.write(oct(offset), i * 24, 'latin1');
    b.write(oct(length), i * 24 + 12, 'latin1');
  });
  b[504] = extended ? 1 : 0;
  return b;
}

/** The end-of-archive marker: two zero blocks. */
export const END = Buffer.alloc(1024);

/** A stream that yields `data` in pieces of the given sizes, in turn, to cross every boundary. */
export function chunked(data: Buffer, sizes: number[] = [data.length]): Readable {
  const pieces: Buffer[] = [];
  for (let pos = 0, i = 0; pos < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    pieces.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return Readable.from(pieces);
}
