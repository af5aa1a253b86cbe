import { conflict } from '../../common/errors.js';
import { hexOf, type Digest } from '../../content/index.js';
import { familiarName, formatReference, parseReference } from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { publishIndex } from './image-index.js';
import { forgetLayer } from '../containers/rootfs-mount.js';
import { leased, removeTree } from '../../snapshots/index.js';

export interface RemovedImage {
  untagged: string[];
  deleted: string[];
  /** Bytes freed on disk: the deleted layers unpacked, and their blobs, config and manifest. */
  bytes: number;
}

/**
 * `den rmi`: by name, the name goes, and the image with it when it was its last name; by id, the
 * image and all its names (with -f even if it has several). An image a container uses stays.
 * Layers no remaining image uses are deleted from disk, then their blobs.
 */
export function removeImage(ctx: EngineContext, ref: string, force: boolean): RemovedImage {
  const image = ctx.images.resolve(ref);
  const result: RemovedImage = { untagged: [], deleted: [], bytes: 0 };
  let byName: string | undefined;
  try {
    const canonical = formatReference(parseReference(ref));
    if (image.names.includes(canonical)) byName = canonical;
  } catch {
    byName = undefined;
  }
  if (byName && image.names.length > 1) {
    ctx.images.untag(byName);
    result.untagged.push(familiarName(parseReference(byName)));
    publishIndex(ctx);
    return result;
  }
  if (!byName && image.names.length > 1 && !force) {
    throw conflict(
      'DEN0440',
      `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced): image is referenced in multiple repositories`,
      {
        hint: 'remove it by name, or with -f',
      },
    );
  }
  const users = ctx.containers.countUsingImage(image.id);
  if (users > 0) {
    throw conflict('DEN0441', `conflict: unable to remove image ${ref}: image is being used by ${users} container(s)`, {
      hint: 'remove the containers first (den ps -a, den rm)',
    });
  }
  const unused = ctx.images.delete(image.id);
  result.untagged.push(...image.names.map((n) => familiarName(parseReference(n))));
  // A running pull may be about to record an image with some of these: leave them to the garbage
  // collection (den image prune) once it is done.
  const kept = leased(ctx);
  const blobBytes = (digest: Digest) => (ctx.content.has(digest) ? ctx.content.size(digest) : 0);
  for (const layer of unused.filter((l) => !kept.has(l.chainId) && !kept.has(l.digest))) {
    result.bytes += ctx.layers.size(layer.chainId) + blobBytes(layer.digest);
    removeTree(ctx, ctx.layout.layerDir(hexOf(layer.chainId)));
    forgetLayer(ctx, hexOf(layer.chainId));
    ctx.layers.remove(layer.chainId);
    ctx.content.remove(layer.digest);
    result.deleted.push(layer.chainId);
  }
  result.bytes += blobBytes(image.manifestDigest) + blobBytes(image.id);
  ctx.content.remove(image.manifestDigest);
  ctx.content.remove(image.id);
  result.deleted.unshift(image.id);
  publishIndex(ctx);
  return result;
}
