import { createReadStream } from 'node:fs';
import { internal, notFound } from '../../common/errors.js';
import { hexOf, type Descriptor, type Digest } from '../../content/index.js';
import {
  familiarName,
  familiarRepository,
  formatReference,
  parseManifest,
  parseReference,
  repositoryOf,
  type ImageRecord,
} from '../../images/index.js';
import type { EngineContext } from '../context.js';
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
 * `den push`: the image's blobs exactly as stored (so the pushed manifest has the digest it had
 * when it was pulled or imported), the config, then the manifest under the tag: a registry never
 * sees a manifest whose blobs it lacks. Blobs the registry has are skipped.
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
    await forEachConcurrently(blobs, CONCURRENT_BLOBS, async (blob) => {
      const id = hexOf(blob.digest).slice(0, 12);
      progress({ kind: 'blob', id, status: 'pushing', size: blob.size });
      const path = ctx.content.path(blob.digest);
      const result = await repository.pushBlob(blob, () => createReadStream(path));
      progress({ kind: 'blob', id, status: result === 'uploaded' ? 'pushed' : result, size: blob.size });
    });
    const digest = await repository.putManifest(target.digest ?? target.tag ?? 'latest', {
      bytes: manifestBytes,
      mediaType: manifest.mediaType,
    });
    ctx.emit(imageEvent('push', familiarName(target), familiarRepository(target)));
    return { reference, digest, size: manifestBytes.length };
  } finally {
    registries.close();
  }
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
