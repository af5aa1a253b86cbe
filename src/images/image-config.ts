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

/** The OCI image config's fields in the order Go's image-spec structs declare them. */
const IMAGE_KEYS = ['created', 'author', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'config'];
const RUN_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal'];
const ROOTFS_KEYS = ['type', 'diff_ids'];
const HISTORY_KEYS = ['created', 'created_by', 'author', 'comment', 'empty_layer'];

/**
 * The bytes of an image config den writes (import, commit), as Go's encoding/json writes the OCI
 * structs: their fields in declaration order, empty ones left out, `config` always there, and `<`,
 * `>`, `&` escaped. Tools that convert an image (skopeo copying a docker archive to an OCI layout)
 * decode the config into those structs and encode it again; a config already in that form comes
 * out byte for byte, and keeps its digest, which is the image id. Fields those structs do not have
 * (docker's Healthcheck) are kept after the known ones: they survive where the config is copied as
 * it is, and are dropped by a conversion whatever den does.
 */
export function serializeImageConfig(config: Record<string, unknown>): Buffer {
  const doc = ordered(config, IMAGE_KEYS);
  doc.config = ordered(isObject(config.config) ? config.config : {}, RUN_KEYS);
  if (isObject(config.rootfs)) doc.rootfs = ordered(config.rootfs, ROOTFS_KEYS, ROOTFS_KEYS);
  if (Array.isArray(config.history) && config.history.length > 0) {
    doc.history = config.history.map((h) => (isObject(h) ? ordered(h, HISTORY_KEYS) : h));
  } else {
    delete doc.history;
  }
  // The known fields first (config, rootfs and history in their places), then the rest.
  const out: Record<string, unknown> = {};
  for (const key of [...IMAGE_KEYS, 'rootfs', 'history']) if (key in doc) out[key] = doc[key];
  for (const [key, value] of Object.entries(doc)) if (!(key in out)) out[key] = value;
  return Buffer.from(goJson(out));
}

/** `o` with `keys` first in that order and empty values left out (but `kept`'s), then its other fields. */
function ordered(
  o: Record<string, unknown>,
  keys: readonly string[],
  kept: readonly string[] = ['config'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const empty = (v: unknown) =>
    v === undefined ||
    v === null ||
    v === '' ||
    v === false ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0);
  for (const key of keys) if (key in o && (kept.includes(key) || !empty(o[key]))) out[key] = o[key];
  for (const [key, value] of Object.entries(o)) if (!(key in out) && !keys.includes(key)) out[key] = value;
  return out;
}

/** JSON as Go's encoding/json writes it: HTML characters and U+2028/U+2029 escaped, \b and \f as \u escapes. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]|\\[bf]|\\\\/g, (m) => {
    if (m === '\\\\') return m; // an escaped backslash: what follows it is not an escape
    if (m === '\\b') return '\\u0008';
    if (m === '\\f') return '\\u000c';
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
