/**
 * den's one tar writer: what `den cp` sends across (both ways) and what `den commit` makes a layer
 * of. The reader's counterpart (tar-reader.ts), and for the same reason: names, link targets and
 * extended attribute values are bytes (latin1 strings, one char per byte), which tar-stream would
 * write as UTF-8 text and so mangle a binary `security.capability`.
 *
 * POSIX ustar headers, with a PAX header before an entry only where ustar cannot hold a field: a
 * name or link target longer than 100 bytes, an id, size or time too large for its octal field,
 * extended attributes (`SCHILY.xattr.NAME`, as GNU tar and Go write them). Times are whole seconds
 * and no access or change time is written, as docker writes layers and copies: the same tree gives
 * the same archive.
 *
 *   const w = new TarWriter(out);                  // out: a Writable (a pipe, a gzip stream)
 *   await w.add({ name: 'etc/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1700000000 });
 *   await w.add({ ...header, type: 'file', size: 5 }, { fd });  // exactly `size` bytes from fd
 *   await w.finish();                              // the end marker; `out` is ended
 */
import { readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TarEntryType } from './tar-reader.js';

export interface TarHeader {
  /** The member name as bytes (latin1 string); a directory's ends with `/`. */
  name: string;
  type: TarEntryType;
  /** Permission bits, setuid, setgid and sticky included. */
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow: a regular file's size, 0 for every other type. */
  size?: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Symlink target, or the name of the entry a hardlink links to (latin1 string). */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes: name (latin1) to raw value. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};
/** Writes are gathered up to this size: headers are 512 bytes, a pipe takes 64 KiB at a time. */
const GATHER_BYTES = 1 << 16;
/** File data is read and written in pieces of this size. */
const DATA_CHUNK = 1 << 20;
/** The largest value of an octal field of `width` bytes (one byte holds the terminating NUL). */
const maxOctal = (width: number): number => 8 ** (width - 1) - 1;

export class TarWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total bytes handed to `out`. */
  written = 0;

  constructor(private readonly out: Writable) {}

  /**
   * Writes one entry. A regular file's data comes from `data`: a buffer, or a file descriptor read
   * from its start for exactly `size` bytes; a file that shrank meanwhile (a running container
   * truncated it) is padded with zeros, one that grew is cut at `size`, as GNU tar does.
   */
  async add(h: TarHeader, data?: Buffer | { fd: number }): Promise<void> {
    const size = h.type === 'file' ? (h.size ?? 0) : 0;
    const pax = paxRecords(h, size);
    if (pax.length > 0) {
      const body = Buffer.concat(pax);
      const paxName = `PaxHeaders.0/${baseName(h.name)}`.slice(0, 100);
      this.push(header({ name: paxName, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, 'x', body.length));
      this.push(body, padding(body.length));
    }
    this.push(header(h, TYPEFLAG[h.type], size));
    if (size > 0) {
      if (data === undefined) throw new Error(`tar entry ${h.name}: ${size} bytes of data expected`);
      if (Buffer.isBuffer(data)) {
        if (data.length !== size) throw new Error(`tar entry ${h.name}: ${data.length} bytes given for ${size}`);
        this.push(data);
      } else {
        await this.copyFrom(data.fd, size);
      }
      this.push(padding(size));
    }
    if (this.pendingBytes >= GATHER_BYTES) await this.flush();
  }

  /** The end-of-archive marker (two zero blocks), then ends `out` and waits until it has taken everything. */
  async finish(): Promise<void> {
    this.push(Buffer.alloc(2 * BLOCK));
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }

  private async copyFrom(fd: number, size: number): Promise<void> {
    await this.flush();
    let done = 0;
    let eof = false;
    while (done < size) {
      const chunk = Buffer.allocUnsafe(Math.min(DATA_CHUNK, size - done));
      let n = 0;
      while (!eof && n < chunk.length) {
        const r = readSync(fd, chunk, n, chunk.length - n, done + n);
        if (r === 0) eof = true;
        n += r;
      }
      chunk.fill(0, n); // the file shrank while it was read
      done += chunk.length;
      await this.write(chunk);
    }
  }

  private push(...buffers: Buffer[]): void {
    for (const b of buffers) {
      if (b.length === 0) continue;
      this.pending.push(b);
      this.pendingBytes += b.length;
    }
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.write(all);
  }

  /** Writes, and waits for the stream to drain when it asks to; a stream that failed or was destroyed throws. */
  private async write(b: Buffer): Promise<void> {
    this.written += b.length;
    if (this.out.destroyed) throw new Error('the archive output was closed');
    if (this.out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        this.out.off('drain', onDrain);
        this.out.off('error', done);
        this.out.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('the archive output was closed'));
      this.out.on('drain', onDrain);
      this.out.on('error', done);
      this.out.on('close', onClose);
    });
  }
}

/** A ustar header block; fields too large for it are in the PAX header before it (`paxRecords`). */
function header(h: TarHeader, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  const put = (text: string, at: number, width: number): void => {
    b.write(text.length <= width ? text : '', at, width, 'latin1');
  };
  const octal = (n: number, at: number, width: number): void => {
    const v = Number.isInteger(n) && n >= 0 && n <= maxOctal(width) ? n : 0;
    b.write(v.toString(8).padStart(width - 1, '0'), at, width - 1, 'latin1');
  };
  put(h.name, 0, 100);
  octal(h.mode & 0o7777, 100, 8);
  octal(h.uid, 108, 8);
  octal(h.gid, 116, 8);
  octal(size, 124, 12);
  octal(h.mtime, 136, 12);
  b.write(typeflag, 156, 1, 'latin1');
  put(h.linkname ?? '', 157, 100);
  b.write('ustar\u000000', 257, 8, 'latin1');
  if (h.type === 'char' || h.type === 'block') {
    octal(h.devmajor ?? 0, 329, 8);
    octal(h.devminor ?? 0, 337, 8);
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

/** The PAX records an entry needs: only for what its ustar header cannot hold. */
function paxRecords(h: TarHeader, size: number): Buffer[] {
  const out: Buffer[] = [];
  const add = (key: string, value: Buffer) => out.push(paxRecord(key, value));
  const text = (s: string) => Buffer.from(s, 'latin1');
  if (h.name.length > 100) add('path', text(h.name));
  if ((h.linkname ?? '').length > 100) add('linkpath', text(h.linkname!));
  if (h.uid > maxOctal(8)) add('uid', text(String(h.uid)));
  if (h.gid > maxOctal(8)) add('gid', text(String(h.gid)));
  if (size > maxOctal(12)) add('size', text(String(size)));
  if (h.mtime < 0 || h.mtime > maxOctal(12)) add('mtime', text(String(h.mtime)));
  for (const [name, value] of h.xattrs ?? []) add(`SCHILY.xattr.${name}`, value);
  return out;
}

/** One PAX record, "LENGTH KEY=VALUE\n", LENGTH counting its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function baseName(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1) || '.';
}

const padding = (n: number): Buffer => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
