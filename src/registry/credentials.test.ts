import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { DenError } from '../common/errors.js';
import {
  credentialFiles,
  lookupCredentials,
  normalizeAuthKey,
  parseCreds,
  removeCredentials,
  storeCredentials,
} from './credentials.js';
import { logout } from './login.js';

let root: string;
let n = 0;
before(() => (root = mkdtempSync(join(tmpdir(), 'den-creds-test-'))));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh HOME and XDG_RUNTIME_DIR, nothing else: the files' locations come from these. */
function env(): NodeJS.ProcessEnv {
  const dir = join(root, String(n++));
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  return { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run') };
}

function write(path: string, doc: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('parseCreds', () => {
  assert.deepEqual(parseCreds('alice:s3cret'), { username: 'alice', password: 's3cret' });
  assert.deepEqual(parseCreds('alice:a:b:c'), { username: 'alice', password: 'a:b:c' });
  for (const [bad, why] of [
    ['alice', /no password/],
    [':pw', /empty username/],
    ['alice:', /empty password/],
  ] as const) {
    assert.throws(
      () => parseCreds(bad),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0921' && why.test(e.message),
    );
  }
});

test('normalizeAuthKey', () => {
  const cases: [string, string][] = [
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['http://LocalHost:5000', 'localhost:5000'],
    ['https://quay.io/v2/', 'quay.io'],
    ['quay.io/org/repo', 'quay.io/org/repo'],
    ['127.0.0.1:5000/', '127.0.0.1:5000'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeAuthKey(input), want, input);
});

test('the files read, in order', () => {
  const e = env();
  assert.deepEqual(credentialFiles({ env: e }), [
    join(e.HOME!, '.docker', 'config.json'),
    join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json'),
    join(e.HOME!, '.config', 'containers', 'auth.json'),
  ]);
  assert.deepEqual(credentialFiles({ env: { ...e, REGISTRY_AUTH_FILE: '/x/auth.json', DOCKER_CONFIG: '/d' } }), [
    '/d/config.json',
    '/x/auth.json',
  ]);
  assert.deepEqual(credentialFiles({ env: e, authFile: '/only.json' }), ['/only.json']);
});

test('lookupCredentials: docker config.json, auth.json, precedence and specificity', () => {
  const e = env();
  const docker = join(e.HOME!, '.docker', 'config.json');
  const runtime = join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json');
  const config = join(e.HOME!, '.config', 'containers', 'auth.json');
  write(docker, {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
      'localhost:5000': { username: 'plain', password: 'fields' },
      'helper.example': {},
    },
    credsStore: 'desktop',
  });
  write(runtime, {
    auths: {
      'localhost:5000': { auth: b64('shadowed:byDocker') },
      'quay.io': { auth: b64('quayuser:quay:pass') },
      'quay.io/org': { auth: b64('orguser:orgpass') },
    },
  });
  write(config, { auths: { 'ghcr.io': { auth: b64('gh:ghpass') }, 'quay.io': { auth: b64('never:read') } } });

  const found = (registry: string, repo?: string) => {
    const f = lookupCredentials(registry, repo, { env: e });
    return f && `${f.credentials.username}:${f.credentials.password}@${f.source}`;
  };
  assert.equal(found('docker.io', 'library/busybox'), `hubuser:hubpass@${docker}`);
  assert.equal(found('localhost:5000'), `plain:fields@${docker}`, 'docker config.json wins');
  assert.equal(found('quay.io', 'other/x'), `quayuser:quay:pass@${runtime}`, 'a password may contain colons');
  assert.equal(found('quay.io', 'org/x'), `orguser:orgpass@${runtime}`, 'the most specific key wins');
  assert.equal(found('ghcr.io'), `gh:ghpass@${config}`, '~/.config/containers/auth.json is read too');
  assert.equal(found('helper.example'), undefined, 'an entry for a credential helper counts as none');
  assert.equal(found('nowhere.example'), undefined);

  // REGISTRY_AUTH_FILE replaces the containers' default locations.
  const only = join(e.HOME!, 'only.json');
  write(only, { auths: { 'ghcr.io': { auth: b64('other:pw') } } });
  assert.equal(
    lookupCredentials('ghcr.io', undefined, { env: { ...e, REGISTRY_AUTH_FILE: only } })?.credentials.username,
    'other',
  );
  assert.equal(lookupCredentials('quay.io', undefined, { env: { ...e, REGISTRY_AUTH_FILE: only } }), undefined);
  // --authfile is the only file read.
  assert.equal(lookupCredentials('docker.io', undefined, { env: e, authFile: only }), undefined);
});

test('malformed credential files: a clear error that never shows the secret', () => {
  const secret = 'Sup3rSecretPassw0rd';
  const cases: [unknown, RegExp][] = [
    [`{"auths": {"x.example": {"auth": "${b64(`u:${secret}`)}"}`, /not valid JSON/],
    [`{"auths": {"x.example": {"password": "${secret}", }}}`, /not valid JSON/],
    // V8 quotes the text around an unexpected token: the message must not pass that on.
    [`{"auths": {"x.example": {"password": ${secret}}}}`, /not valid JSON/],
    ['[1]', /not a JSON object/],
    [{ auths: [] }, /"auths" is not an object/],
    [{ auths: { 'x.example': 'string' } }, /entry "x.example": not an object/],
    [{ auths: { 'x.example': { auth: `${secret}!` } } }, /"auth" is not base64/],
    [{ auths: { 'x.example': { auth: b64(secret) } } }, /does not decode to username:password/],
    [{ auths: { 'x.example': { auth: 42 } } }, /"auth" is not a string/],
  ];
  for (const [content, why] of cases) {
    const e = env();
    write(join(e.HOME!, '.docker', 'config.json'), content);
    assert.throws(
      () => lookupCredentials('x.example', undefined, { env: e }),
      (err: unknown) =>
        err instanceof DenError &&
        err.code === 'DEN0919' &&
        why.test(err.message) &&
        !err.message.includes(secret) &&
        err.message.includes('config.json'),
      String(why),
    );
  }
});

test('storeCredentials: 0600, atomic, keeps the rest of the file, round trips', () => {
  const e = env();
  const path = join(e.HOME!, '.docker', 'config.json');
  write(path, {
    auths: { 'https://index.docker.io/v1/': { auth: b64('old:old') }, 'keep.example': { auth: b64('k:k') } },
    credsStore: 'pass',
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
  });
  chmodSync(path, 0o644);
  const written = storeCredentials('docker.io', { username: 'new', password: 'p@ss:w0rd' }, { env: e });
  assert.equal(written, path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(Object.keys(doc.auths).sort(), ['https://index.docker.io/v1/', 'keep.example']);
  assert.equal(doc.auths['https://index.docker.io/v1/'].auth, b64('new:p@ss:w0rd'));
  assert.equal(doc.credsStore, 'pass');
  assert.equal(doc.proxies.default.httpProxy, 'http://proxy:3128');
  assert.deepEqual(lookupCredentials('docker.io', 'library/busybox', { env: e })?.credentials, {
    username: 'new',
    password: 'p@ss:w0rd',
  });
  assert.deepEqual(readdirSync(dirname(path)), ['config.json'], 'no temporary file left behind');

  // Another spelling of the same registry is replaced, not duplicated.
  storeCredentials('http://localhost:5000/', { username: 'a', password: 'b' }, { env: e });
  storeCredentials('localhost:5000', { username: 'c', password: 'd' }, { env: e });
  const keys = Object.keys(JSON.parse(readFileSync(path, 'utf8')).auths);
  assert.deepEqual(
    keys.filter((k) => k.includes('localhost')),
    ['localhost:5000'],
  );
  assert.equal(lookupCredentials('localhost:5000', undefined, { env: e })?.credentials.username, 'c');
});

test('storeCredentials: a new file and directory are private; --authfile is written instead', () => {
  const e = env();
  storeCredentials('reg.example', { username: 'u', password: 'p' }, { env: e });
  assert.equal(statSync(join(e.HOME!, '.docker')).mode & 0o777, 0o700);
  assert.equal(statSync(join(e.HOME!, '.docker', 'config.json')).mode & 0o777, 0o600);
  const authFile = join(e.HOME!, 'elsewhere', 'auth.json');
  assert.equal(storeCredentials('reg2.example', { username: 'u2', password: 'p2' }, { env: e, authFile }), authFile);
  assert.equal(statSync(authFile).mode & 0o777, 0o600);
  assert.equal(lookupCredentials('reg2.example', undefined, { env: e, authFile })?.credentials.username, 'u2');
  assert.equal(lookupCredentials('reg2.example', undefined, { env: e }), undefined);
});

test('storeCredentials refuses to overwrite a malformed file, and says why without secrets', () => {
  const e = env();
  const path = join(e.HOME!, '.docker', 'config.json');
  write(path, '{"auths": {"a": {"auth": "c2VjcmV0OnNlY3JldA=="}');
  assert.throws(
    () => storeCredentials('reg.example', { username: 'u', password: 'pw' }, { env: e }),
    /DEN0919|not valid JSON/,
  );
  assert.equal(readFileSync(path, 'utf8'), '{"auths": {"a": {"auth": "c2VjcmV0OnNlY3JldA=="}');
});

test('removeCredentials and logout: every file den reads', () => {
  const e = env();
  const docker = join(e.HOME!, '.docker', 'config.json');
  const containers = join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json');
  write(docker, {
    auths: { 'https://index.docker.io/v1/': { auth: b64('a:b') }, 'other.example': { auth: b64('c:d') } },
  });
  write(containers, { auths: { 'docker.io': { auth: b64('e:f') } } });
  assert.deepEqual(logout('docker.io', { env: e }), { registry: 'docker.io', paths: [docker, containers] });
  assert.equal(lookupCredentials('docker.io', undefined, { env: e }), undefined);
  assert.equal(lookupCredentials('other.example', undefined, { env: e })?.credentials.username, 'c');
  assert.deepEqual(removeCredentials('docker.io', { env: e }), [], 'nothing left to remove');
});
