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
import { helperCalls, helperStore, writeScriptHelper, writeStoreHelper } from '../../test/credential-helper-fixture.js';
import { logout } from './login.js';
import { parseRegistriesConfig } from './registries-config.js';
import { Registries } from './registries.js';

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
  assert.equal(found('helper.example'), undefined, 'an empty entry (a helper placeholder) counts as none');
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
    credHelpers: { 'other.example': 'pass' },
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
  });
  chmodSync(path, 0o644);
  const written = storeCredentials('docker.io', { username: 'new', password: 'p@ss:w0rd' }, { env: e });
  assert.equal(written, path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(Object.keys(doc.auths).sort(), ['https://index.docker.io/v1/', 'keep.example']);
  assert.equal(doc.auths['https://index.docker.io/v1/'].auth, b64('new:p@ss:w0rd'));
  assert.deepEqual(doc.credHelpers, { 'other.example': 'pass' }, 'a helper for another registry is kept, unused');
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

// Credential helpers: real programs in a directory put first in PATH (test/credential-helper-fixture.ts).

/** env() with `bin` first in PATH, where the helpers are. */
function helperEnv(): { e: NodeJS.ProcessEnv; bin: string; config: string } {
  const e = env();
  const bin = join(dirname(e.HOME!), 'bin');
  mkdirSync(bin);
  e.PATH = `${bin}:/usr/bin:/bin`;
  return { e, bin, config: join(e.HOME!, '.docker', 'config.json') };
}

/** A DenError with this code, naming the helper and the registry, and never showing `secrets`. */
function helperError(code: string, program: string, registry: string, secrets: string[] = [], message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DenError, `expected a DenError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(program), `names the helper: ${e.message}`);
    assert.ok(e.message.includes(registry), `names the registry: ${e.message}`);
    assert.ok(e.hint, 'says what to do');
    if (message) assert.match(e.message, message);
    for (const secret of secrets) {
      assert.ok(!`${e.message}\n${e.hint}`.includes(secret), `the secret leaked: ${e.message}\n${e.hint}`);
    }
    return true;
  };
}

test('credential helpers: credHelpers beats credsStore, which beats the file; docker keys', () => {
  const { e, bin, config } = helperEnv();
  const dentest = writeStoreHelper(bin, 'dentest');
  const other = writeStoreHelper(bin, 'other');
  write(dentest.store, { 'quay.io': { Username: 'quser', Secret: 'qsecret' } });
  write(other.store, {
    'https://index.docker.io/v1/': { Username: 'hubuser', Secret: 'hubsecret' },
    'quay.io': { Username: 'never', Secret: 'shadowed' },
  });
  write(config, {
    auths: {
      'quay.io': {},
      'https://index.docker.io/v1/': {},
      'localhost:5000': { auth: b64('stale:filepass') },
      'ghcr.io': { auth: b64('gh:ghpass') },
    },
    credsStore: 'other',
    credHelpers: { 'quay.io': 'dentest', 'ghcr.io': '' },
  });
  const containers = join(e.XDG_RUNTIME_DIR!, 'containers', 'auth.json');
  write(containers, { auths: { 'localhost:5000': { auth: b64('podman:podpass') } } });

  assert.deepEqual(lookupCredentials('quay.io', 'org/x', { env: e }), {
    credentials: { username: 'quser', password: 'qsecret' },
    source: config,
    helper: 'docker-credential-dentest',
  });
  assert.deepEqual(lookupCredentials('docker.io', 'library/busybox', { env: e })?.credentials, {
    username: 'hubuser',
    password: 'hubsecret',
  });
  assert.equal(
    lookupCredentials('localhost:5000', undefined, { env: e })?.credentials.username,
    'podman',
    "the helper has nothing: config.json's stale password is not used, auth.json is read next",
  );
  assert.equal(
    lookupCredentials('ghcr.io', undefined, { env: e })?.credentials.username,
    'gh',
    'an empty name in credHelpers keeps the registry in the file',
  );
  assert.deepEqual(helperCalls(dentest), ['get quay.io']);
  assert.deepEqual(helperCalls(other), ['get https://index.docker.io/v1/', 'get localhost:5000']);

  // credHelpers keys are compared as auths keys are: docker's Docker Hub key names docker.io.
  write(config, { credHelpers: { 'https://index.docker.io/v1/': 'dentest' } });
  write(dentest.store, { 'https://index.docker.io/v1/': { Username: 'h', Secret: 'hs' } });
  assert.equal(lookupCredentials('registry-1.docker.io', undefined, { env: e })?.helper, 'docker-credential-dentest');
  assert.equal(lookupCredentials('quay.io', undefined, { env: e }), undefined, 'no helper for quay.io, no entry');

  // What names a helper is checked: never a path, always a string.
  for (const [doc, why] of [
    [{ credsStore: '../../tmp/evil' }, /"credsStore": "..\/..\/tmp\/evil" is not a credential helper name/],
    [{ credsStore: 42 }, /"credsStore" is not a string/],
    [{ credHelpers: ['x'] }, /"credHelpers" is not an object/],
    [{ credHelpers: { 'quay.io': true } }, /"credHelpers" entry "quay.io" is not a string/],
  ] as const) {
    write(config, doc);
    assert.throws(
      () => lookupCredentials('quay.io', undefined, { env: e }),
      (err: unknown) => err instanceof DenError && err.code === 'DEN0919' && why.test(err.message),
      String(why),
    );
  }
});

test('credential helpers: login stores through the helper, no secret in config.json; logout erases', () => {
  const { e, bin, config } = helperEnv();
  const dentest = writeStoreHelper(bin, 'dentest');
  write(config, {
    auths: { 'reg.example': { auth: b64('old:oldpass') }, 'keep.example': { auth: b64('k:k') } },
    credsStore: 'dentest',
    credHelpers: { 'keep.example': '' },
  });
  const secret = 'h3lper-S3cret:with:colons';
  assert.equal(storeCredentials('reg.example', { username: 'alice', password: secret }, { env: e }), config);
  assert.equal(storeCredentials('docker.io', { username: 'hub', password: 'hubsecret' }, { env: e }), config);
  assert.deepEqual(helperStore(dentest), {
    'reg.example': { Username: 'alice', Secret: secret },
    'https://index.docker.io/v1/': { Username: 'hub', Secret: 'hubsecret' },
  });
  const text = readFileSync(config, 'utf8');
  assert.ok(!text.includes(secret) && !text.includes(b64(`alice:${secret}`)), 'no secret in config.json');
  const doc = JSON.parse(text);
  assert.deepEqual(doc.auths, {
    'keep.example': { auth: b64('k:k') },
    'reg.example': {},
    'https://index.docker.io/v1/': {},
  });
  assert.equal(doc.credsStore, 'dentest');
  assert.deepEqual(lookupCredentials('reg.example', undefined, { env: e })?.credentials, {
    username: 'alice',
    password: secret,
  });

  // A login per namespace cannot go to a helper: refused before anything is stored.
  assert.throws(
    () => storeCredentials('reg.example/team', { username: 'u', password: 'namespaced' }, { env: e }),
    helperError('DEN0933', 'docker-credential-dentest', 'reg.example/team'),
  );
  // A registry whose credHelpers entry is empty is stored in the file.
  storeCredentials('keep.example', { username: 'k2', password: 'k2pass' }, { env: e });
  assert.equal(JSON.parse(readFileSync(config, 'utf8')).auths['keep.example'].auth, b64('k2:k2pass'));

  // Logout: the helper's entry (and the scheme-prefixed one an older docker login left), then the file's.
  write(dentest.store, { ...helperStore(dentest), 'https://reg.example': { Username: 'x', Secret: 'y' } });
  assert.deepEqual(logout('reg.example', { env: e }), {
    registry: 'reg.example',
    paths: ['docker-credential-dentest', config],
  });
  assert.deepEqual(Object.keys(helperStore(dentest)), ['https://index.docker.io/v1/']);
  assert.equal(JSON.parse(readFileSync(config, 'utf8')).auths['reg.example'], undefined);
  assert.equal(lookupCredentials('reg.example', undefined, { env: e }), undefined);
  assert.deepEqual(removeCredentials('reg.example', { env: e }), [], 'nothing left: not logged in');
  assert.deepEqual(removeCredentials('docker.io', { env: e }), ['docker-credential-dentest', config]);
  assert.deepEqual(helperStore(dentest), {});
  assert.ok(helperCalls(dentest).includes('erase http://reg.example'));
});

test('credential helpers: missing, failing, garbage, slow, identity token: clear errors without secrets', () => {
  const { e, bin, config } = helperEnv();
  const registry = 'reg.example';
  const failing = (name: string) => {
    write(config, { credsStore: name });
    return () => lookupCredentials(registry, undefined, { env: e, helperTimeoutMs: 300 });
  };

  assert.throws(failing('absent'), (err: unknown) => {
    helperError('DEN0928', 'docker-credential-absent', registry, [], /not found in PATH/)(err);
    assert.match((err as DenError).hint!, /install docker-credential-absent.*remove "credsStore" from .*config\.json/);
    return true;
  });
  writeFileSync(join(bin, 'docker-credential-noexec'), '#!/bin/sh\n');
  assert.throws(failing('noexec'), helperError('DEN0928', 'docker-credential-noexec', registry, [], /permission/));

  writeScriptHelper(bin, 'broken', 'echo "error: the keyring is locked"; exit 3');
  assert.throws(
    failing('broken'),
    helperError(
      'DEN0929',
      'docker-credential-broken',
      registry,
      [],
      /get failed \(exit status 3\): .*keyring is locked/,
    ),
  );

  const leaked = 'Gr4bage-Secret-Value';
  writeScriptHelper(bin, 'garbage', `echo '{"ServerURL":"${registry}","Username":"u","Secret":"${leaked}"'`);
  assert.throws(
    failing('garbage'),
    helperError('DEN0930', 'docker-credential-garbage', registry, [leaked], /not JSON/),
  );
  writeScriptHelper(bin, 'numbers', `echo '{"Username": "u", "Secret": 12345678}'`);
  assert.throws(failing('numbers'), helperError('DEN0930', 'docker-credential-numbers', registry, [], /not a string/));
  writeScriptHelper(bin, 'nouser', `echo '{"Secret": "${leaked}"}'`);
  assert.throws(failing('nouser'), helperError('DEN0930', 'docker-credential-nouser', registry, [leaked]));
  writeScriptHelper(bin, 'empty', `echo '{}'`);
  assert.equal(failing('empty')(), undefined, 'empty credentials are none');

  const token = 'refresh-T0ken-Value-xyz';
  writeScriptHelper(bin, 'token', `echo '{"ServerURL":"${registry}","Username":"<token>","Secret":"${token}"}'`);
  assert.throws(failing('token'), (err: unknown) => {
    helperError('DEN0932', 'docker-credential-token', registry, [token], /identity token/)(err);
    assert.match((err as DenError).hint!, /den login reg\.example|--creds/);
    return true;
  });

  writeScriptHelper(bin, 'slow', 'exec sleep 10');
  const started = Date.now();
  assert.throws(failing('slow'), helperError('DEN0931', 'docker-credential-slow', registry, [], /0\.3 s.*killed/));
  assert.ok(Date.now() - started < 2000, `killed at the time limit, not after ${Date.now() - started} ms`);

  // A store that fails and echoes what it was given: the password it was sent is redacted.
  const password = 'St0re-Secret-Echoed';
  writeScriptHelper(bin, 'echoer', 'cat; exit 1');
  write(config, { credsStore: 'echoer' });
  assert.throws(
    () => storeCredentials(registry, { username: 'u', password }, { env: e }),
    helperError('DEN0929', 'docker-credential-echoer', registry, [password], /store failed/),
  );
  assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { credsStore: 'echoer' }, 'the file is unchanged');
  // Erase: nothing there is no failure; a failing helper is.
  writeScriptHelper(bin, 'none', 'echo "credentials not found in native keychain"; exit 1');
  write(config, { credsStore: 'none' });
  assert.deepEqual(removeCredentials(registry, { env: e }), []);
  write(config, { credsStore: 'broken' });
  assert.throws(
    () => removeCredentials(registry, { env: e }),
    helperError('DEN0929', 'docker-credential-broken', registry, [], /erase failed/),
  );
});

test('Registries asks a helper once per registry and repository, not once per client', () => {
  const { e, bin, config } = helperEnv();
  const dentest = writeStoreHelper(bin, 'dentest');
  write(dentest.store, { 'reg.example': { Username: 'u', Secret: 'registries-secret' } });
  write(config, { credsStore: 'dentest' });
  const registries = new Registries({ env: e, config: parseRegistriesConfig('{}', 'test') });
  try {
    registries.registryClient('reg.example');
    registries.registryClient('reg.example');
  } finally {
    registries.close();
  }
  assert.deepEqual(helperCalls(dentest), ['get reg.example']);
});
