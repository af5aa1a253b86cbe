import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import type { Digest } from '../content/index.js';
import { MEDIA_TYPES } from './image.js';
import {
  checkContainerImage,
  formatPlatform,
  hostPlatform,
  layerMediaType,
  layerType,
  MAX_MANIFEST_BYTES,
  parseImageIndex,
  parseImageManifest,
  parseManifest,
  parsePlatform,
  platformScore,
  selectPlatform,
  synthesizeManifest,
  type Compression,
  type ImageIndex,
  type Platform,
} from './manifest.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

const ociManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.manifest,
  config: { mediaType: MEDIA_TYPES.config, digest: D('a'), size: 100 },
  layers: [
    { mediaType: MEDIA_TYPES.layerGzip, digest: D('b'), size: 2000, annotations: { 'x.y': 'z' } },
    { mediaType: MEDIA_TYPES.layerZstd, digest: D('c'), size: 3000 },
  ],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifest,
  config: { mediaType: MEDIA_TYPES.dockerConfig, digest: D('a'), size: 100 },
  layers: [
    { mediaType: MEDIA_TYPES.dockerLayerGzip, digest: D('b'), size: 2000 },
    {
      mediaType: MEDIA_TYPES.dockerLayerForeignGzip,
      digest: D('c'),
      size: 3000,
      urls: ['https://example.com/layer'],
    },
  ],
};

const entry = (c: string, platform?: Platform, mediaType: string = MEDIA_TYPES.manifest) => ({
  mediaType,
  digest: D(c),
  size: 500,
  ...(platform ? { platform } : {}),
});

const ociIndex = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.index,
  manifests: [
    entry('1', { os: 'linux', architecture: 'amd64' }),
    entry('2', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry('3', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    entry('4', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    entry('5', { os: 'unknown', architecture: 'unknown' }),
  ],
};

test('parseManifest: the four media types', () => {
  const oci = parseManifest(json(ociManifest), MEDIA_TYPES.manifest);
  assert.equal(oci.kind, 'manifest');
  assert.deepEqual(oci.kind === 'manifest' && oci.manifest, ociManifest);

  const docker = parseImageManifest(json(dockerManifest), `${MEDIA_TYPES.dockerManifest}; charset=utf-8`);
  assert.equal(docker.mediaType, MEDIA_TYPES.dockerManifest);
  assert.deepEqual(docker.layers[1]!.urls, ['https://example.com/layer']);

  const index = parseImageIndex(json(ociIndex), MEDIA_TYPES.index);
  assert.equal(index.manifests.length, 5);
  assert.deepEqual(index.manifests[1]!.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });

  const list = parseImageIndex(
    json({ ...ociIndex, mediaType: MEDIA_TYPES.dockerManifestList }),
    MEDIA_TYPES.dockerManifestList,
  );
  assert.equal(list.mediaType, MEDIA_TYPES.dockerManifestList);
});

test('parseManifest: a generic or missing Content-Type falls back to the document', () => {
  const cases: [unknown, string | undefined, string][] = [
    [ociManifest, 'application/json', MEDIA_TYPES.manifest],
    [dockerManifest, undefined, MEDIA_TYPES.dockerManifest],
    [{ ...ociManifest, mediaType: undefined }, '', MEDIA_TYPES.manifest],
    [{ ...ociIndex, mediaType: undefined }, 'text/plain', MEDIA_TYPES.index],
  ];
  for (const [doc, type, want] of cases) {
    const parsed = parseManifest(json(doc), type);
    assert.equal(parsed.kind === 'manifest' ? parsed.manifest.mediaType : parsed.index.mediaType, want, `${type}`);
  }
  // OCI allows leaving the field out when the type is announced.
  assert.equal(
    parseImageManifest(json({ ...ociManifest, mediaType: undefined }), MEDIA_TYPES.manifest).schemaVersion,
    2,
  );
});

test('parseManifest: malformed and hostile documents are refused with the reason', () => {
  const m = (patch: Record<string, unknown>) => json({ ...ociManifest, ...patch });
  const layer = (patch: Record<string, unknown>) => m({ layers: [{ ...ociManifest.layers[0], ...patch }] });
  const cases: [string, Buffer, string, RegExp, string][] = [
    ['not JSON', Buffer.from('{"schemaVersion": 2,'), MEDIA_TYPES.manifest, /not JSON/, 'DEN0913'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), MEDIA_TYPES.manifest, /not UTF-8/, 'DEN0913'],
    ['an array', json([ociManifest]), MEDIA_TYPES.manifest, /not a JSON object/, 'DEN0913'],
    ['null', Buffer.from('null'), MEDIA_TYPES.manifest, /not a JSON object/, 'DEN0913'],
    ['schema 1', m({ schemaVersion: 1 }), MEDIA_TYPES.manifest, /schemaVersion/, 'DEN0913'],
    ['schemaVersion as a string', m({ schemaVersion: '2' }), MEDIA_TYPES.manifest, /schemaVersion/, 'DEN0913'],
    ['no config', m({ config: undefined }), MEDIA_TYPES.manifest, /config: expected an object/, 'DEN0913'],
    ['layers not an array', m({ layers: {} }), MEDIA_TYPES.manifest, /layers: expected an array/, 'DEN0913'],
    ['a layer that is a string', m({ layers: ['x'] }), MEDIA_TYPES.manifest, /layers\[0\]: expected an object/, 'DEN0913'],
    ['a negative size', layer({ size: -1 }), MEDIA_TYPES.manifest, /layers\[0\]\.size/, 'DEN0913'],
    ['a fractional size', layer({ size: 1.5 }), MEDIA_TYPES.manifest, /size/, 'DEN0913'],
    ['a size beyond 2^53', layer({ size: 2 ** 60 }), MEDIA_TYPES.manifest, /size/, 'DEN0913'],
    ['a size as a string', layer({ size: '10' }), MEDIA_TYPES.manifest, /size/, 'DEN0913'],
    ['a bad digest', layer({ digest: 'sha256:xyz' }), MEDIA_TYPES.manifest, /not a sha256 digest/, 'DEN0913'],
    ['an uppercase digest', layer({ digest: D('A') }), MEDIA_TYPES.manifest, /not a sha256 digest/, 'DEN0913'],
    ['a sha512 digest', layer({ digest: `sha512:${'a'.repeat(128)}` }), MEDIA_TYPES.manifest, /sha256 only/, 'DEN0913'],
    ['a digest with a path', layer({ digest: `${D('a')}/../x` }), MEDIA_TYPES.manifest, /digest/, 'DEN0913'],
    ['a media type with a parameter', layer({ mediaType: 'a/b; x=y' }), MEDIA_TYPES.manifest, /not a media type/, 'DEN0913'],
    ['annotations of numbers', m({ annotations: { a: 1 } }), MEDIA_TYPES.manifest, /annotations\.a/, 'DEN0913'],
    ['urls of numbers', layer({ urls: [1] }), MEDIA_TYPES.manifest, /urls/, 'DEN0913'],
    // CVE-2021-41190: a document that is both a manifest and an index.
    ['a manifest with manifests', m({ manifests: [] }), MEDIA_TYPES.manifest, /manifests: not allowed/, 'DEN0913'],
    ['an index with layers', json({ ...ociIndex, layers: [] }), MEDIA_TYPES.index, /layers: not allowed/, 'DEN0913'],
    ['an index with config', json({ ...ociIndex, config: {} }), MEDIA_TYPES.index, /config: not allowed/, 'DEN0913'],
    ['a mediaType contradicting the header', json(ociManifest), MEDIA_TYPES.dockerManifest, /contradicts/, 'DEN0913'],
    ['an index served as a manifest', json(ociIndex), MEDIA_TYPES.manifest, /contradicts/, 'DEN0913'],
    ['Docker schema 2 without mediaType', json({ ...dockerManifest, mediaType: undefined }), MEDIA_TYPES.dockerManifest, /required/, 'DEN0913'],
    ['a platform without os', json({ ...ociIndex, manifests: [{ ...entry('1'), platform: { architecture: 'amd64' } }] }), MEDIA_TYPES.index, /platform\.os/, 'DEN0913'],
    ['schema 1', json({ schemaVersion: 1 }), 'application/vnd.docker.distribution.manifest.v1+prettyjws', /unsupported manifest media type/, 'DEN0912'],
    ['an unknown type', json(ociManifest), 'application/vnd.example+json', /unsupported/, 'DEN0912'],
    ['too large', Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), MEDIA_TYPES.manifest, /exceeds the limit/, 'DEN0911'],
  ]; // prettier-ignore
  for (const [name, bytes, type, why, code] of cases) {
    assert.throws(
      () => parseManifest(bytes, type),
      (e: unknown) => e instanceof DenError && e.code === code && why.test(e.message),
      name,
    );
  }
});

test('parseManifest: absurd nesting is an error, not a crash', () => {
  const deep = Buffer.from(`${'{"a":['.repeat(200_000)}${']}'.repeat(200_000)}`);
  assert.throws(
    () => parseManifest(deep, MEDIA_TYPES.manifest),
    (e: unknown) => e instanceof DenError,
  );
});

test('parseManifest: "__proto__" keys stay plain data', () => {
  const text = `{"schemaVersion":2,"mediaType":"${MEDIA_TYPES.manifest}","config":{"mediaType":"${MEDIA_TYPES.config}","digest":"${D('a')}","size":1},"layers":[],"annotations":{"__proto__":"x","constructor":"y"}}`;
  const manifest = parseImageManifest(Buffer.from(text), MEDIA_TYPES.manifest);
  assert.equal(Object.getPrototypeOf(manifest.annotations), Object.prototype);
  assert.deepEqual(Object.keys(manifest.annotations!), ['__proto__', 'constructor']);
  assert.equal(manifest.annotations!['__proto__'], 'x');
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('parseImageManifest and parseImageIndex refuse the other kind', () => {
  assert.throws(() => parseImageManifest(json(ociIndex), MEDIA_TYPES.index), /got an index/);
  assert.throws(() => parseImageIndex(json(ociManifest), MEDIA_TYPES.manifest), /got a manifest/);
});

test('layer media types', () => {
  const cases: [string, ReturnType<typeof layerType>][] = [
    [MEDIA_TYPES.layer, { compression: 'none', foreign: false }],
    [MEDIA_TYPES.layerGzip, { compression: 'gzip', foreign: false }],
    [MEDIA_TYPES.layerZstd, { compression: 'zstd', foreign: false }],
    [MEDIA_TYPES.dockerLayerGzip, { compression: 'gzip', foreign: false }],
    [MEDIA_TYPES.dockerLayerForeignGzip, { compression: 'gzip', foreign: true }],
    [MEDIA_TYPES.layerForeignZstd, { compression: 'zstd', foreign: true }],
    [MEDIA_TYPES.config, undefined],
    ['toString', undefined],
  ];
  for (const [type, want] of cases) assert.deepEqual(layerType(type), want, type);
});

test('the media type of a layer den compressed or sniffed, and back', () => {
  const cases: [Compression, string][] = [
    ['none', 'application/vnd.oci.image.layer.v1.tar'],
    ['gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ['zstd', 'application/vnd.oci.image.layer.v1.tar+zstd'],
  ];
  for (const [compression, mediaType] of cases) {
    assert.equal(layerMediaType(compression), mediaType, compression);
    assert.deepEqual(layerType(mediaType), { compression, foreign: false }, mediaType);
  }
});

test('a synthesized manifest: fixed bytes (they are its digest), and a valid OCI image manifest', () => {
  const config = { digest: D('a') as Digest, size: 321 };
  const layers = [
    { mediaType: MEDIA_TYPES.layerGzip, digest: D('b') as Digest, size: 1000, diffId: D('c'), chainId: D('c') },
    { mediaType: MEDIA_TYPES.layer, digest: D('d') as Digest, size: 2048 },
  ];
  const bytes = synthesizeManifest(config, layers);
  // The bytes den import and den load have always written: an image's manifest digest must not
  // change with a release of den.
  assert.equal(
    bytes.toString(),
    `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
      `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${D('a')}","size":321},` +
      `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${D('b')}","size":1000},` +
      `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"${D('d')}","size":2048}]}`,
  );
  const manifest = parseImageManifest(bytes);
  checkContainerImage(manifest);
  assert.deepEqual(manifest.config, { mediaType: MEDIA_TYPES.config, ...config });
  assert.deepEqual(
    manifest.layers,
    layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  );
});

test('checkContainerImage refuses artifacts', () => {
  checkContainerImage(parseImageManifest(json(ociManifest), MEDIA_TYPES.manifest));
  checkContainerImage(parseImageManifest(json(dockerManifest), MEDIA_TYPES.dockerManifest));
  const helm = {
    ...ociManifest,
    config: { ...ociManifest.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' },
  };
  assert.throws(
    () => checkContainerImage(parseImageManifest(json(helm))),
    (e: DenError) => /unsupported image config media type/.test(e.message) && e.reason === 'unsupported-media-type',
  );
  const odd = { ...ociManifest, layers: [{ ...ociManifest.layers[0], mediaType: 'application/x-odd' }] };
  assert.throws(
    () => checkContainerImage(parseImageManifest(json(odd))),
    /unsupported layer media type "application\/x-odd"/,
  );
});

test('parsePlatform and formatPlatform', () => {
  const cases: [string, Platform, string][] = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64/v8'],
    ['linux/arm/7', { os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux/arm/v7'],
    ['Linux/X86_64', { os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }, 'linux/arm64'],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux/arm/v7'],
    ['linux/i386', { os: 'linux', architecture: '386' }, 'linux/386'],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }, 'linux/amd64/v3'],
  ];
  for (const [input, want, formatted] of cases) {
    assert.deepEqual(parsePlatform(input), want, input);
    assert.equal(formatPlatform(parsePlatform(input)), formatted, input);
  }
  for (const bad of ['linux', 'linux/', '/amd64', 'linux/amd64/v8/x', 'linux/am d64', '']) {
    assert.throws(
      () => parsePlatform(bad),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0915',
      bad,
    );
  }
});

test('hostPlatform maps Node names to OCI names', () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.deepEqual(hostPlatform('ppc64'), { os: 'linux', architecture: 'ppc64le' });
  assert.deepEqual(hostPlatform('s390x'), { os: 'linux', architecture: 's390x' });
  assert.equal(hostPlatform('arm').architecture, 'arm');
});

test('platformScore: variants a CPU can run', () => {
  const p = (s: string) => parsePlatform(s);
  const cases: [string, string, boolean][] = [
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64/v1', 'linux/amd64', true],
    ['linux/amd64/v2', 'linux/amd64', false],
    ['linux/amd64/v2', 'linux/amd64/v3', true],
    ['linux/amd64', 'linux/amd64/v3', true],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm64/v9', 'linux/arm64/v8', false],
    ['linux/arm64/v8.2', 'linux/arm64/v9', true],
    ['linux/arm/v6', 'linux/arm/v7', true],
    ['linux/arm/v7', 'linux/arm/v6', false],
    ['linux/arm', 'linux/arm/v7', true],
    ['linux/arm64', 'linux/amd64', false],
    ['windows/amd64', 'linux/amd64', false],
    ['linux/riscv64', 'linux/riscv64', true],
    ['linux/mips64/r6', 'linux/mips64', false],
  ];
  for (const [candidate, wanted, ok] of cases) {
    assert.equal(platformScore(p(candidate), p(wanted)) !== undefined, ok, `${candidate} on ${wanted}`);
  }
});

test('selectPlatform: defaults, variants, and the error that lists what there is', () => {
  const index = parseImageIndex(json(ociIndex), MEDIA_TYPES.index);
  const pick = (platform?: string) => selectPlatform(index, platform ? parsePlatform(platform) : undefined).digest;
  assert.equal(pick('linux/amd64'), D('1'));
  assert.equal(pick('linux/arm64'), D('2'), 'arm64 without a variant is v8');
  assert.equal(pick('linux/arm64/v8'), D('2'));
  assert.equal(pick('linux/arm/v7'), D('4'), 'the best variant wins over the first listed');
  assert.equal(pick('linux/arm/v6'), D('3'));
  assert.equal(pick('linux/amd64/v3'), D('1'), 'a v3 CPU runs v1 code');
  const host = hostPlatform();
  if (['amd64', 'arm64'].includes(host.architecture)) {
    assert.equal(pick(), host.architecture === 'amd64' ? D('1') : D('2'), 'the host is the default');
  }
  assert.throws(
    () => pick('linux/s390x'),
    (e: unknown) =>
      e instanceof DenError &&
      e.code === 'DEN0914' &&
      e.kind === 'NotFound' &&
      /no matching manifest for linux\/s390x/.test(e.message) &&
      /linux\/amd64, linux\/arm64\/v8, linux\/arm\/v6, linux\/arm\/v7/.test(e.hint ?? '') &&
      !/unknown/.test(e.hint ?? ''),
  );
});

test('selectPlatform: the first of equals wins; nested indexes and unplatformed entries are skipped', () => {
  const index: ImageIndex = parseImageIndex(
    json({
      schemaVersion: 2,
      manifests: [
        entry('1'),
        entry('2', { os: 'linux', architecture: 'amd64' }, MEDIA_TYPES.index),
        entry('3', { os: 'linux', architecture: 'amd64' }),
        entry('4', { os: 'linux', architecture: 'amd64' }, MEDIA_TYPES.dockerManifest),
      ],
    }),
    MEDIA_TYPES.index,
  );
  assert.equal(selectPlatform(index, parsePlatform('linux/amd64')).digest, D('3'));
});
