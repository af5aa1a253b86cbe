import { createReadStream, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { DenError, errnoCode, invalidArgument } from '../common/errors.js';
import type { ContentStore, Digest, Ingest } from '../content/index.js';
import type { Compression } from '../unpack/index.js';

/** Entries up to this size are kept in memory (manifests, configs, small layers)... */
const MEMORY_ENTRY_BYTES = 1 << 20;
/** ...as long as they add up to no more than this; the rest are spooled to the content store's ingest. */
const MEMORY_TOTAL_BYTES = 64 << 20;
/** Spooled entries each hold an open ingest file: an archive of thousands of them is not an image. */
const MAX_SPOOLED = 4096;
const MAX_ENTRIES = 100_000;
const MAX_LINK_HOPS = 16;

/**
 * One regular file of an archive. Its bytes are in exactly one place: in memory, in an ingest file
 * of the content store (not yet committed, so not yet a blob), or committed as a blob.
 */
export interface ArchiveFile {
  size: number;
  data?: Buffer;
  ingest?: Ingest;
  blob?: Digest;
  /** The diff id the bytes were checked against (decompressed and hashed), once they were. */
  diffId?: Digest;
  /** What the decompressor found the bytes to be, set with diffId. */
  compression?: Compression;
}

/**
 * Takes an entry whose bytes the caller can use at once (a layer whose place is already known
 * streams straight into the layer store); returns the file it made of them, or undefined to have
 * the entry spooled as usual.
 */
export type EntryTaker = (
  name: string,
  size: number,
  data: AsyncIterable<Uint8Array>,
) => Promise<ArchiveFile | undefined>;

/**
 * The regular files of a tar archive, read once from a stream that cannot seek (stdin): entries in
 * a docker-archive come in any order (manifest.json usually last), so every file is kept until the
 * end of the archive says what it is. Names are archive paths, normalised (`./a//b` is `a/b`); they
 * are only ever keys, never paths on this machine. Symlinks and hardlinks between entries (docker
 * links a layer.tar that appears twice) are aliases.
 */
export class ArchiveFiles {
  private readonly files = new Map<string, ArchiveFile>();
  private readonly links = new Map<string, string>();
  private memoryBytes = 0;
  private spooled = 0;

  constructor(
    private readonly content: ContentStore,
    /** Names the archive in messages: its file name, or standard input. */
    readonly describe: string,
    /** Prefixes ingest file names, so that a killed den's leftovers can be swept (store-lock.ts). */
    private readonly owner: string,
  ) {}

  /**
   * Reads the archive to its end. `take` sees each regular file first; `after` runs once an entry
   * is in place (the caller may now know what later entries are).
   */
  async read(input: Readable, take: EntryTaker, after: (name: string) => void): Promise<void> {
    const { decompressor } = await import('../unpack/index.js');
    // docker load accepts a compressed archive too (docker save | gzip).
    const tar = decompressor({ layer: `archive ${this.describe}` });
    const ex = extract();
    let tarError: unknown;
    const feeding = pipeline(input, tar, ex).catch((e: unknown) => {
      tarError ??= e;
    });
    let entries = 0;
    const iterator = (ex as AsyncIterable<AsyncIterable<Uint8Array> & { header: Header }>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<AsyncIterable<Uint8Array> & { header: Header }>;
        try {
          next = await iterator.next();
        } catch (e) {
          throw this.readError(tarError ?? e, entries);
        }
        if (next.done) break;
        if (++entries > MAX_ENTRIES) {
          throw invalidArgument('DEN0963', `archive ${this.describe}: more than ${MAX_ENTRIES} entries`, {
            hint: 'this is not an image archive',
          });
        }
        const entry = next.value;
        try {
          await this.add(entry.header, entry, take, after);
        } catch (e) {
          // A failed read of the entry's data is the archive's fault, whatever the consumer made
          // of it: give the pipeline a turn to say so.
          await new Promise((resolve) => setImmediate(resolve));
          if (tarError !== undefined) throw this.readError(tarError, entries);
          // Not the archive's: the consumer's verdict (a DenError) or this machine's (ENOSPC).
          if (e instanceof DenError || errnoCode(e) !== undefined) throw e;
          throw this.readError(e, entries);
        }
      }
    } catch (e) {
      ex.destroy();
      input.destroy();
      await feeding;
      throw e;
    }
    await feeding;
    if (tarError !== undefined) throw this.readError(tarError, entries);
    if (entries === 0) {
      throw invalidArgument('DEN0952', `archive ${this.describe} is empty`, {
        hint: 'give a file written by `den save`, `docker save` or `skopeo copy ... docker-archive:FILE`',
      });
    }
  }

  private async add(
    header: Header,
    entry: AsyncIterable<Uint8Array>,
    take: EntryTaker,
    after: (name: string) => void,
  ): Promise<void> {
    const name = normalizeName(header.name);
    const type = header.type ?? 'file';
    if (name !== undefined && (type === 'symlink' || type === 'link') && header.linkname) {
      const base = type === 'symlink' ? posix.dirname(name) : '.';
      const target = normalizeName(posix.join(base, header.linkname));
      if (target !== undefined) {
        this.drop(name);
        this.links.set(name, target);
      }
    }
    if (name === undefined || (type !== 'file' && type !== 'contiguous-file')) {
      for await (const _ of entry) void _;
      return;
    }
    const size = header.size ?? 0;
    this.drop(name);
    let file = await take(name, size, entry);
    if (file === undefined) {
      if (size <= MEMORY_ENTRY_BYTES && this.memoryBytes + size <= MEMORY_TOTAL_BYTES) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        file = { size, data: Buffer.concat(chunks) };
        this.memoryBytes += size;
      } else {
        if (++this.spooled > MAX_SPOOLED) {
          throw invalidArgument('DEN0963', `archive ${this.describe}: more than ${MAX_SPOOLED} large files`, {
            hint: 'this is not an image archive',
          });
        }
        const ingest = this.content.ingest(this.owner);
        file = { size, ingest };
        this.files.set(name, file);
        for await (const chunk of entry) ingest.writeSync(chunk as Buffer);
      }
    }
    this.files.set(name, file);
    after(name);
  }

  /** A later entry of the same name replaces an earlier one, as tar extraction does. */
  private drop(name: string): void {
    this.links.delete(name);
    const old = this.files.get(name);
    if (!old) return;
    this.files.delete(name);
    if (old.data) this.memoryBytes -= old.size;
    old.ingest?.abort();
  }

  /** The file an archive path names, following links between entries; undefined if there is none. */
  get(name: string): ArchiveFile | undefined {
    let n = normalizeName(name);
    for (let hops = 0; n !== undefined && hops <= MAX_LINK_HOPS; hops++) {
      const file = this.files.get(n);
      if (file) return file;
      n = this.links.get(n);
    }
    return undefined;
  }

  /** A file's bytes, for a small file (a manifest, a config): larger than `limit` is an error. */
  bytes(name: string, file: ArchiveFile, limit: number): Buffer {
    if (file.size > limit) {
      throw invalidArgument(
        'DEN0963',
        `archive ${this.describe}: ${name} is ${file.size} bytes, more than the ${limit} bytes allowed`,
      );
    }
    if (file.data) return file.data;
    if (file.ingest) return readFileSync(file.ingest.tmpPath);
    return readFileSync(this.content.path(file.blob!));
  }

  /** A file's bytes as a stream. */
  stream(file: ArchiveFile): Readable {
    if (file.data) return Readable.from([file.data]);
    if (file.ingest) return createReadStream(file.ingest.tmpPath);
    return createReadStream(this.content.path(file.blob!));
  }

  /** Removes every ingest file not yet committed. */
  abort(): void {
    for (const file of this.files.values()) {
      file.ingest?.abort();
      file.ingest = undefined;
    }
  }

  private readError(e: unknown, entries: number): DenError {
    if (e instanceof DenError && !['DEN0322', 'DEN0323', 'DEN0325'].includes(e.code)) return e;
    const why = e instanceof Error ? e.message : String(e);
    if (entries === 0) {
      return invalidArgument('DEN0950', `archive ${this.describe}: not a tar archive: ${why}`, {
        cause: e,
        hint: 'den load reads the tar files `den save`, `docker save` and `skopeo copy` write (docker-archive, oci-archive)',
      });
    }
    return invalidArgument('DEN0951', `archive ${this.describe}: truncated or corrupt: ${why}`, { cause: e });
  }
}

/** `./a//b/` is `a/b`; a name that leaves the archive (`../x`) or names its root is none. */
export function normalizeName(name: string): string | undefined {
  const n = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (n === '' || n === '.' || n === '..' || n.startsWith('../')) return undefined;
  return n;
}
