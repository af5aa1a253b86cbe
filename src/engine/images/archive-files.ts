import { createReadStream, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { DenError, invalidArgument } from '../../common/errors.js';
import type { ContentStore, Digest, Ingest } from '../../content/index.js';
import type { Compression, TarEntry, TarReader, UnpackFailure } from '../../unpack/index.js';

/** Entries up to this size are kept in memory (manifests, configs, small layers)... */
const MEMORY_ENTRY_BYTES = 1 << 20;
/** ...as long as they add up to no more than this; the rest are spooled to the content store's ingest. */
const MEMORY_TOTAL_BYTES = 64 << 20;
/** Spooled entries each hold an open ingest file: an archive of thousands of them is not an image. */
const MAX_SPOOLED = 4096;
const MAX_ENTRIES = 100_000;
const MAX_LINK_HOPS = 16;
/** Zero blocks after the end marker (GNU tar pads to 10 KiB records, `-b` to more): read, not more. */
const MAX_TRAILER_BYTES = 1 << 20;
/** What an entry streamed to a taker may hold in memory ahead of it. */
const STREAM_AHEAD_BYTES = 1 << 20;
/** The unpack failures that are the archive's own: its tar or its compression is bad. */
const ARCHIVE_FAULTS: ReadonlySet<string | undefined> = new Set<UnpackFailure>([
  'corrupt-archive',
  'unsupported-entry',
  'corrupt-compression',
  'unsupported-compression',
]);

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
 * streams straight into the layer store); returns the file it made of them, having read `data`
 * to its end, or undefined, without having read from `data`, to have the entry spooled as usual.
 */
export type EntryTaker = (name: string, size: number, data: Readable) => Promise<ArchiveFile | undefined>;

/**
 * The regular files of a tar archive, read once from a stream that cannot seek (stdin): entries in
 * a docker-archive come in any order (manifest.json usually last), so every file is kept until the
 * end of the archive says what it is. Names are archive paths, normalised (`./a//b` is `a/b`); they
 * are only ever keys, never paths on this machine. Symlinks and hardlinks between entries (docker
 * links a layer.tar that appears twice) are aliases.
 *
 * The tar is read by unpack/'s TarReader, the reader that reads layers, with its checks and its
 * limits on headers; the limits here are on what an archive may make den keep (entries, memory,
 * spooled files).
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
    /** Inflates a gzipped archive: igzip where the engine has it (store-layer.ts's gzipDecoder). */
    private readonly decoder: { igzip?: string } = {},
  ) {}

  /**
   * Reads the archive to its end. `take` sees each regular file first; `after` runs once an entry
   * is in place (the caller may now know what later entries are).
   */
  async read(input: Readable, take: EntryTaker, after: (name: string) => void): Promise<void> {
    const { decompressor, streamChunks, TarReader } = await import('../../unpack/index.js');
    // docker load accepts a compressed archive too (docker save | gzip).
    const tar = decompressor({ layer: `archive ${this.describe}`, ...this.decoder });
    // A failed read of the input reaches the tar reader through the decompressor.
    input.on('error', (e) => tar.destroy(e));
    input.pipe(tar);
    const reader = new TarReader(streamChunks(tar));
    let entries = 0;
    try {
      for (;;) {
        let entry: TarEntry | null;
        try {
          entry = await reader.next();
        } catch (e) {
          throw this.readError(e, entries);
        }
        if (entry === null) break;
        if (++entries > MAX_ENTRIES) {
          throw invalidArgument('DEN0963', `archive ${this.describe}: more than ${MAX_ENTRIES} entries`, {
            hint: 'this is not an image archive',
          });
        }
        await this.add(entry, reader, entries, take, after);
      }
      try {
        await reader.drain(MAX_TRAILER_BYTES);
      } catch (e) {
        throw this.readError(e, entries);
      }
    } catch (e) {
      await reader.close().catch(() => undefined);
      input.destroy();
      throw e;
    }
    if (entries === 0) {
      throw invalidArgument('DEN0952', `archive ${this.describe} is empty`, {
        hint: 'give a file written by `den save`, `docker save` or `skopeo copy ... docker-archive:FILE`',
      });
    }
  }

  private async add(
    entry: TarEntry,
    reader: TarReader,
    entries: number,
    take: EntryTaker,
    after: (name: string) => void,
  ): Promise<void> {
    // The reader keeps names as bytes (latin1); the names manifest.json and index.json give are text.
    const name = normalizeName(utf8(entry.name));
    if (name !== undefined && (entry.type === 'symlink' || entry.type === 'link') && entry.linkname) {
      const base = entry.type === 'symlink' ? posix.dirname(name) : '.';
      const target = normalizeName(posix.join(base, utf8(entry.linkname)));
      if (target !== undefined) {
        this.drop(name);
        this.links.set(name, target);
      }
    }
    // The reader skips whatever data of an entry is left unread.
    if (name === undefined || entry.type !== 'file') return;
    if (entry.sparse !== undefined) {
      // Its data is not its content (the holes are not in the archive), and no image archive has one.
      throw invalidArgument('DEN0951', `archive ${this.describe}: ${name}: a sparse file, not an image archive's`);
    }
    const size = entry.size;
    this.drop(name);
    const data = new EntryStream(reader);
    let file: ArchiveFile | undefined;
    try {
      file = await take(name, size, data);
    } catch (e) {
      // The archive failing under the taker is the cause of whatever the taker made of it.
      if (data.failure !== undefined) throw this.readError(data.failure, entries);
      throw e;
    }
    if (file === undefined && data.started) throw new Error(`the taker of ${name} read it and kept nothing`);
    try {
      if (file === undefined && size <= MEMORY_ENTRY_BYTES && this.memoryBytes + size <= MEMORY_TOTAL_BYTES) {
        const chunks: Buffer[] = [];
        await reader.readData((chunk) => void chunks.push(chunk));
        file = { size, data: Buffer.concat(chunks) };
        this.memoryBytes += size;
      } else if (file === undefined) {
        if (++this.spooled > MAX_SPOOLED) {
          throw invalidArgument('DEN0963', `archive ${this.describe}: more than ${MAX_SPOOLED} large files`, {
            hint: 'this is not an image archive',
          });
        }
        const ingest = this.content.ingest(this.owner);
        file = { size, ingest };
        this.files.set(name, file);
        await reader.readData((chunk) => ingest.writeSync(chunk));
      }
    } catch (e) {
      throw this.readError(e, entries);
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

  /**
   * The archive's own failure (its tar or its compression is bad) in den load's words: not a tar
   * archive if it failed before its first entry, else truncated or corrupt. Other errors as they are.
   */
  private readError(e: unknown, entries: number): unknown {
    if (!(e instanceof DenError) || !ARCHIVE_FAULTS.has(e.reason)) return e;
    const why = e.message;
    if (entries === 0) {
      return invalidArgument('DEN0950', `archive ${this.describe}: not a tar archive: ${why}`, {
        cause: e,
        hint: 'den load reads the tar files `den save`, `docker save` and `skopeo copy` write (docker-archive, oci-archive)',
      });
    }
    return invalidArgument('DEN0951', `archive ${this.describe}: truncated or corrupt: ${why}`, { cause: e });
  }
}

/**
 * The data of the entry the reader is at, as a stream for a consumer that pulls (the layer store).
 * Nothing is read from the archive until the consumer asks, so that a taker that declines leaves
 * the data to be spooled.
 */
class EntryStream extends Readable {
  /** Whether the consumer asked for data: then only this stream reads the entry. */
  started = false;
  /** Why the archive could not give the data: the archive's fault, not the consumer's. */
  failure: unknown;
  private continueReading: (() => void) | undefined;

  constructor(private readonly reader: TarReader) {
    super({ highWaterMark: STREAM_AHEAD_BYTES });
  }

  override _read(): void {
    if (this.started) {
      this.wake();
      return;
    }
    this.started = true;
    this.reader
      .readData((chunk) => {
        if (this.destroyed) throw new Error('the consumer stopped reading');
        if (this.push(chunk)) return;
        return new Promise<void>((resolve) => (this.continueReading = resolve));
      })
      .then(
        () => this.push(null),
        (e: unknown) => {
          if (this.destroyed) return;
          this.failure = e;
          this.destroy(e instanceof Error ? e : new Error(String(e)));
        },
      );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A consumer that gives up stops the reading, which finds the stream destroyed.
    this.wake();
    callback(error);
  }

  private wake(): void {
    const resume = this.continueReading;
    this.continueReading = undefined;
    resume?.();
  }
}

function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** `./a//b/` is `a/b`; a name that leaves the archive (`../x`) or names its root is none. */
export function normalizeName(name: string): string | undefined {
  const n = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (n === '' || n === '.' || n === '..' || n.startsWith('../')) return undefined;
  return n;
}
