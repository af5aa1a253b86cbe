import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { bearerChallenge, parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

const R = 'registry.example';

test('parseWwwAuthenticate: what registries send', () => {
  const cases: { name: string; header: string | string[]; want: Challenge[] }[] = [
    {
      name: 'Docker Hub',
      header:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      want: [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/busybox:pull',
          },
        },
      ],
    },
    {
      name: 'basic, with spaces around = and after commas',
      header: 'Basic realm = "Registry Realm" ,  charset="UTF-8"',
      want: [{ scheme: 'basic', params: { realm: 'Registry Realm', charset: 'UTF-8' } }],
    },
    {
      name: 'unquoted token values, uppercase names',
      header: 'BEARER Realm="https://a.example/token", Service=reg',
      want: [{ scheme: 'bearer', params: { realm: 'https://a.example/token', service: 'reg' } }],
    },
    {
      name: 'two challenges in one header',
      header: 'Basic realm="a", Bearer realm="https://b.example/t",scope="x y"',
      want: [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'https://b.example/t', scope: 'x y' } },
      ],
    },
    {
      name: 'two header lines',
      header: ['Basic realm="a"', 'Bearer realm="https://b.example/t"'],
      want: [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'https://b.example/t' } },
      ],
    },
    {
      name: 'escapes in quoted strings, commas inside quotes',
      header: 'Bearer realm="https://x.example/t?a=1,b=2",error="insufficient_scope",error_description="say \\"hi\\""',
      want: [
        {
          scheme: 'bearer',
          params: { realm: 'https://x.example/t?a=1,b=2', error: 'insufficient_scope', error_description: 'say "hi"' },
        },
      ],
    },
    {
      name: 'a token68 and a bare scheme',
      header: 'Negotiate abc+/def==, Basic',
      want: [
        { scheme: 'negotiate', params: {}, token68: 'abc+/def==' },
        { scheme: 'basic', params: {} },
      ],
    },
    {
      // Found by www-authenticate.fuzz.ts: was refused as a parameter "abc" without a value.
      name: 'a token68 ending in = before another challenge, or before spaces',
      header: 'Negotiate abc=, Bearer realm="https://b.example/t", Basic xyz= ',
      want: [
        { scheme: 'negotiate', params: {}, token68: 'abc=' },
        { scheme: 'bearer', params: { realm: 'https://b.example/t' } },
        { scheme: 'basic', params: {}, token68: 'xyz=' },
      ],
    },
    {
      name: 'empty quoted value',
      header: 'Bearer realm="https://x.example/t",service=""',
      want: [{ scheme: 'bearer', params: { realm: 'https://x.example/t', service: '' } }],
    },
  ];
  for (const { name, header, want } of cases) {
    assert.deepEqual(parseWwwAuthenticate(header, R), want, name);
  }
});

test('parseWwwAuthenticate: malformed headers are refused', () => {
  const cases: [string, RegExp][] = [
    ['', /no challenge/],
    ['  ,  ', /no challenge/],
    ['Bearer realm="https://unterminated', /unterminated quoted string/],
    ['Bearer realm="a" service="b"', /expected a comma/],
    ['Bearer realm=', /no value|token68|malformed/],
    ['Bearer realm="a", realm="b"', /given twice/],
    ['="x"', /expected an auth scheme/],
    ['Bearer realm="a", =b', /expected an auth scheme/],
  ];
  for (const [header, why] of cases) {
    let error: unknown;
    try {
      const challenges = parseWwwAuthenticate(header, R);
      // A header that parses must still give a usable Bearer challenge to count as fine.
      bearerChallenge(challenges, R, header);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof DenError, `${JSON.stringify(header)} was accepted`);
    assert.equal(error.code, 'DEN0917', header);
    assert.match(error.message, /malformed WWW-Authenticate/, header);
    assert.match(error.message, why, header);
  }
});

test('bearerChallenge: the realm must be an absolute http(s) URL without user info', () => {
  const ok = bearerChallenge(
    parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="s",scope="a b"', R),
    R,
    '',
  );
  assert.equal(ok?.realm.href, 'https://auth.example/token');
  assert.equal(ok?.service, 's');
  assert.equal(ok?.scope, 'a b');
  assert.equal(bearerChallenge(parseWwwAuthenticate('Basic realm="x"', R), R, ''), undefined);
  for (const realm of ['/token', 'ftp://a.example/t', 'https://user:pw@a.example/t', 'javascript:alert(1)', '']) {
    const header = `Bearer realm="${realm}"`;
    assert.throws(
      () => bearerChallenge(parseWwwAuthenticate(header, R), R, header),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0917' && !e.message.includes('pw@'),
      realm,
    );
  }
});
