/**
 * The one check of an image config, for every way an image arrives (pull, load): what den needs to
 * be true before it unpacks anything for the image or records it. The config's bytes are the
 * image id, so they are stored as they are; the parsed object is what den reads.
 */
import { invalidArgument, type DenError } from '../common/errors.js';
import { isDigest } from '../content/index.js';
import type { ImageConfig } from './image.js';

/**
 * The largest image config den reads. A config is JSON of a few kilobytes (a long history makes
 * it tens); more is refused before it is read.
 */
export const MAX_IMAGE_CONFIG_BYTES = 8 << 20;

/**
 * Parses an image config (OCI image-spec config.md; Docker's is the same shape) and checks the
 * fields den relies on: `architecture` and `os` are strings, `rootfs` is `{type: "layers",
 * diff_ids: [sha256 digests]}`, and `config`, `history` and `created`, when present, have their
 * types. `what` names the config in the error (DEN0913): `config sha256:12ab...`.
 */
export function parseImageConfig(bytes: Buffer, what: string): ImageConfig {
  const bad = (why: string): DenError => invalidArgument('DEN0913', `${what}: malformed image config: ${why}`);
  let doc: unknown;
  try {
    // Not fatal on invalid UTF-8: Go's encoding/json, which wrote most configs, replaces it too.
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!isObject(doc)) throw bad('not a JSON object');
  if (typeof doc.architecture !== 'string' || typeof doc.os !== 'string') {
    throw bad('architecture and os: expected strings');
  }
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers') throw bad('rootfs: expected type "layers"');
  if (!Array.isArray(rootfs.diff_ids) || rootfs.diff_ids.some((d) => typeof d !== 'string' || !isDigest(d))) {
    throw bad('rootfs.diff_ids: expected an array of sha256 digests');
  }
  if (doc.config !== undefined && doc.config !== null && !isObject(doc.config)) throw bad('config: expected an object');
  if (doc.history !== undefined && (!Array.isArray(doc.history) || !doc.history.every(isObject))) {
    throw bad('history: expected an array of objects');
  }
  if (doc.created !== undefined && typeof doc.created !== 'string') throw bad('created: expected a string');
  return doc as unknown as ImageConfig;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
