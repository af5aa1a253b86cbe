import { createReadStream } from 'node:fs';
import { internal, notFound } from '../../common/errors.js';
import { hexOf, type Descriptor, type Digest } from '../../content/index.js';
import {
  familiarName,
  familiarRepository,
  formatReference,
  MEDIA_TYPES,
  parseManifest,
  parseReference,
  repositoryOf,
  type ImageRecord,
} from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { ownerTag } from '../../snapshots/index.js';
import { gzipDecoder } from './store-layer.js';
import { forEachConcurrently, openRegistries, type RegistryAccess } from './registry-access.js';
import { imageEvent } from '../events.js';

export interface PushOptions extends RegistryAccess {
  /** The local image: a name or an id. */
  image: string;
  /** Where to: a reference; default the image's own name. */
  destination?: string;
  onProgress?: (event: PushEvent) => void;
}

export type PushEvent =
  | { kind: 'start'; reference: string; blobs: number }
  | { kind: 'blob'; id: string; status: 'exists' | 'mounted' | 'pushed' | 'pushing'; size: number };

/** Blobs uploaded at once, as docker's default max-concurrent-uploads (5). */
const CONCURRENT_BLOBS = 5;

/**
 * `den push`: the image's blobs as stored (so a pulled image's pushed manifest has the digest it had
 * when it was pulled), the config, then the manifest under the tag: a registry never sees a manifest
 * whose blobs it lacks. Blobs the registry has are skipped. Layers den keeps as plain tars (an
 * import of a plain tarball, a docker-archive's layers) go up gzipped, as docker pushes them, in a
 * manifest that names the gzipped blobs (its digest is the one recorded for the repository); the
 * gzipped blobs are kept in the content store like any other (unused, garbage collection takes
 * them).
 */
export async function pushImage(
  ctx: EngineContext,
  options: PushOptions,
): Promise<{ reference: string; digest: Digest; size: number }> {
  const image = ctx.images.find(options.image);
  if (!image) {
    throw notFound('DEN0453', `image ${options.image}: not found`, { hint: 'see `den images`' });
  }
  const target = parseReference(options.destination ?? defaultDestination(options.image, image));
  const manifestBytes = ctx.content.readVerified(image.manifestDigest);
  const parsed = parseManifest(manifestBytes);
  if (parsed.kind !== 'manifest') throw internal('DEN0456', `image ${options.image}: its manifest is an index`);
  const manifest = parsed.manifest;
  const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
  for (const blob of blobs) {
    if (!ctx.content.has(blob.digest)) {
      throw notFound('DEN0454', `image ${options.image}: blob ${blob.digest} is missing from the store`, {
        hint: `the store was damaged: pull or import the image again`,
      });
    }
  }
  const progress = options.onProgress ?? (() => {});
  const registries = openRegistries(options, { timeoutMs: ctx.config.registryTimeoutMs });
  try {
    const repository = registries.repository(target);
    const reference = formatReference(target);
    progress({ kind: 'start', reference: repositoryOf(target), blobs: blobs.length });
    // What goes up in each blob's place: itself, or a plain layer gzipped.
    const sent = new Map<Digest, Descriptor>();
    await forEachConcurrently(blobs, CONCURRENT_BLOBS, async (stored) => {
      const id = hexOf(stored.digest).slice(0, 12);
      progress({ kind: 'blob', id, status: 'pushing', size: stored.size });
      const gzipped = GZIP_OF[stored.mediaType];
      const blob = gzipped === undefined || stored === manifest.config ? stored : await gzipLayer(ctx, stored, gzipped);
      sent.set(stored.digest, blob);
      const path = ctx.content.path(blob.digest);
      const result = await repository.pushBlob(blob, () => createReadStream(path));
      progress({ kind: 'blob', id, status: result === 'uploaded' ? 'pushed' : result, size: blob.size });
    });
    const bytes = [...sent].some(([stored, blob]) => blob.digest !== stored)
      ? Buffer.from(JSON.stringify(withLayers(manifestBytes, (l) => sent.get(l.digest) ?? l)))
      : manifestBytes;
    const digest = await repository.putManifest(target.digest ?? target.tag ?? 'latest', {
      bytes,
      mediaType: manifest.mediaType,
    });
    // The repository now serves the image by that digest: docker's RepoDigests gains it, as a pull
    // from there would have recorded it.
    ctx.images.addDigest(image.id, `${repositoryOf(target)}@${digest}`);
    ctx.emit(imageEvent('push', familiarName(target), familiarRepository(target)));
    return { reference, digest, size: bytes.length };
  } finally {
    registries.close();
  }
}

/** The gzip media type of each plain layer media type a manifest may name. */
const GZIP_OF: Readonly<Record<string, string>> = {
  [MEDIA_TYPES.layer]: MEDIA_TYPES.layerGzip,
  [MEDIA_TYPES.dockerLayer]: MEDIA_TYPES.dockerLayerGzip,
};

/** A plain layer gzipped into the content store (igzip where the engine has it): its descriptor. */
async function gzipLayer(ctx: EngineContext, layer: Descriptor, mediaType: string): Promise<Descriptor> {
  const { gzipFile } = await import('../../unpack/index.js');
  const ingest = ctx.content.ingest(ownerTag());
  try {
    await gzipFile(ctx.content.path(layer.digest), ingest.writable(), gzipDecoder(ctx));
    const blob = ingest.commit();
    return { ...layer, mediaType, digest: blob.digest, size: blob.size };
  } catch (e) {
    ingest.abort();
    throw e;
  }
}

/** The manifest's JSON with each layer descriptor replaced, everything else as it was. */
function withLayers(bytes: Buffer, replace: (layer: Descriptor) => Descriptor): unknown {
  const json = JSON.parse(bytes.toString('utf8')) as { layers: Descriptor[] };
  return { ...json, layers: json.layers.map(replace) };
}

/** The image's own name when it was named so, else the name as given. */
function defaultDestination(asked: string, image: ImageRecord): string {
  try {
    return formatReference(parseReference(asked));
  } catch {
    const name = image.names[0];
    if (!name)
      throw notFound('DEN0455', `image ${asked} has no name to push to`, {
        hint: 'give a destination: den push IMAGE REGISTRY/NAME:TAG',
      });
    return name;
  }
}
