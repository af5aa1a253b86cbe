import { invalidArgument } from '../../common/errors.js';
import type { Digest } from '../../content/index.js';
import { familiarName, formatReference, parseReference, type ImageConfig } from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { publishIndex } from './image-index.js';
import { imageEvent } from '../events.js';

/**
 * `den tag SOURCE TARGET`: TARGET (normalised, `busybox` is docker.io/library/busybox:latest) names
 * the image SOURCE names; if it named another image, it moves, and that image keeps its other names
 * or becomes dangling, as in docker.
 */
export function tagImage(ctx: EngineContext, source: string, target: string): { id: Digest; name: string } {
  const image = ctx.images.resolve(source);
  const ref = parseReference(target);
  if (ref.digest !== undefined) {
    throw invalidArgument('DEN0971', `refusing to create a tag with a digest reference: ${target}`, {
      hint: 'give NAME[:TAG]',
    });
  }
  if (/^[a-f0-9]{64}$/.test(ref.path.split('/').pop()!)) {
    throw invalidArgument(
      'DEN0972',
      `invalid repository name (${ref.path.split('/').pop()}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const name = formatReference(ref);
  ctx.images.add(image, [name]);
  publishIndex(ctx);
  ctx.emit(imageEvent('tag', image.id, familiarName(ref)));
  return { id: image.id, name };
}

export interface HistoryEntry {
  /** The image id on the newest entry; the others have none (docker prints `<missing>`). */
  id: Digest | undefined;
  created: string | undefined;
  createdBy: string;
  /** Unpacked bytes of the layer the entry made; 0 for an entry that made none. */
  size: number;
  comment: string;
  emptyLayer: boolean;
}

/**
 * `den history IMAGE`: the config's history, newest first, each entry that made a layer with that
 * layer's unpacked size. An image whose config has no history (some tools write none) gets one
 * entry per layer.
 */
export function imageHistory(ctx: EngineContext, ref: string): HistoryEntry[] {
  const image = ctx.images.resolve(ref);
  const sizes = image.layers.map((l) => ctx.layers.size(l.chainId));
  const history: NonNullable<ImageConfig['history']> =
    image.config.history && image.config.history.length > 0
      ? image.config.history
      : image.layers.map(() => (image.config.created ? { created: image.config.created } : {}));
  let layer = 0;
  const entries: HistoryEntry[] = history.map((h) => {
    const emptyLayer = h.empty_layer === true;
    const size = emptyLayer ? 0 : (sizes[layer++] ?? 0);
    return {
      id: undefined,
      created: h.created,
      createdBy: h.created_by ?? '',
      size,
      comment: h.comment ?? '',
      emptyLayer,
    };
  });
  entries.reverse();
  if (entries[0]) entries[0].id = image.id;
  return entries;
}
