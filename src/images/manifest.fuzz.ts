/**
 * Fuzz targets for image manifests and indexes (manifest.ts): documents a registry or an image
 * archive hands den before anything about them is trusted. See common/fuzz.ts.
 */
import { acceptOrRefuse, mutateBytes, property, type FuzzTarget } from '../common/fuzz.js';
import type { SeededRandom } from '../common/seeded-random.js';
import { MEDIA_TYPES } from './image.js';
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from './manifest.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Doc = { [key: string]: Json };

const HEX = '0123456789abcdef';
const LAYER_TYPES = [MEDIA_TYPES.layer, MEDIA_TYPES.layerGzip, MEDIA_TYPES.layerZstd, MEDIA_TYPES.dockerLayerGzip];
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

const digest = (rand: SeededRandom): string => `sha256:${rand.string(64, HEX)}`;

function annotations(rand: SeededRandom): Doc {
  const out: Doc = {};
  for (let n = rand.int(1, 3); n > 0; n--) {
    const key = rand.pick(['org.opencontainers.image.title', 'com.example.x', '__proto__', 'constructor', 'é']);
    Object.defineProperty(out, key, {
      value: rand.string(rand.int(0, 10), 'abc é'),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function descriptor(rand: SeededRandom, mediaType: string, withPlatform = false): Doc {
  const d: Doc = {
    mediaType,
    digest: digest(rand),
    size: rand.chance(0.1) ? Number.MAX_SAFE_INTEGER : rand.int(0, 1e9),
  };
  if (rand.chance(0.2)) d.annotations = annotations(rand);
  if (withPlatform) {
    d.platform = { architecture: rand.pick(['amd64', 'arm64', 'arm', 's390x']), os: rand.pick(['linux', 'windows']) };
    if (rand.chance(0.3)) d.platform.variant = rand.pick(['v7', 'v8', '']);
    if (rand.chance(0.1)) d.platform['os.features'] = ['win32k'];
  }
  return d;
}

/** A valid manifest or index, and the media type it is announced under. */
function validDocument(rand: SeededRandom): { doc: Doc; announced: string | undefined } {
  const docker = rand.chance(0.4);
  let doc: Doc;
  let type: string;
  if (rand.chance(0.6)) {
    type = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.manifest;
    doc = {
      schemaVersion: 2,
      config: descriptor(rand, docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.config),
      layers: Array.from({ length: rand.int(0, 5) }, () => {
        const l = descriptor(rand, rand.pick(LAYER_TYPES));
        if (rand.chance(0.1)) l.urls = ['https://example.com/layer'];
        return l;
      }),
    };
    if (rand.chance(0.1)) doc.subject = descriptor(rand, MEDIA_TYPES.manifest);
    if (rand.chance(0.1)) doc.artifactType = 'application/vnd.example+json';
  } else {
    type = docker ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.index;
    doc = {
      schemaVersion: 2,
      manifests: Array.from({ length: rand.int(0, 5) }, () =>
        descriptor(rand, docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.manifest, rand.chance(0.8)),
      ),
    };
  }
  // Docker's schema 2 requires mediaType in the document; OCI's leaves it optional.
  if (docker || rand.chance(0.6)) doc.mediaType = type;
  if (rand.chance(0.2)) doc.annotations = annotations(rand);
  // Registries announce the type, or a generic one, or none (an archive's index.json).
  const announced =
    docker || doc.mediaType !== undefined || rand.chance(0.5)
      ? rand.pick([type, `${type}; charset=utf-8`, 'application/json', '', undefined])
      : type;
  return { doc, announced };
}

/** What parseManifest must return for a valid document: its known fields, copied. */
function expected(doc: Doc, announced: string | undefined): ParsedManifest {
  const generic = ['', 'application/json', undefined].includes(announced);
  const mediaType = generic
    ? ((doc.mediaType as string | undefined) ?? ('manifests' in doc ? MEDIA_TYPES.index : MEDIA_TYPES.manifest))
    : announced!.split(';')[0]!;
  const desc = (d: Doc): Doc => {
    const out: Doc = { mediaType: d.mediaType!, digest: d.digest!, size: d.size! };
    if (d.annotations !== undefined) out.annotations = d.annotations;
    if (d.platform !== undefined) {
      const p = d.platform as Doc;
      out.platform = { architecture: p.architecture!, os: p.os! };
      if (p.variant) out.platform.variant = p.variant;
    }
    return out;
  };
  if ('manifests' in doc) {
    const index: Doc = { schemaVersion: 2, mediaType, manifests: (doc.manifests as Doc[]).map(desc) };
    if (doc.annotations !== undefined) index.annotations = doc.annotations;
    return { kind: 'index', index } as unknown as ParsedManifest;
  }
  const manifest: Doc = {
    schemaVersion: 2,
    mediaType,
    config: desc(doc.config as Doc),
    layers: (doc.layers as Doc[]).map((l) => ({ ...desc(l), ...(l.urls !== undefined ? { urls: l.urls } : {}) })),
  };
  if (doc.artifactType !== undefined) manifest.artifactType = doc.artifactType;
  if (doc.subject !== undefined) manifest.subject = desc(doc.subject as Doc);
  if (doc.annotations !== undefined) manifest.annotations = doc.annotations;
  return { kind: 'manifest', manifest } as unknown as ParsedManifest;
}

/** Values that break type checks: wrong types, numbers at and past the edges, prototype keys. */
function hostileValue(rand: SeededRandom): Json {
  return rand.pick<Json>([
    null,
    true,
    -1,
    1.5,
    2 ** 53,
    1e308,
    '',
    'sha256:' + 'A'.repeat(64),
    'sha512:' + 'a'.repeat(128),
    'x/y\u0000',
    [],
    {},
    [[[[[[[[]]]]]]]],
    { __proto__: { polluted: 'yes' } } as unknown as Json,
    JSON.parse('{"__proto__": {"polluted": "yes"}}') as Json,
    'a'.repeat(rand.int(100, 5000)),
    MEDIA_TYPES.index,
    MEDIA_TYPES.manifest,
  ]);
}

/** Replaces, deletes or adds one value somewhere in the document. */
function mutateDocument(rand: SeededRandom, doc: Json): Json {
  if (doc === null || typeof doc !== 'object') return rand.chance(0.5) ? hostileValue(rand) : doc;
  const keys = Array.isArray(doc) ? doc.map((_, i) => String(i)) : Object.keys(doc);
  const container = doc as Record<string, Json>;
  if (keys.length > 0 && rand.chance(0.6)) {
    const key = rand.pick(keys);
    container[key] = rand.chance(0.5) ? mutateDocument(rand, container[key]!) : hostileValue(rand);
  } else if (keys.length > 0 && rand.chance(0.5)) {
    const key = rand.pick(keys);
    if (Array.isArray(doc)) doc.splice(Number(key), 1);
    else delete container[key];
  } else if (!Array.isArray(doc)) {
    // Keys that make a document ambiguous (CVE-2021-41190) or that a careless copy would follow.
    container[rand.pick(['manifests', 'config', 'layers', 'mediaType', 'schemaVersion', 'extra'])] = hostileValue(rand);
  } else {
    doc.push(hostileValue(rand));
  }
  return doc;
}

/** What every accepted document must satisfy, whatever its bytes were. */
function checkAccepted(parsed: ParsedManifest, bytes: Buffer, announced: string | undefined): void {
  const input = { announced, document: bytes.toString('latin1') };
  property(bytes.length <= MAX_MANIFEST_BYTES, 'accepted a document over the size limit', input);
  property(({} as Record<string, unknown>).polluted === undefined, 'Object.prototype was polluted', input);
  const source = JSON.parse(bytes.toString('utf8')) as Doc;
  const descriptors =
    parsed.kind === 'manifest'
      ? [
          parsed.manifest.config,
          ...parsed.manifest.layers,
          ...(parsed.manifest.subject ? [parsed.manifest.subject] : []),
        ]
      : parsed.index.manifests;
  for (const d of descriptors) {
    property(DIGEST.test(d.digest), `digest ${d.digest}`, input);
    property(Number.isSafeInteger(d.size) && d.size >= 0, `size ${d.size}`, input);
    property(MEDIA_TYPE.test(d.mediaType), `media type ${d.mediaType}`, input);
    for (const v of Object.values(d.annotations ?? {}))
      property(typeof v === 'string', 'annotation not a string', input);
  }
  const mediaType = parsed.kind === 'manifest' ? parsed.manifest.mediaType : parsed.index.mediaType;
  // Unambiguous (CVE-2021-41190): a manifest has no manifests, an index no config or layers, and
  // a declared mediaType is the type den took the document for.
  if (parsed.kind === 'manifest')
    property(!('manifests' in source) || source.manifests === undefined, 'a manifest with manifests', input);
  else property(source.config === undefined && source.layers === undefined, 'an index with config or layers', input);
  property(
    source.mediaType === undefined || source.mediaType === mediaType,
    `declared ${String(source.mediaType)}, taken as ${mediaType}`,
    input,
  );
  property(source.schemaVersion === 2, 'schemaVersion is not 2', input);
}

export const MANIFEST_TARGETS: FuzzTarget[] = [
  {
    name: 'manifest-roundtrip',
    cases: 1000,
    one(rand) {
      const { doc, announced } = validDocument(rand);
      const bytes = Buffer.from(JSON.stringify(doc, null, rand.chance(0.5) ? 2 : undefined));
      const got = acceptOrRefuse(() => parseManifest(bytes, announced), { announced, doc });
      const want = expected(doc, announced);
      property(JSON.stringify(got) === JSON.stringify(want), `parsed to ${JSON.stringify(got)}`, { announced, doc });
    },
  },
  {
    name: 'manifest-mutate',
    cases: 1000,
    one(rand) {
      const { doc, announced } = validDocument(rand);
      let bytes: Buffer;
      if (rand.chance(0.5)) {
        let mutated: Json = doc;
        for (let n = rand.int(1, 3); n > 0; n--) mutated = mutateDocument(rand, mutated);
        bytes = Buffer.from(JSON.stringify(mutated));
      } else {
        bytes = mutateBytes(
          rand,
          Buffer.from(JSON.stringify(doc)),
          Buffer.from(JSON.stringify(validDocument(rand).doc)),
        );
      }
      const type = rand.chance(0.8) ? announced : rand.pick([MEDIA_TYPES.config, 'text/html', 'APPLICATION/JSON', ';']);
      const parsed = acceptOrRefuse(() => parseManifest(bytes, type), {
        announced: type,
        document: bytes.toString('latin1'),
      });
      if (parsed !== undefined) checkAccepted(parsed, bytes, type);
    },
  },
];
