/**
 * Image manifests and indexes as registries serve them: OCI image manifest and index, and Docker's
 * schema 2 manifest and manifest list, which are the same shapes under other media types.
 *
 * A manifest is hostile input until its digest is checked, and even then it was written by whoever
 * pushed it, so the parsers are strict: every field den reads is type-checked, sizes are bounded,
 * and only the known fields are copied out (no prototype keys, no surprises in `annotations`).
 * A document must also be unambiguous about what it is (CVE-2021-41190): a manifest may not carry
 * `manifests`, an index may not carry `config` or `layers`, and a `mediaType` field must agree with
 * the type the registry announced.
 *
 * The raw bytes stay the truth: callers store and hash the bytes, and parse them for decisions.
 */
import { DenError, invalidArgument, notFound } from '../common/errors.js';
import { isDigest, type Descriptor, type Digest } from '../content/index.js';
import { MEDIA_TYPES } from './image.js';

/** The largest manifest or index den accepts, as containerd and the distribution registry do. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export type ManifestMediaType = typeof MEDIA_TYPES.manifest | typeof MEDIA_TYPES.dockerManifest;
export type IndexMediaType = typeof MEDIA_TYPES.index | typeof MEDIA_TYPES.dockerManifestList;

/** The media types of a single-platform manifest. */
export const MANIFEST_MEDIA_TYPES: readonly ManifestMediaType[] = [MEDIA_TYPES.manifest, MEDIA_TYPES.dockerManifest];
/** The media types of a multi-platform index. */
export const INDEX_MEDIA_TYPES: readonly IndexMediaType[] = [MEDIA_TYPES.index, MEDIA_TYPES.dockerManifestList];
/** What den asks a registry for, in order of preference (the value of an Accept header). */
export const ACCEPTED_MANIFEST_TYPES: readonly string[] = [
  MEDIA_TYPES.index,
  MEDIA_TYPES.manifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
];

/** An operating system and CPU, as in an index entry: linux/arm64/v8. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** A layer's descriptor; non-distributable layers may name where to fetch them. */
export interface LayerDescriptor extends Descriptor {
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: ManifestMediaType;
  artifactType?: string;
  config: Descriptor;
  layers: LayerDescriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: IndexMediaType;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type ParsedManifest = { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex };

export type Compression = 'none' | 'gzip' | 'zstd';

/** What a layer media type says about its blob. */
export interface LayerType {
  compression: Compression;
  /** Non-distributable ("foreign") layer: registries may not have it, pushes skip it. */
  foreign: boolean;
}

const LAYER_TYPES: Readonly<Record<string, LayerType>> = {
  [MEDIA_TYPES.layer]: { compression: 'none', foreign: false },
  [MEDIA_TYPES.layerGzip]: { compression: 'gzip', foreign: false },
  [MEDIA_TYPES.layerZstd]: { compression: 'zstd', foreign: false },
  [MEDIA_TYPES.layerForeign]: { compression: 'none', foreign: true },
  [MEDIA_TYPES.layerForeignGzip]: { compression: 'gzip', foreign: true },
  [MEDIA_TYPES.layerForeignZstd]: { compression: 'zstd', foreign: true },
  [MEDIA_TYPES.dockerLayer]: { compression: 'none', foreign: false },
  [MEDIA_TYPES.dockerLayerGzip]: { compression: 'gzip', foreign: false },
  [MEDIA_TYPES.dockerLayerForeignGzip]: { compression: 'gzip', foreign: true },
};

/** The compression and distributability of a layer media type, or undefined for a non-layer type. */
export function layerType(mediaType: string): LayerType | undefined {
  return Object.hasOwn(LAYER_TYPES, mediaType) ? LAYER_TYPES[mediaType] : undefined;
}

/** The OCI layer media type of a blob compressed so: tar, tar+gzip, tar+zstd. */
export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case 'gzip':
      return MEDIA_TYPES.layerGzip;
    case 'zstd':
      return MEDIA_TYPES.layerZstd;
    case 'none':
      return MEDIA_TYPES.layer;
  }
}

/**
 * The manifest for an image that arrived without one (den import, a docker-archive): the OCI
 * manifest a registry would serve for these blobs. Its bytes are its digest, which `den images
 * --digests` shows and a push keeps, so they are fixed: these keys in this order, no whitespace.
 */
export function synthesizeManifest(
  config: { digest: Digest; size: number },
  layers: readonly { mediaType: string; digest: Digest; size: number }[],
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
}

export function isManifestMediaType(mediaType: string): mediaType is ManifestMediaType {
  return (MANIFEST_MEDIA_TYPES as readonly string[]).includes(mediaType);
}

export function isIndexMediaType(mediaType: string): mediaType is IndexMediaType {
  return (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType);
}

export function isImageConfigMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.config || mediaType === MEDIA_TYPES.dockerConfig;
}

/** Content-Type values that say nothing about which manifest this is. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

/**
 * Parses and validates a manifest or index. `mediaType` is what the registry announced
 * (Content-Type); a generic or missing one is replaced by the document's own `mediaType` field,
 * or failing that by its shape (OCI allows the field to be left out).
 */
export function parseManifest(bytes: Buffer, mediaType?: string): ParsedManifest {
  const type = mediaType?.split(';')[0]!.trim().toLowerCase() ?? '';
  const doc = parseDocument(bytes);
  let effective = type;
  if (GENERIC_TYPES.has(type)) {
    if (typeof doc.mediaType === 'string') effective = doc.mediaType;
    else effective = 'manifests' in doc ? MEDIA_TYPES.index : MEDIA_TYPES.manifest;
  }
  if (isManifestMediaType(effective)) return { kind: 'manifest', manifest: imageManifestOf(doc, effective) };
  if (isIndexMediaType(effective)) return { kind: 'index', index: imageIndexOf(doc, effective) };
  throw unsupportedMediaType(effective, 'manifest');
}

/** Parses a single-platform manifest; an index is an error. */
export function parseImageManifest(bytes: Buffer, mediaType?: string): ImageManifest {
  const parsed = parseManifest(bytes, mediaType);
  if (parsed.kind !== 'manifest') {
    throw malformed('manifest', `expected an image manifest, got an index (${parsed.index.mediaType})`);
  }
  return parsed.manifest;
}

/** Parses a multi-platform index; a manifest is an error. */
export function parseImageIndex(bytes: Buffer, mediaType?: string): ImageIndex {
  const parsed = parseManifest(bytes, mediaType);
  if (parsed.kind !== 'index') {
    throw malformed('index', `expected an image index, got a manifest (${parsed.manifest.mediaType})`);
  }
  return parsed.index;
}

/**
 * Checks that a manifest describes a container image den can unpack: an image config and layers of
 * known types. Artifacts (Helm charts, signatures) parse as manifests too, and are refused here.
 */
export function checkContainerImage(manifest: ImageManifest): void {
  if (!isImageConfigMediaType(manifest.config.mediaType)) {
    throw unsupportedMediaType(manifest.config.mediaType, 'image config', 'this is not a container image');
  }
  for (const layer of manifest.layers) {
    if (layerType(layer.mediaType) === undefined) throw unsupportedMediaType(layer.mediaType, 'layer');
  }
}

/** The `reason` of a manifest, index, config or layer refused for its type: one den does not read. */
export type ManifestFailure = 'unsupported-media-type';

function unsupportedMediaType(mediaType: string, what: string, why?: string): DenError {
  return invalidArgument('DEN0912', `unsupported ${what} media type "${mediaType.slice(0, 200)}"`, {
    reason: 'unsupported-media-type' satisfies ManifestFailure,
    hint:
      why ?? `den reads ${what === 'layer' ? 'tar, tar+gzip and tar+zstd layers' : 'OCI and Docker schema 2 images'}`,
  });
}

function malformed(what: string, why: string): DenError {
  return invalidArgument('DEN0913', `malformed image ${what}: ${why}`);
}

type Json = Record<string, unknown>;

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function parseDocument(bytes: Buffer): Json {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw invalidArgument(
      'DEN0911',
      `manifest of ${bytes.length} bytes exceeds the limit of ${MAX_MANIFEST_BYTES} bytes`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('manifest', 'not UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // A RangeError from absurd nesting lands here too.
    throw malformed('manifest', `not JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!isObject(doc)) throw malformed('manifest', 'not a JSON object');
  return doc;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field checker that names the path of whatever is wrong: `layers[2].digest: ...`. */
class Fields {
  constructor(
    private readonly what: string,
    private readonly path: string,
    private readonly obj: Json,
  ) {}

  private fail(key: string, why: string): DenError {
    return malformed(this.what, `${this.path}${key}: ${why}`);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key) && this.obj[key] !== undefined;
  }

  string(key: string): string {
    const v = this.obj[key];
    if (!Object.hasOwn(this.obj, key) || typeof v !== 'string') throw this.fail(key, 'expected a string');
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  mediaType(key: string): string {
    const v = this.string(key);
    if (!MEDIA_TYPE.test(v)) throw this.fail(key, `"${v.slice(0, 200)}" is not a media type`);
    return v;
  }

  size(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw this.fail(key, 'expected a size: a non-negative integer');
    }
    return v;
  }

  digest(key: string): Digest {
    const v = this.string(key);
    if (isDigest(v)) return v;
    if (/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(v) && !v.startsWith('sha256:')) {
      throw this.fail(key, `unsupported digest algorithm in "${v.slice(0, 100)}": den verifies sha256 only`);
    }
    throw this.fail(key, `"${v.slice(0, 100)}" is not a sha256 digest`);
  }

  object(key: string): Fields {
    const v = this.obj[key];
    if (!isObject(v)) throw this.fail(key, 'expected an object');
    return new Fields(this.what, `${this.path}${key}.`, v);
  }

  array(key: string): Fields[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) throw this.fail(key, 'expected an array');
    return v.map((item, i) => {
      if (!isObject(item)) throw this.fail(`${key}[${i}]`, 'expected an object');
      return new Fields(this.what, `${this.path}${key}[${i}].`, item);
    });
  }

  stringArray(key: string): string[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw this.fail(key, 'expected an array of strings');
    return [...(v as string[])];
  }

  stringMap(key: string): Record<string, string> {
    const v = this.obj[key];
    if (!isObject(v)) throw this.fail(key, 'expected an object of strings');
    const out: Record<string, string> = {};
    for (const [k, s] of Object.entries(v)) {
      if (typeof s !== 'string') throw this.fail(`${key}.${k.slice(0, 100)}`, 'expected a string');
      // defineProperty, so a "__proto__" key stays a plain key.
      Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  descriptor(): Descriptor {
    const d: Descriptor = {
      mediaType: this.mediaType('mediaType'),
      digest: this.digest('digest'),
      size: this.size('size'),
    };
    if (this.has('annotations')) d.annotations = this.stringMap('annotations');
    if (this.has('platform')) d.platform = this.object('platform').platform();
    return d;
  }

  platform(): Platform {
    const p: Platform = { architecture: this.string('architecture'), os: this.string('os') };
    if (p.architecture === '' || p.os === '') throw this.fail('os', 'os and architecture must not be empty');
    const variant = this.optionalString('variant');
    if (variant !== undefined && variant !== '') p.variant = variant;
    if (this.has('os.version')) this.string('os.version');
    if (this.has('os.features')) this.stringArray('os.features');
    return p;
  }
}

function header(doc: Json, what: string, mediaType: string): Fields {
  const f = new Fields(what, '', doc);
  if (doc.schemaVersion !== 2) throw malformed(what, 'schemaVersion: expected 2');
  const declared = f.has('mediaType') ? f.mediaType('mediaType') : undefined;
  if (declared !== undefined && declared !== mediaType) {
    throw malformed(what, `mediaType: "${declared}" contradicts the announced type ${mediaType}`);
  }
  // Docker's schema 2 requires the field; OCI only recommends it.
  if (declared === undefined && mediaType.startsWith('application/vnd.docker.')) {
    throw malformed(what, 'mediaType: required for Docker schema 2');
  }
  return f;
}

function imageManifestOf(doc: Json, mediaType: ManifestMediaType): ImageManifest {
  const f = header(doc, 'manifest', mediaType);
  if (f.has('manifests')) throw malformed('manifest', 'manifests: not allowed in an image manifest');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: f.object('config').descriptor(),
    layers: f.array('layers').map((l) => {
      const layer: LayerDescriptor = l.descriptor();
      if (l.has('urls')) layer.urls = l.stringArray('urls');
      return layer;
    }),
  };
  if (f.has('artifactType')) manifest.artifactType = f.mediaType('artifactType');
  if (f.has('subject')) manifest.subject = f.object('subject').descriptor();
  if (f.has('annotations')) manifest.annotations = f.stringMap('annotations');
  return manifest;
}

function imageIndexOf(doc: Json, mediaType: IndexMediaType): ImageIndex {
  const f = header(doc, 'index', mediaType);
  for (const key of ['config', 'layers']) {
    if (f.has(key)) throw malformed('index', `${key}: not allowed in an image index`);
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    manifests: f.array('manifests').map((m) => m.descriptor()),
  };
  if (f.has('annotations')) index.annotations = f.stringMap('annotations');
  return index;
}

// Platforms. Names follow OCI (GOOS/GOARCH); variants follow containerd's matching rules.

const PLATFORM_PART = /^[a-z0-9][a-z0-9._-]*$/;

/** Parses `os/arch[/variant]` (linux/amd64, linux/arm64/v8, linux/arm/v7), normalising aliases. */
export function parsePlatform(input: string): Platform {
  const parts = input.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !PLATFORM_PART.test(p))) {
    throw invalidArgument('DEN0915', `invalid platform "${input}": expected os/arch[/variant]`, {
      hint: 'for example linux/amd64 or linux/arm64/v8',
    });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

const ARCH_ALIASES: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
  x86: { architecture: '386' },
};

/** Lowercases and maps the usual aliases (x86_64, aarch64, armhf) and variant spellings (7 -> v7). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = Object.hasOwn(ARCH_ALIASES, architecture) ? ARCH_ALIASES[architecture] : undefined;
  if (alias) {
    architecture = alias.architecture;
    variant ??= alias.variant;
  }
  if (variant !== undefined && /^[0-9]/.test(variant) && ['arm', 'arm64', 'amd64'].includes(architecture)) {
    variant = `v${variant}`;
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** The platform of this host: linux and Node's process.arch in OCI's names. */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm': {
      const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
      return { os: 'linux', architecture: 'arm', variant: `v${typeof armVersion === 'string' ? armVersion : '7'}` };
    }
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'ppc64':
      // Node runs on little-endian POWER only.
      return { os: 'linux', architecture: 'ppc64le' };
    case 'mipsel':
      return { os: 'linux', architecture: 'mipsle' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

/**
 * The level of a variant on the architectures whose variants are ordered, a CPU of level N running
 * the code of every level up to N: amd64 v1..v4 (no variant is v1), arm v5..v8 (no variant is v7,
 * as containerd assumes), arm64 v8, v8.1, .., v9 (no variant is v8). Undefined elsewhere, where
 * variants must simply be equal.
 */
function variantLevel(architecture: string, variant: string | undefined): number | undefined {
  const m = variant === undefined ? undefined : /^v([0-9]+)(?:\.([0-9]+))?$/.exec(variant);
  if (variant !== undefined && !m) return undefined;
  const major = m ? Number(m[1]) : undefined;
  const minor = m?.[2] !== undefined ? Number(m[2]) : 0;
  switch (architecture) {
    case 'amd64':
      return major === undefined ? 1 : minor === 0 && major >= 1 && major <= 4 ? major : undefined;
    case 'arm':
      return major === undefined ? 7 : minor === 0 && major >= 5 && major <= 8 ? major : undefined;
    case 'arm64':
      return major === undefined ? 800 : major >= 8 ? major * 100 + minor : undefined;
    default:
      return undefined;
  }
}

/**
 * How well a candidate platform suits the wanted one: undefined when it cannot run there, else
 * higher is better (the newest variant the wanted CPU can run).
 */
export function platformScore(candidate: Platform, wanted: Platform): number | undefined {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  if (c.os !== w.os || c.architecture !== w.architecture) return undefined;
  const cl = variantLevel(c.architecture, c.variant);
  const wl = variantLevel(w.architecture, w.variant);
  if (cl !== undefined && wl !== undefined) return cl <= wl ? cl : undefined;
  return c.variant === w.variant ? 0 : undefined;
}

/**
 * Picks the manifest for a platform from an index: the best-scoring entry, the first one on a tie
 * (an index lists its preferred entry first). Entries without a platform, or that are not image
 * manifests (nested indexes, attestations marked unknown/unknown), are never picked.
 */
export function selectPlatform(index: ImageIndex, wanted: Platform = hostPlatform()): Descriptor {
  let best: { d: Descriptor; score: number } | undefined;
  for (const d of index.manifests) {
    if (d.platform === undefined || !isManifestMediaType(d.mediaType)) continue;
    const score = platformScore(d.platform, wanted);
    if (score !== undefined && (best === undefined || score > best.score)) best = { d, score };
  }
  if (best) return best.d;
  const available = [
    ...new Set(
      index.manifests
        .filter((d) => d.platform !== undefined && d.platform.os !== 'unknown')
        .map((d) => formatPlatform(d.platform!)),
    ),
  ];
  throw notFound('DEN0914', `no matching manifest for ${formatPlatform(wanted)} in the manifest list entries`, {
    hint:
      available.length > 0
        ? `the image is available for ${available.join(', ')}: choose one with --platform`
        : 'the index names no platforms',
  });
}
