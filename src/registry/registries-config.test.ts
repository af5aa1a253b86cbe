import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { formatReference, parseReference } from '../images/index.js';
import {
  DEFAULT_REGISTRIES_CONFIG,
  isLoopbackRegistry,
  isShortName,
  loadRegistriesConfig,
  parseRegistriesConfig,
  pullEndpoints,
  pushEndpoint,
  registriesConfigPath,
  shortNameCandidates,
  type RegistriesConfig,
} from './registries-config.js';

const config = (doc: unknown): RegistriesConfig => parseRegistriesConfig(JSON.stringify(doc), '/test/registries.json');

test('isShortName', () => {
  const cases: [string, boolean][] = [
    ['busybox', true],
    ['busybox:1.36', true],
    [`busybox@sha256:${'a'.repeat(64)}`, true],
    ['me/tool', true],
    ['library/busybox', true],
    ['docker.io/library/busybox', false],
    ['localhost/x', false],
    ['localhost:5000/x', false],
    ['registry:5000/x', false],
    ['[::1]:5000/x', false],
    ['quay.io/x/y', false],
  ];
  for (const [input, want] of cases) assert.equal(isShortName(input), want, input);
});

test('shortNameCandidates: the search list, docker.io with library/, qualified names as they are', () => {
  const c = config({ 'unqualified-search-registries': ['docker.io', 'quay.io', 'localhost:5000'] });
  const names = (input: string, cfg: RegistriesConfig = c) => shortNameCandidates(input, cfg).map(formatReference);
  assert.deepEqual(names('busybox'), [
    'docker.io/library/busybox:latest',
    'quay.io/busybox:latest',
    'localhost:5000/busybox:latest',
  ]);
  assert.deepEqual(names('me/tool:v1'), ['docker.io/me/tool:v1', 'quay.io/me/tool:v1', 'localhost:5000/me/tool:v1']);
  assert.deepEqual(names(`x@sha256:${'b'.repeat(64)}`)[1], `quay.io/x@sha256:${'b'.repeat(64)}`);
  assert.deepEqual(names('quay.io/org/x'), ['quay.io/org/x:latest']);
  assert.deepEqual(names('busybox', DEFAULT_REGISTRIES_CONFIG), ['docker.io/library/busybox:latest']);
  assert.throws(
    () => names('BadName'),
    (e: unknown) => e instanceof DenError && e.code === 'DEN0410',
  );
  assert.throws(
    () => names('busybox', config({ 'unqualified-search-registries': [] })),
    (e: unknown) => e instanceof DenError && e.code === 'DEN0927' && /docker\.io\/library\/busybox/.test(e.hint ?? ''),
  );
});

test('pullEndpoints: mirrors in order, then the registry; pushEndpoint: the registry only', () => {
  const c = config({
    registries: [
      { prefix: 'docker.io', mirrors: [{ location: 'mirror.example:5000' }, { location: 'localhost:6000/hub' }] },
      { prefix: 'docker.io/library', mirrors: [{ location: 'lib-mirror.example', insecure: true }] },
      { prefix: 'reg.example:5000', insecure: true },
    ],
  });
  const show = (e: ReturnType<typeof pushEndpoint>) =>
    `${e.registry} ${e.host} ${e.repository}${e.insecure ? ' insecure' : ''}${e.mirror ? ' mirror' : ''}`;
  assert.deepEqual(pullEndpoints(parseReference('me/tool'), c).map(show), [
    'mirror.example:5000 mirror.example:5000 me/tool mirror',
    'localhost:6000 localhost:6000 hub/me/tool insecure mirror',
    'docker.io registry-1.docker.io me/tool',
  ]);
  assert.deepEqual(pullEndpoints(parseReference('busybox'), c).map(show), [
    'lib-mirror.example lib-mirror.example busybox insecure mirror',
    'docker.io registry-1.docker.io library/busybox',
  ]);
  assert.deepEqual(pullEndpoints(parseReference('reg.example:5000/a/b'), c).map(show), [
    'reg.example:5000 reg.example:5000 a/b insecure',
  ]);
  assert.equal(show(pushEndpoint(parseReference('me/tool'), c)), 'docker.io registry-1.docker.io me/tool');
  assert.equal(show(pushEndpoint(parseReference('127.0.0.1:5000/x'), c)), '127.0.0.1:5000 127.0.0.1:5000 x insecure');
  assert.equal(show(pushEndpoint(parseReference('quay.io/x'), c)), 'quay.io quay.io x');
});

test('isLoopbackRegistry', () => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) {
    assert.equal(isLoopbackRegistry(host), true, host);
  }
  for (const host of ['localhost.example', '128.0.0.1', 'docker.io', '10.0.0.1:5000']) {
    assert.equal(isLoopbackRegistry(host), false, host);
  }
});

test('parseRegistriesConfig: defaults, and typos are errors', () => {
  const c = config({
    'unqualified-search-registries': ['quay.io', 'docker.io', 'quay.io'],
    'short-name-mode': 'enforcing',
  });
  assert.deepEqual(c.unqualifiedSearchRegistries, ['quay.io', 'docker.io']);
  assert.equal(c.shortNameMode, 'enforcing');
  assert.deepEqual(config({}).unqualifiedSearchRegistries, ['docker.io']);
  const bad: [string, RegExp][] = [
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"unqualified-search-registry": []}', /unknown key "unqualified-search-registry"/],
    ['{"unqualified-search-registries": "docker.io"}', /must be an array/],
    ['{"unqualified-search-registries": ["https://docker.io"]}', /must be an array of registry host names/],
    ['{"short-name-mode": "strict"}', /"permissive" or "enforcing"/],
    ['{"registries": {}}', /must be an array/],
    ['{"registries": [{"prefix": "a.example", "insecure": "yes"}]}', /registries\[0\]\.insecure must be true or false/],
    ['{"registries": [{"prefix": "https://a.example"}]}', /not host\[:port\]/],
    ['{"registries": [{"prefix": "a.example", "mirror": []}]}', /unknown key "mirror"/],
    ['{"registries": [{"prefix": "a.example"}, {"prefix": "a.example"}]}', /configured twice/],
    ['{"registries": [{"prefix": "a.example", "mirrors": [{"location": "B.example"}]}]}', /mirrors\[0\]\.location/],
  ];
  for (const [text, why] of bad) {
    assert.throws(
      () => parseRegistriesConfig(text, '/test/registries.json'),
      (e: unknown) =>
        e instanceof DenError &&
        e.code === 'DEN0922' &&
        why.test(e.message) &&
        e.message.includes('/test/registries.json'),
      text,
    );
  }
});

test('loadRegistriesConfig: $DEN_REGISTRIES_CONF, the XDG location, and no file at all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-registries-test-'));
  try {
    assert.equal(registriesConfigPath({ HOME: '/h' }), '/h/.config/den/registries.json');
    assert.equal(registriesConfigPath({ HOME: '/h', XDG_CONFIG_HOME: '/x' }), '/x/den/registries.json');
    assert.equal(loadRegistriesConfig({ HOME: dir }), DEFAULT_REGISTRIES_CONFIG);
    const path = join(dir, 'r.json');
    writeFileSync(path, '{"unqualified-search-registries": ["quay.io"]}');
    assert.deepEqual(loadRegistriesConfig({ HOME: dir, DEN_REGISTRIES_CONF: path }).unqualifiedSearchRegistries, [
      'quay.io',
    ]);
    // A file named explicitly must exist.
    assert.throws(
      () => loadRegistriesConfig({ HOME: dir, DEN_REGISTRIES_CONF: join(dir, 'missing.json') }),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0922',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
