import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { Hash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { errnoCode, invalidArgument, notFound } from '../common/errors.js';
import { digestFromHash, digestOf, hexOf, newHash, type Digest } from './digest.js';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

/**
 * Content-addressed blobs in an OCI image layout: <root>/blobs/sha256/<hex>, plus oci-layout and
 * index.json so that the store can be read by any OCI tool (skopeo copy oci:<root>).
 *
 * A blob is written to <root>/ingest first, hashed as it streams, fsynced, and only then renamed to
 * its digest: a crash leaves at most a stray ingest file, never a blob whose content does not match
 * its name. Readers verify again (`readVerified`), because a blob is the trust boundary.
 */
export class ContentStore {
  /**
   * `owner` gives the tag of this process (engine/store-lock.ts ownerTag) that starts the name of
   * every temporary file here, `ingest/OWNER-random`: what a writer killed midway leaves is then
   * told from what a live one is writing, and the next den removes only the former.
   */
  constructor(
    readonly root: string,
    private readonly owner?: () => string,
  ) {}

  init(): void {
    // 0700: blobs are the images' files, for the store's owner alone (docs/permissions.md).
    mkdirSync(join(this.root, 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.root, 'ingest'), { recursive: true, mode: 0o700 });
    const layout = join(this.root, 'oci-layout');
    if (!existsSync(layout)) writeFileSync(layout, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  path(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', hexOf(digest));
  }

  has(digest: Digest): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: Digest): number {
    return statSync(this.path(digest)).size;
  }

  /** Stores a small blob (manifest, config) whose bytes are in memory. */
  put(data: string | Buffer): Descriptor & { mediaType: '' } {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = digestOf(bytes);
    if (!this.has(digest)) {
      const ingest = this.ingest();
      ingest.writeSync(bytes);
      ingest.commit();
    }
    return { mediaType: '', digest, size: bytes.length };
  }

  /** Reads a blob and checks it still matches its digest. */
  readVerified(digest: Digest): Buffer {
    let data: Buffer;
    try {
      data = readFileSync(this.path(digest));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw notFound('DEN0402', `blob ${digest}: not found in the content store`);
      throw e;
    }
    const actual = digestOf(data);
    if (actual !== digest) {
      throw invalidArgument('DEN0403', `blob ${digest}: content store corrupted: content hashes to ${actual}`, {
        hint: 'remove the image and import or pull it again',
      });
    }
    return data;
  }

  /** A new blob; `owner` prefixes the temporary file's name, so leftovers of dead writers can be found. */
  ingest(owner = this.owner?.()): Ingest {
    return new Ingest(this, this.temporary(owner));
  }

  /** A fresh name under ingest/ for a file that is renamed into place when written. */
  private temporary(owner = this.owner?.()): string {
    const name = randomBytes(8).toString('hex');
    return join(this.root, 'ingest', owner ? `${owner}-${name}` : name);
  }

  /**
   * The download of a known blob that survives an interruption: `ingest/<hex>.partial`, reopened
   * with the bytes a killed or failed download left, which are hashed again (they are not trusted
   * to be a prefix of the blob until the whole blob matches its digest). The caller holds the
   * blob's lock, so it is the only writer.
   */
  resumable(digest: Digest): Ingest {
    return new Ingest(this, join(this.root, 'ingest', `${hexOf(digest)}.partial`), true);
  }

  remove(digest: Digest): void {
    rmSync(this.path(digest), { force: true });
  }

  /**
   * Rewrites index.json atomically with the given manifests. The new index is written under
   * ingest/ with the owner's tag, not next to index.json: a den killed between the write and the
   * rename leaves a file the next den recognises as a dead writer's and removes.
   */
  writeIndex(manifests: Descriptor[]): void {
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    mkdirSync(join(this.root, 'ingest'), { recursive: true, mode: 0o700 });
    const tmp = this.temporary();
    writeFileSync(tmp, JSON.stringify(index, null, 2));
    renameSync(tmp, join(this.root, 'index.json'));
  }
}

/** One blob being written: write bytes, then commit (verify, fsync, rename) or abort. */
export class Ingest {
  private fd: number;
  private readonly hash = newHash();
  private bytes = 0;
  private done = false;

  constructor(
    private readonly store: ContentStore,
    readonly tmpPath: string,
    resume = false,
  ) {
    this.fd = openSync(tmpPath, resume ? 'a+' : 'wx', 0o644);
    if (resume) {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = readSync(this.fd, buf, 0, buf.length, this.bytes)) > 0; this.bytes += n) {
        this.hash.update(buf.subarray(0, n));
      }
    }
  }

  /** A copy of the hash of the bytes written so far (a resumed download continues from it). */
  hashSoFar(): Hash {
    return this.hash.copy();
  }

  /**
   * Stops writing but keeps the bytes for a later `resumable` (a download that broke off). Meant
   * for resumable ingests: a plain one's file is left to the sweep of dead dens' temporaries.
   */
  suspend(): void {
    this.closeFile();
  }

  writeSync(chunk: Buffer): void {
    this.hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off);
    this.bytes += chunk.length;
  }

  /** A writable stream view of this ingest, for pipelines. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        try {
          this.writeSync(chunk);
          cb();
        } catch (e) {
          cb(e as Error);
        }
      },
    });
  }

  get size(): number {
    return this.bytes;
  }

  commit(expected?: { digest?: Digest; size?: number }): { digest: Digest; size: number } {
    const digest = digestFromHash(this.hash);
    try {
      if (expected?.size !== undefined && expected.size !== this.bytes) {
        throw invalidArgument(
          'DEN0404',
          `blob ${expected.digest ?? digest}: size ${this.bytes}, expected ${expected.size}`,
        );
      }
      if (expected?.digest !== undefined && expected.digest !== digest) {
        throw invalidArgument('DEN0405', `blob ${expected.digest}: content hashes to ${digest}`);
      }
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.done = true;
      renameSync(this.tmpPath, this.store.path(digest));
    } catch (e) {
      this.abort();
      throw e;
    }
    return { digest, size: this.bytes };
  }

  abort(): void {
    this.closeFile();
    rmSync(this.tmpPath, { force: true });
  }

  private closeFile(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
