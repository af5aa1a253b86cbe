import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../../common/errors.js';
import type { Digest } from '../../content/index.js';
import type { ImageRecord } from '../../images/index.js';
import { parseImageFilters, selectImages, type ImageFilters } from './list-images.js';

const digest = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function image(
  c: string,
  created: string,
  names: string[],
  digests: string[] = [],
  labels?: Record<string, string>,
): ImageRecord {
  return {
    id: digest(c),
    manifestDigest: digest(c === 'f' ? 'e' : 'f'),
    config: {
      created,
      architecture: 'amd64',
      os: 'linux',
      config: labels ? { Labels: labels } : {},
      rootfs: { type: 'layers', diff_ids: [] },
    },
    layers: [],
    size: 1,
    createdAt: created,
    names,
    digests,
  };
}

const IMAGES = [
  image('1', '2024-01-01T00:00:00Z', ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1.36']),
  image('2', '2024-02-01T00:00:00Z', ['127.0.0.1:5055/x:v1'], [`127.0.0.1:5055/x@${digest('a')}`], {
    team: 'core',
    tier: '',
  }),
  image('3', '2024-03-01T00:00:00Z', [], [`127.0.0.1:5055/y@${digest('b')}`], { team: 'web' }),
  image('4', '2024-04-01T00:00:00Z', []),
];

const byId = (id: string) => {
  const found = IMAGES.find((i) => i.id.slice(7, 8) === id || i.names.some((n) => n.endsWith(`/${id}`)));
  if (!found) throw new Error(`no image ${id}`);
  return found;
};

test('filters select images as docker does; the reference filter keeps only the names it matched', () => {
  const cases: [string, ImageFilters, string[]][] = [
    ['none', {}, ['4', '3', '2', '1']],
    ['dangling', { dangling: true }, ['4']],
    ['not dangling: a digest is a name', { dangling: false }, ['3', '2', '1']],
    ['label key', { label: [{ key: 'team' }] }, ['3', '2']],
    ['label key=value', { label: [{ key: 'team', value: 'core' }] }, ['2']],
    ['label with an empty value', { label: [{ key: 'tier', value: '' }] }, ['2']],
    ['every label must hold', { label: [{ key: 'team' }, { key: 'tier' }] }, ['2']],
    ['before', { before: '3' }, ['2', '1']],
    ['since', { since: '2' }, ['4', '3']],
    ['since and before', { since: '1', before: '4' }, ['3', '2']],
    ['reference: a registry with a port', { reference: ['127.0.0.1:5055/x'] }, ['2']],
    ['reference: digest only', { reference: ['127.0.0.1:5055/y'] }, ['3']],
    ['reference: glob', { reference: ['127.0.0.1:5055/*'] }, ['3', '2']],
    ['reference: any of several', { reference: ['busybox', '127.0.0.1:5055/y'] }, ['3', '1']],
    ['reference and dangling', { reference: ['busybox'], dangling: true }, []],
  ];
  for (const [what, filters, ids] of cases) {
    const got = selectImages(IMAGES, filters, byId).map((i) => i.id.slice(7, 8));
    assert.deepEqual(got, ids, what);
  }
  const [busybox] = selectImages(IMAGES, { reference: ['busybox:1.*'] }, byId);
  assert.deepEqual(busybox!.names, ['docker.io/library/busybox:1.36'], 'only the tag that matched is listed');
  const [x] = selectImages(IMAGES, { reference: ['*/x:v1'] }, byId);
  assert.deepEqual(x?.names, ['127.0.0.1:5055/x:v1'], 'the registry is one component: * matches it');
  assert.deepEqual(x?.digests, [], 'a digest the pattern does not match is not listed');
});

test('--filter entries parse into ImageFilters; unknown keys and values are refused', () => {
  assert.deepEqual(
    parseImageFilters([
      'dangling=true',
      'reference=a*',
      'reference=b',
      'label=k',
      'label=k=v=w',
      'before=x',
      'since=y',
    ]),
    {
      dangling: true,
      reference: ['a*', 'b'],
      label: [{ key: 'k' }, { key: 'k', value: 'v=w' }],
      before: 'x',
      since: 'y',
    },
  );
  assert.deepEqual(parseImageFilters(['dangling=false']), { dangling: false });
  for (const [entry, code] of [
    ['dangling=maybe', 'DEN0425'],
    ['color=red', 'DEN0425'],
    ['dangling', 'DEN0425'],
    ['=x', 'DEN0425'],
    ['reference=a[', 'DEN0426'],
  ] as const) {
    assert.throws(
      () => parseImageFilters([entry]),
      (e: unknown) => e instanceof DenError && e.kind === 'InvalidArgument' && e.code === code,
      entry,
    );
  }
});
