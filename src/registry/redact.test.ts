import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact, redactUrl, registerSecret } from './redact.js';

test('redact masks what looks like a secret', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ4Iiwic3ViIjoieSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
  const cases: [string, string][] = [
    ['Authorization: Bearer abc.def.ghi', 'Authorization: Bearer ***'],
    ['authorization=Basic dXNlcjpwYXNz', 'authorization=Basic ***'],
    ['sent Basic dXNlcjpwYXNzd29yZA== to the server', 'sent Basic *** to the server'],
    ['https://alice:hunter22@registry.example/v2/', 'https://***@registry.example/v2/'],
    ['https://ghp_token123@github.com/x', 'https://***@github.com/x'],
    [
      'GET https://s3.example/blob?X-Amz-Credential=AKIA/1&X-Amz-Signature=abcdef&partNumber=1',
      'GET https://s3.example/blob?X-Amz-Credential=***&X-Amz-Signature=***&partNumber=1',
    ],
    ['https://cdn.example/b?sig=xyz&se=2024', 'https://cdn.example/b?sig=***&se=2024'],
    ['https://auth.example/token?access_token=abc&scope=x', 'https://auth.example/token?access_token=***&scope=x'],
    ['{"token":"abc","expires_in":60}', '{"token":"***","expires_in":60}'],
    ['{"access_token": "a\\"b", "password":"p"}', '{"access_token": "***", "password":"***"}'],
    [`token ${jwt} rejected`, 'token *** rejected'],
  ];
  for (const [input, want] of cases) assert.equal(redact(input), want, input);
});

test('redact leaves ordinary text alone', () => {
  const texts = [
    'registry localhost:5000: manifest unknown: manifest unknown',
    'the registry requires basic authentication',
    'Bearer challenge without a realm',
    `blob sha256:${'a'.repeat(64)}: not found`,
    'https://registry.example/v2/library/busybox/manifests/latest',
    'docker://127.0.0.1:5000/busybox@sha256:abc',
  ];
  for (const text of texts) assert.equal(redact(text), text);
});

test('redact masks secrets it was told about, wherever they appear', () => {
  const password = 'correct horse battery staple';
  assert.equal(redact(`echo: ${password}!`), `echo: ${password}!`);
  registerSecret(password);
  assert.equal(redact(`echo: ${password}!`), 'echo: ***!');
  assert.equal(redact('hello p4ss', ['p4ss']), 'hello ***');
  // Too short to mask exactly without mangling text; the patterns still catch it in context.
  registerSecret('ab');
  assert.equal(redact('about a tab'), 'about a tab');
});

test('redactUrl', () => {
  assert.equal(redactUrl(new URL('https://u:p@h.example/t?token=1&a=2')), 'https://***@h.example/t?token=***&a=2');
});

test('redact: base64 credentials without digits, in prose', () => {
  assert.equal(redact('sent Basic dXNlcjpwYXNz'), 'sent Basic ***');
  assert.equal(redact('BEARER Realm="https://a.example/token"'), 'BEARER Realm="https://a.example/token"');
});
