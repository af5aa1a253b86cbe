import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { familiarName, formatReference, isRepositoryPath, isTag, parseReference } from './reference.js';

const D = 'sha256:' + 'a'.repeat(64);

test('references normalise the way docker does', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['me/tool', 'docker.io/me/tool:latest', 'me/tool:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['127.0.0.1:5000/a/b:v1', '127.0.0.1:5000/a/b:v1', '127.0.0.1:5000/a/b:v1'],
    ['quay.io/x/y', 'quay.io/x/y:latest', 'quay.io/x/y:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`reg:5000/x:t@${D}`, `reg:5000/x:t@${D}`, `reg:5000/x:t@${D}`],
    ['a_b-c/e__f.g', 'docker.io/a_b-c/e__f.g:latest', 'a_b-c/e__f.g:latest'],
    // Found by reference.fuzz.ts: the short form must name the same repository when typed back.
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['docker.io/foo.bar/x', 'docker.io/foo.bar/x:latest', 'docker.io/foo.bar/x:latest'],
    ['docker.io/localhost/x', 'docker.io/localhost/x:latest', 'docker.io/localhost/x:latest'],
    // The limit is the normalised repository's; a digest comes on top of a 255-character name.
    [`${'r'.repeat(237)}@${D}`, `docker.io/library/${'r'.repeat(237)}@${D}`, `${'r'.repeat(237)}@${D}`],
  ];
  for (const [input, canonical, familiar] of cases) {
    const ref = parseReference(input);
    assert.equal(formatReference(ref), canonical, input);
    assert.equal(familiarName(ref), familiar, input);
    assert.deepEqual(parseReference(familiar), ref, input);
  }
});

test('malformed references are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:', /tag "" is malformed/],
    ['busybox:-x', /tag "-x"/],
    ['a//b', /malformed/],
    ['x@sha256:zz', /digest/],
    ['-x', /malformed/],
    ['a'.repeat(256), /255/],
    // Found by reference.fuzz.ts: den stores docker.io/library/<name>:latest and must be able to
    // parse it back, so the short name may not take the limit's whole 255 characters.
    ['a'.repeat(238), /repository name longer than 255/],
    ['a'.repeat(1025), /longer than 1024/],
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => e instanceof DenError && e.kind === 'InvalidArgument' && why.test(e.message),
      input,
    );
  }
});

test('repository paths: the one rule for references, registry API paths and registries.json', () => {
  const cases: [string, boolean][] = [
    ['busybox', true],
    ['library/busybox', true],
    ['a_b-c/e__f.g', true],
    ['a--b/c---d', true],
    ['0/9', true],
    ['a'.repeat(255), true],
    ['a'.repeat(256), false],
    [`${'a/'.repeat(127)}a`, true],
    ['', false],
    ['Busybox', false],
    ['a//b', false],
    ['/a', false],
    ['a/', false],
    ['-x', false],
    ['x-', false],
    ['a___b', false],
    ['a..b', false],
    ['a._b', false],
    ['a:b', false],
    ['a b', false],
    ['../a', false],
  ];
  for (const [path, valid] of cases) assert.equal(isRepositoryPath(path), valid, path);
  // parseReference applies the same rule to the path it finds.
  for (const [path, valid] of cases.filter(([p]) => p !== '' && !p.includes(':') && p.length <= 200)) {
    assert.equal(
      (() => {
        try {
          parseReference(`localhost/${path}`);
          return true;
        } catch {
          return false;
        }
      })(),
      valid,
      `localhost/${path}`,
    );
  }
});

test('tags', () => {
  const cases: [string, boolean][] = [
    ['latest', true],
    ['1.36.1-musl', true],
    ['_x', true],
    ['A'.repeat(128), true],
    ['A'.repeat(129), false],
    ['', false],
    ['-x', false],
    ['.x', false],
    ['a/b', false],
    ['a:b', false],
  ];
  for (const [tag, valid] of cases) assert.equal(isTag(tag), valid, tag);
});
