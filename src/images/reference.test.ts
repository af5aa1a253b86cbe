import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { familiarName, formatReference, parseReference } from './reference.js';

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
  ];
  for (const [input, canonical, familiar] of cases) {
    const ref = parseReference(input);
    assert.equal(formatReference(ref), canonical, input);
    assert.equal(familiarName(ref), familiar, input);
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
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => e instanceof DenError && e.kind === 'InvalidArgument' && why.test(e.message),
      input,
    );
  }
});
