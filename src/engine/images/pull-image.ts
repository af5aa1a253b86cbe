import { createReadStream, existsSync } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { DenError, invalidArgument, notFound } from '../../common/errors.js';
import { chainIds, hexOf, type Descriptor, type Digest } from '../../content/index.js';
import {
  formatReference,
  repositoryOf,
  familiarName,
  familiarRepository,
  parseReference,
  MAX_IMAGE_CONFIG_BYTES,
  parseImageConfig,
  parsePlatform,
  platformScore,
  formatPlatform,
  type ImageRecord,
  type LayerRef,
} from '../../images/index.js';
import type { Repository } from '../../registry/index.js';
import type { EngineContext } from '../context.js';
import { publishIndex } from './image-index.js';
import { forEachConcurrently, openRegistries, type RegistryAccess } from './registry-access.js';
import { storeLayer } from './store-layer.js';
import { sweepAbandoned, takeLease, withLayerLock } from '../../snapshots/index.js';
import { imageEvent } from '../events.js';

export interface PullOptions extends RegistryAccess {
  /** What to pull: a name as typed (short names go through the search registries) or a full reference. */
  reference: string;
  /** `--platform os/arch[/variant]`; default this host's. */
  platform?: string;
  onProgress?: (event: PullEvent) => void;
}

/** What a pull reports as it goes, per layer (as docker pull's lines) and for the image. */
export type PullEvent =
  | { kind: 'resolved'; reference: string; digest: Digest; layers: number }
  | { kind: 'layer'; id: string; status: 'exists' | 'waiting' | 'pulling' | 'done'; total: number }
  | { kind: 'bytes'; id: string; current: number; total: number }
  /** A registry has not answered a request for `seconds`: the pull is waiting, not stuck silently. */
  | { kind: 'waiting'; registry: string; seconds: number };

/** Layers fetched at once, as docker's default max-concurrent-downloads. */
const CONCURRENT_LAYERS = 3;

/**
 * `den pull`: the manifest for this platform, the config, and every layer the store lacks, fetched
 * CONCURRENT_LAYERS at a time, each streamed once from the network through decompression into the
 * unpacker (storeLayer), verified against the manifest's digest and size and the config's diff id
 * before anything is committed. Two den processes pulling the same layer fetch it once (a lock per
 * layer); a download that broke off resumes where it stopped next time; the image record is written
 * last, so an interrupted pull leaves no image, only committed layers and resumable bytes.
 */
export async function pullImage(ctx: EngineContext, options: PullOptions): Promise<ImageRecord> {
  const progress = options.onProgress ?? (() => {});
  const registries = openRegistries(options, {
    timeoutMs: ctx.config.registryTimeoutMs,
    onWaiting: (registry, waitedMs) => progress({ kind: 'waiting', registry, seconds: waitedMs / 1000 }),
  });
  let releaseLease = () => {};
  try {
    const platform = options.platform !== undefined ? parsePlatform(options.platform) : undefined;
    const source = await registries.resolveImage(options.reference, platform);
    const { repository, image } = source;
    const name = formatReference(source.reference);
    // The digest the tag names (docker prints it): the index's for a multi-platform image.
    const digest = source.index?.digest ?? source.manifest.digest;
    progress({ kind: 'resolved', reference: name, digest, layers: image.layers.length });

    const configBytes = await readBlob(repository, image.config, MAX_IMAGE_CONFIG_BYTES);
    const config = parseImageConfig(configBytes, `image ${name}: config ${image.config.digest}`);
    // A single-platform image names its platform only in its config: one for another platform
    // than the one asked for is refused, as docker does, rather than pulled and run regardless.
    const actual = {
      os: config.os,
      architecture: config.architecture,
      ...(typeof config.variant === 'string' ? { variant: config.variant } : {}),
    };
    if (platform !== undefined && platformScore(actual, platform) === undefined) {
      throw notFound(
        'DEN0934',
        `image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(platform)}, actual: ${formatPlatform(actual)}`,
        { hint: `pull it without --platform to run it where it can (${formatPlatform(actual)})` },
      );
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== image.layers.length) {
      throw invalidArgument(
        'DEN0450',
        `image ${name}: the manifest lists ${image.layers.length} layers, its config ${diffIds.length}`,
        { hint: 'the image is malformed: ask its publisher' },
      );
    }
    const chains = chainIds(diffIds);

    ctx.content.init();
    sweepAbandoned(ctx);
    // What this pull will record stays out of garbage collection and rmi until it has.
    releaseLease = takeLease(ctx, [
      source.manifest.digest,
      image.config.digest,
      ...image.layers.map((l) => l.digest),
      ...chains,
    ]);
    const layers: LayerRef[] = image.layers.map((l, i) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      diffId: diffIds[i]!,
      chainId: chains[i]!,
    }));
    // The directory too: a record that outlived it (a den killed in rmi between the two) must not
    // pass for a stored layer, or the image is recorded without it; fetched again, it comes back.
    const present = (l: LayerRef) =>
      ctx.layers.has(l.chainId) && ctx.content.has(l.digest) && existsSync(ctx.layout.layerDir(hexOf(l.chainId)));
    await forEachConcurrently(layers, CONCURRENT_LAYERS, async (layer, i) => {
      const id = hexOf(layer.digest).slice(0, 12);
      if (present(layer)) {
        progress({ kind: 'layer', id, status: 'exists', total: layer.size });
        return;
      }
      await withLayerLock(
        ctx,
        hexOf(layer.chainId),
        () => present(layer),
        async () => {
          progress({ kind: 'layer', id, status: 'pulling', total: layer.size });
          await fetchLayer(ctx, repository, layer, i === 0 ? null : chains[i - 1]!, (current) =>
            progress({ kind: 'bytes', id, current, total: layer.size }),
          );
        },
        () => progress({ kind: 'layer', id, status: 'waiting', total: layer.size }),
      );
      progress({ kind: 'layer', id, status: 'done', total: layer.size });
    });

    ctx.content.put(configBytes);
    ctx.content.put(source.manifest.bytes);
    const size = layers.reduce((n, l) => n + ctx.layers.size(l.chainId), 0);
    const record = {
      id: image.config.digest,
      manifestDigest: source.manifest.digest,
      config,
      layers,
      size,
      createdAt: config.created ?? new Date().toISOString(),
    };
    // By digest, docker names the image by nothing but that digest: no tag moves. Either way the
    // repository remembers the digest it served (docker's RepoDigests).
    const names = source.reference.digest === undefined ? [name] : [];
    const digests = [`${repositoryOf(source.reference)}@${digest}`];
    ctx.images.add(record, names, digests);
    publishIndex(ctx);
    const pulled = parseReference(name);
    ctx.emit(imageEvent('pull', familiarName(pulled), familiarRepository(pulled)));
    const stored = ctx.images.byId(record.id);
    return { ...record, names: stored?.names ?? names, digests: stored?.digests ?? digests };
  } finally {
    releaseLease();
    registries.close();
  }
}

/**
 * One layer: from the bytes a broken-off download left (if any) and then the network from there on,
 * into storeLayer. A failure of the connection keeps the bytes for the next pull; anything that
 * shows the bytes are wrong deletes them.
 */
async function fetchLayer(
  ctx: EngineContext,
  repository: Repository,
  layer: LayerRef,
  parent: Digest | null,
  onBytes: (current: number) => void,
): Promise<void> {
  let ingest = ctx.content.resumable(layer.digest);
  if (ingest.size > layer.size) {
    // More bytes than the blob has: not a prefix of it. Start over.
    ingest.abort();
    ingest = ctx.content.resumable(layer.digest);
  }
  const have = ingest.size;
  let network: Readable;
  try {
    const descriptor: Descriptor = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
    network = await repository.fetchBlob(descriptor, have > 0 ? { offset: have, prefixHash: ingest.hashSoFar() } : {});
  } catch (e) {
    ingest.suspend();
    throw e;
  }
  const source = have > 0 ? concat(createReadStream(ingest.tmpPath, { start: 0, end: have - 1 }), network) : network;
  // Counted on the way through: a 'data' listener would start the stream flowing before storeLayer
  // reads it, and bytes would be lost.
  let current = 0;
  let lastReport = 0;
  const blob = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      current += chunk.length;
      if (current - lastReport >= 1 << 20 || current === layer.size) {
        lastReport = current;
        onBytes(current);
      }
      cb(null, chunk);
    },
  });
  source.on('error', (e) => blob.destroy(e));
  blob.on('close', () => source.destroy());
  source.pipe(blob);
  await storeLayer(ctx, {
    blob,
    describe: `layer ${layer.digest}`,
    mediaType: layer.mediaType,
    parent,
    expected: { digest: layer.digest, size: layer.size },
    diffId: layer.diffId,
    ingest,
    keepPartial: (e) => e instanceof DenError && e.kind === 'Unavailable',
  });
}

/** Two streams one after the other. */
function concat(first: Readable, second: Readable): Readable {
  const out = new PassThrough();
  first.on('error', (e) => out.destroy(e));
  second.on('error', (e) => out.destroy(e));
  out.on('close', () => {
    first.destroy();
    second.destroy();
  });
  first.pipe(out, { end: false });
  first.on('end', () => second.pipe(out));
  return out;
}

async function readBlob(repository: Repository, descriptor: Descriptor, limit: number): Promise<Buffer> {
  if (descriptor.size > limit) {
    throw invalidArgument('DEN0451', `blob ${descriptor.digest}: ${descriptor.size} bytes, more than ${limit} allowed`);
  }
  const stream = await repository.fetchBlob(descriptor);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
