import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onAbort } from '../../common/abort.js';
import { DenError, errnoCode, invalidArgument } from '../../common/errors.js';
import { humanSize } from '../../common/sizes.js';
import { chainIds, digestFromHash, hexOf, newHash, type Digest, type Ingest } from '../../content/index.js';
import { runWorker } from '../../session/index.js';
import type { Compression, UnpackStats } from '../../unpack/index.js';
import type { EngineContext } from '../context.js';
import { ownerTag, removeTree } from '../../snapshots/index.js';

/** The `reason` of a layer whose content is not the one its image config names. */
export type StoreLayerFailure = 'diff-id-mismatch';

/**
 * A layer's tar may be this large whatever its compressed size, before the decompression-bomb
 * bound (EngineConfig.maxLayerRatio) applies: a small layer with a big empty file is no danger.
 */
export const LAYER_RATIO_FLOOR = 64 << 20;

export interface LayerSource {
  /** The blob's bytes as stored: tar, tar+gzip or tar+zstd (told apart by their first bytes). */
  blob: Readable;
  /** What names the layer in messages: `layer sha256:1234abcd`, `import source FILE`. */
  describe: string;
  /** The media type the manifest gives, if any: a compression den cannot read fails at once. */
  mediaType?: string;
  /** The chain id of the layer below, or null for the first. */
  parent: Digest | null;
  /** What the blob must be (a pull knows, an import does not): checked before anything is committed. */
  expected?: { digest: Digest; size: number };
  /** The diff id the image config names for this layer: the uncompressed tar must hash to it. */
  diffId?: Digest;
  /**
   * Where the blob's bytes go: a fresh ingest of the content store unless given. A resumed download
   * gives one that holds the bytes it has, and a blob stream that starts with those same bytes
   * (read back from it) before the rest: they are unpacked again but not written twice.
   */
  ingest?: Ingest;
  /**
   * Whether a failure leaves the ingest's bytes for a later resume (a connection that broke off)
   * instead of deleting them (anything that shows the bytes are wrong). Default: delete.
   */
  keepPartial?: (e: unknown) => boolean;
  /** Refuses an empty blob with this error (an import of an empty file). */
  emptyError?: DenError;
  /** Stops the layer (common/abort.ts): the blob is destroyed with the abort's reason, and nothing remains. */
  signal?: AbortSignal;
}

export interface StoredLayer {
  blob: { digest: Digest; size: number };
  diffId: Digest;
  chainId: Digest;
  stats: UnpackStats;
  /** What the blob turned out to be, from its first bytes. */
  compression: Compression;
}

/**
 * One layer into the store, reading its bytes once: they go into the content store (hashed as they
 * stream), and through decompression into the unpacker, which runs in a den child process inside the
 * rootless session (the only place files can get subordinate ids) or in this process as root.
 * Decompression runs here, the tar parsing and file creation in the child: two cores.
 *
 * The layer is unpacked into a temporary directory and renamed to its chain id only when the blob
 * and the tar both check out; a layer committed meanwhile by another den is kept. On any failure
 * nothing remains: no blob, no ingest file, no directory, no record.
 */
export async function storeLayer(ctx: EngineContext, src: LayerSource): Promise<StoredLayer> {
  const { decompressor } = await import('../../unpack/index.js');
  ctx.content.init();
  mkdirSync(ctx.layout.layersDir, { recursive: true, mode: 0o700 }); // the images' files: the owner's alone
  const owner = ownerTag();
  const tmp = ctx.layout.tmpLayerDir(`${owner}-${randomBytes(8).toString('hex')}`);
  const ingest = src.ingest ?? ctx.content.ingest(owner);
  const diffHash = newHash();
  let stats: UnpackStats;
  let have = ingest.size;
  let compression: Compression;
  // Bytes in and out of decompression, for the decompression-bomb bound.
  let blobBytes = 0;
  let tarBytes = 0;
  const ratio = ctx.config.maxLayerRatio;
  // Aborted, the input fails: both halves then end as for a broken input, and nothing remains.
  const stopListening = onAbort(src.signal, (reason) => src.blob.destroy(reason));
  try {
    const tapBlob = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        blobBytes += chunk.length;
        try {
          const skip = Math.min(have, chunk.length);
          have -= skip;
          if (skip < chunk.length) ingest.writeSync(skip === 0 ? chunk : chunk.subarray(skip));
          cb(null, chunk);
        } catch (e) {
          cb(e as Error);
        }
      },
    });
    const tapDiff = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        tarBytes += chunk.length;
        if (ratio > 0 && tarBytes > LAYER_RATIO_FLOOR && tarBytes > ratio * blobBytes) {
          cb(decompressionBomb(src.describe, ratio, tarBytes, blobBytes));
          return;
        }
        diffHash.update(chunk);
        cb(null, chunk);
      },
    });
    const tar = new PassThrough();
    const decompress = decompressor({
      layer: src.describe,
      ...(src.mediaType ? { mediaType: src.mediaType } : {}),
      ...gzipDecoder(ctx),
    });
    // Both halves always run to the end before anything is cleaned up: the unpacker may still be
    // writing into tmp when the input fails, and the input must stop when the unpacker gives up.
    let feedError: unknown;
    let unpackError: unknown;
    // Whichever half fails first is the cause; the other half's failure is only its consequence
    // (the input destroyed under it, or the tar cut short).
    let unpackFailedFirst = false;
    const feeding = pipeline(src.blob, tapBlob, decompress, tapDiff, tar).catch((e: unknown) => {
      feedError = e;
      tar.destroy();
    });
    const unpacking = (ctx.paths.rootless ? unpackInSession(ctx, tar, tmp) : unpackHere(ctx, tar, tmp)).catch(
      (e: unknown) => {
        unpackError = e;
        unpackFailedFirst = feedError === undefined;
        src.blob.destroy();
        tar.destroy();
        return undefined;
      },
    );
    const [, result] = await Promise.all([feeding, unpacking]);
    // The unpacker refusing the tar first (a hostile entry) is the cause of the input breaking off;
    // otherwise a broken blob (corrupt compression, a download cut short) is the cause of whatever
    // the unpacker then said about the tar it got.
    if (unpackError !== undefined && unpackFailedFirst) throw unpackError;
    if (feedError !== undefined) throw unreadable(src.describe, feedError);
    if (unpackError !== undefined) throw unpackError;
    if (result === undefined) throw unreadable(src.describe, undefined);
    stats = result;
    // Set once the decompressor has seen the blob's first bytes, which it has when the feed ended.
    compression = decompress.compression ?? 'none';
    if (ingest.size === 0 && src.emptyError) throw src.emptyError;
  } catch (e) {
    if (src.keepPartial?.(e)) ingest.suspend();
    else ingest.abort();
    removeTree(ctx, tmp);
    throw e;
  } finally {
    stopListening();
  }
  const diffId = digestFromHash(diffHash);
  if (src.diffId !== undefined && src.diffId !== diffId) {
    ingest.abort();
    removeTree(ctx, tmp);
    throw invalidArgument(
      'DEN0436',
      `${src.describe}: its uncompressed content hashes to ${diffId}, but the image config says ${src.diffId}`,
      {
        hint: 'the image is inconsistent: ask its publisher, or pull it by another tag or digest',
        reason: 'diff-id-mismatch' satisfies StoreLayerFailure,
      },
    );
  }
  let blob: { digest: Digest; size: number };
  try {
    blob = ingest.commit(src.expected);
  } catch (e) {
    removeTree(ctx, tmp);
    throw e;
  }
  const chainId = src.parent === null ? diffId : chainIds([src.parent, diffId])[1]!;
  const layerDir = ctx.layout.layerDir(hexOf(chainId));
  try {
    renameSync(tmp, layerDir);
  } catch (e) {
    // The same layer was committed before, or by a concurrent den: keep the committed copy.
    const code = errnoCode(e);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    removeTree(ctx, tmp);
  }
  ctx.layers.add({
    chainId,
    diffId,
    parent: src.parent,
    size: stats.bytes,
    entries: stats.entries,
    maxUid: stats.maxUid,
    maxGid: stats.maxGid,
  });
  return { blob, diffId, chainId, stats, compression };
}

/** The decompressor's gzip decoder, as the engine's configuration says (DEN_GZIP). */
export function gzipDecoder(ctx: EngineContext): { igzip?: string } {
  return ctx.config.gzip.program !== undefined ? { igzip: ctx.config.gzip.program } : {};
}

function decompressionBomb(describe: string, ratio: number, tarBytes: number, blobBytes: number): DenError {
  return invalidArgument(
    'DEN0328',
    `${describe}: unpacks to more than ${ratio} times its compressed size (${humanSize(tarBytes)} from ${humanSize(blobBytes)} so far): refused as a decompression bomb`,
    {
      hint: `if you trust the image, raise the bound: DEN_MAX_LAYER_RATIO=${ratio * 10} (0 lifts it)`,
      reason: 'decompression-bomb',
    },
  );
}

function unreadable(describe: string, e: unknown): DenError {
  if (e instanceof DenError) return e;
  const why = e instanceof Error ? e.message : 'the unpacker gave no answer';
  return invalidArgument('DEN0432', `${describe}: cannot read the archive: ${why}`, { cause: e });
}

/**
 * Unpacks inside the rootless session: a den worker (`den __unpack DEST`) reads the tar on its
 * stdin and answers with the stats or the error it failed with (session/worker.ts).
 */
async function unpackInSession(ctx: EngineContext, tar: Readable, dest: string): Promise<UnpackStats> {
  return runWorker<never, UnpackStats>(ctx.ns, ctx.config.self, '__unpack', [dest], {
    stdin: tar,
    noAnswer: (status) => new DenError('Internal', 'DEN0433', `layer unpacker exited with status ${status}`),
  });
}

/** Root mode unpacks in this process. Loaded on demand: the unpacker is not on the run path. */
async function unpackHere(ctx: EngineContext, tar: Readable, dest: string): Promise<UnpackStats> {
  const { unpackLayer } = await import('../../unpack/index.js');
  return unpackLayer(tar, dest, { canMknod: true, onWarning: (message) => ctx.events.warning(message) });
}
