import { MEDIA_TYPES } from '../../images/index.js';
import type { EngineContext } from '../context.js';

/**
 * Rewrites the content store's index.json from the image records, so the store stays a valid OCI
 * image layout that other tools can read. The database stays the source of truth.
 */
export function publishIndex(ctx: EngineContext): void {
  const manifests = [];
  for (const image of ctx.images.list()) {
    const size = ctx.content.has(image.manifestDigest) ? ctx.content.size(image.manifestDigest) : 0;
    const names = image.names.length > 0 ? image.names : [undefined];
    for (const name of names) {
      manifests.push({
        mediaType: MEDIA_TYPES.manifest,
        digest: image.manifestDigest,
        size,
        ...(name ? { annotations: { 'org.opencontainers.image.ref.name': name } } : {}),
      });
    }
  }
  ctx.content.writeIndex(manifests);
}
