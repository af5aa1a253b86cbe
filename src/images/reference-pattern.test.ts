import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { parseReference } from './reference.js';
import { compilePattern, matchesReference } from './reference-pattern.js';

const D = 'sha256:' + 'b'.repeat(64);

test('reference patterns match as docker reads them (Go path.Match on the familiar forms)', () => {
  const cases: [pattern: string, reference: string, matches: boolean][] = [
    ['busybox', 'busybox', true],
    ['busybox', 'busybox:1.36', true],
    ['busybox:1.36', 'busybox:1.36', true],
    ['busybox:1.36', 'busybox:latest', false],
    ['busy*', 'busybox:1', true],
    ['*:1', 'busybox:1', true],
    ['*', 'busybox:latest', true],
    ['*', 'me/tool:latest', false], // * stops at /
    ['*/*', 'me/tool:latest', true],
    ['*', '127.0.0.1:5055/x:latest', false],
    ['127.0.0.1:5055/x', '127.0.0.1:5055/x:latest', true],
    ['127.0.0.1:5055/x', '127.0.0.1:5055/x:v2', true],
    ['127.0.0.1:5055/x:v?', '127.0.0.1:5055/x:v2', true],
    ['127.0.0.1:5055/*', '127.0.0.1:5055/x:v2', true],
    ['127.0.0.1:5055/x', '127.0.0.1:5055/xy:latest', false],
    ['docker.io/library/busybox', 'busybox:latest', false], // docker matches the familiar form only
    ['library/busybox', 'busybox:latest', false],
    [`busybox@${D}`, `busybox@${D}`, true],
    ['busybox', `busybox@${D}`, true],
    ['b[a-z]sybox', 'busybox', true],
    ['b[^u]sybox', 'busybox', false],
    ['b[^x]sybox', 'busybox', true],
    ['b[xyu]sybox', 'busybox', true],
    ['busybox\\:1', 'busybox:1', true],
    ['a.b', 'axb', false], // . is a character, not any character
    ['x+', 'x', false],
  ];
  for (const [pattern, reference, matches] of cases) {
    assert.equal(
      matchesReference(compilePattern(pattern), parseReference(reference)),
      matches,
      `${pattern} ~ ${reference}`,
    );
  }
});

test('malformed patterns are refused as docker refuses them', () => {
  for (const pattern of ['busy[box', 'busybox\\', 'a[]', 'a[-z]', 'a[z-a]', 'a[^]', 'a[a-]']) {
    assert.throws(
      () => compilePattern(pattern),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0426' && e.kind === 'InvalidArgument',
      pattern,
    );
  }
});
