/**
 * The registry client against real registries (docker-registry on 127.0.0.1, see registry-server.ts)
 * and, for the failures a real registry will not produce on demand (503s, resets, redirects to
 * storage, huge or stalled answers), small HTTP servers in this process.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DenError } from '../src/common/errors.js';
import { digestOf, type Descriptor, type Digest } from '../src/content/index.js';
import { MEDIA_TYPES, parsePlatform } from '../src/images/index.js';
import {
  login,
  logout,
  parseRegistriesConfig,
  Registries,
  RegistryClient,
  type RegistriesOptions,
} from '../src/registry/index.js';
import {
  buildLayout,
  RegistryHarness,
  TEST_USER,
  tinyTar,
  type LayoutImage,
  type TestRegistry,
} from './registry-server.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const creds = { ...TEST_USER };

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A DenError with this code whose message and hint never show the test password. */
function denError(code: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DenError, `expected a DenError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    const shown = `${e.message}\n${e.hint ?? ''}`;
    assert.ok(!shown.includes(TEST_USER.password), `the password leaked: ${shown}`);
    assert.ok(!shown.includes(Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString('base64')));
    return true;
  };
}

describe('registry client against real registries', () => {
  const h = new RegistryHarness();
  let plain: TestRegistry; // http, no auth
  let basic: TestRegistry; // https with the test CA, htpasswd; shares plain's storage
  let token: TestRegistry; // https with the test CA, token auth; shares plain's storage
  let second: TestRegistry; // http, no auth, its own storage: a mirror and a second search registry
  let busybox: LayoutImage;
  let multi: LayoutImage;
  let home: string;
  const open: Registries[] = [];

  /** Registries isolated from this machine's credentials, certificates and configuration. */
  const registries = (options: RegistriesOptions = {}): Registries => {
    const r = new Registries({
      env: { HOME: home },
      certsDirs: [],
      retry: FAST_RETRY,
      config: parseRegistriesConfig('{}', 'test'),
      ...options,
    });
    open.push(r);
    return r;
  };

  before(async () => {
    home = join(h.dir, 'home');
    mkdirSync(home);
    [plain, second] = await Promise.all([h.start(), h.start()]);
    [basic, token] = await Promise.all([
      h.start({ tls: true, auth: 'htpasswd', storage: plain.storage }),
      h.start({ tls: true, auth: 'token', storage: plain.storage }),
    ]);
    busybox = buildLayout(join(h.dir, 'busybox'));
    multi = buildLayout(join(h.dir, 'multi'), {
      platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/s390x'],
      noBusybox: true,
      extraLayers: [tinyTar('hello', 'multi-platform')],
    });
    const solo = buildLayout(join(h.dir, 'solo'), { noBusybox: true, extraLayers: [tinyTar('solo', 'only here')] });
    await Promise.all([
      h.skopeoCopy(`oci:${busybox.dir}:latest`, `docker://${plain.name}/busybox:latest`, plain),
      h.skopeoCopy(`oci:${multi.dir}:latest`, `docker://${plain.name}/multi:latest`, plain, ['--all']),
      h.skopeoCopy(`oci:${solo.dir}:latest`, `docker://${plain.name}/solo:latest`, plain),
      h.skopeoCopy(`oci:${busybox.dir}:latest`, `docker://${second.name}/busybox:latest`, second),
    ]);
  });

  after(async () => {
    for (const r of open) r.close();
    await h.cleanup();
  });

  test('anonymous pull over http: manifest by tag and digest, blobs verified', async () => {
    const r = registries();
    const source = await r.getManifest(`${plain.name}/busybox:latest`);
    assert.equal(source.endpoint.insecure, true, 'a loopback registry is insecure by default');
    assert.equal(source.manifest.digest, busybox.digest);
    assert.equal(source.manifest.mediaType, MEDIA_TYPES.manifest);
    assert.equal(source.manifest.digest, digestOf(source.manifest.bytes));
    assert.equal(source.manifest.parsed.kind, 'manifest');
    const byDigest = await source.repository.getManifest(busybox.digest);
    assert.deepEqual(byDigest.bytes, source.manifest.bytes);

    const resolved = await r.resolveImage(`${plain.name}/busybox`);
    assert.equal(resolved.index, undefined);
    for (const d of [resolved.image.config, ...resolved.image.layers]) {
      const bytes = await readAll(await resolved.repository.fetchBlob(d));
      assert.deepEqual(bytes, readFileSync(join(busybox.dir, 'blobs', 'sha256', d.digest.slice(7))), d.digest);
    }
    assert.equal(await source.repository.blobExists(resolved.image.layers[0]!.digest), true);
    assert.equal(await source.repository.blobExists(`sha256:${'0'.repeat(64)}` as Digest), false);
    assert.deepEqual(await source.repository.listTags(), ['latest']);
  });

  test('manifest unknown and repository unknown, in docker words', async () => {
    const r = registries();
    await assert.rejects(
      r.getManifest(`${plain.name}/busybox:nosuch`),
      denError('DEN0906', new RegExp(`manifest for ${plain.name}/busybox:nosuch not found: manifest unknown`)),
    );
    // distribution says MANIFEST_UNKNOWN for a repository it does not have (others say NAME_UNKNOWN,
    // tested below with a local server).
    await assert.rejects(
      r.getManifest(`${plain.name}/nosuchrepo`),
      denError('DEN0906', new RegExp(`manifest for ${plain.name}/nosuchrepo:latest not found`)),
    );
    const blob = { mediaType: MEDIA_TYPES.layerGzip, digest: `sha256:${'1'.repeat(64)}` as Digest, size: 10 };
    const repo = r.repository((await r.getManifest(`${plain.name}/busybox`)).reference);
    await assert.rejects(repo.fetchBlob(blob), denError('DEN0908', /blob sha256:1{64}: not found/));
  });

  test('an index: the platform asked for, the host by default, and the error listing the rest', async () => {
    const r = registries();
    const source = await r.getManifest(`${plain.name}/multi:latest`);
    assert.equal(source.manifest.digest, multi.digest);
    assert.equal(source.manifest.parsed.kind, 'index');
    const arm = await r.resolveImage(`${plain.name}/multi`, parsePlatform('linux/arm64'));
    assert.equal(arm.index?.digest, multi.digest);
    assert.equal(arm.manifest.digest, multi.manifests.find((m) => m.platform === 'linux/arm64/v8')!.digest);
    if (process.arch === 'x64') {
      const host = await r.resolveImage(`${plain.name}/multi`);
      assert.equal(host.manifest.digest, multi.manifests.find((m) => m.platform === 'linux/amd64')!.digest);
    }
    await assert.rejects(
      r.resolveImage(`${plain.name}/multi`, parsePlatform('linux/ppc64le')),
      (e: unknown) =>
        denError('DEN0914', /no matching manifest for linux\/ppc64le/)(e) &&
        /linux\/amd64, linux\/arm64\/v8, linux\/s390x/.test((e as DenError).hint ?? ''),
    );
  });

  test('https with basic auth: the CA verifies; without it a TLS error; tlsVerify false works', async () => {
    const ref = `${basic.name}/busybox:latest`;
    const ca = { certDir: h.certificates().caDir };
    const ok = await registries({ credentials: creds, tlsVerify: true, ...ca }).resolveImage(ref);
    assert.equal(ok.manifest.digest, busybox.digest);
    const layer = ok.image.layers[0]!;
    assert.equal((await readAll(await ok.repository.fetchBlob(layer))).length, layer.size);

    await assert.rejects(
      registries({ credentials: creds, tlsVerify: true }).getManifest(ref),
      (e: unknown) => denError('DEN0902', /TLS failure/)(e) && /--tls-verify=false/.test((e as DenError).hint ?? ''),
    );
    const unverified = await registries({ credentials: creds, tlsVerify: false }).getManifest(ref);
    assert.equal(unverified.manifest.digest, busybox.digest);
    // Loopback registries are insecure by default, as with docker: https without verification.
    assert.equal((await registries({ credentials: creds }).getManifest(ref)).manifest.digest, busybox.digest);
  });

  test('basic auth: wrong or no credentials are a clear 401 without the password', async () => {
    const ref = `${basic.name}/busybox:latest`;
    await assert.rejects(
      registries({ credentials: { username: TEST_USER.username, password: 'wrong-password' } }).getManifest(ref),
      (e: unknown) =>
        denError('DEN0904')(e) &&
        !(e as DenError).message.includes('wrong-password') &&
        /den login/.test((e as DenError).hint ?? ''),
    );
    await assert.rejects(
      registries().getManifest(ref),
      denError('DEN0904', /pull access denied for .*busybox, repository does not exist or may require 'den login'/),
    );
  });

  test('token auth: tokens from the realm, cached by scope; wrong credentials refused', async () => {
    const ref = `${token.name}/busybox:latest`;
    const before = h.tokenRequests().length;
    const r = registries({ credentials: creds, tlsVerify: true, certDir: h.certificates().caDir });
    const resolved = await r.resolveImage(ref);
    assert.equal(resolved.manifest.digest, busybox.digest);
    await readAll(await resolved.repository.fetchBlob(resolved.image.config));
    await resolved.repository.getManifest('latest');
    const requests = h.tokenRequests().slice(before);
    assert.deepEqual(
      requests.map((q) => [q.scopes.join(' '), q.authenticated, q.account, q.status]),
      [['repository:busybox:pull', true, TEST_USER.username, 200]],
      'one token for three requests of the same scope',
    );

    await assert.rejects(
      registries({ credentials: { username: TEST_USER.username, password: 'not-it-at-all' } }).getManifest(ref),
      (e: unknown) =>
        denError('DEN0904', /incorrect username or password/)(e) && !(e as DenError).message.includes('not-it-at-all'),
    );
    // Anonymous: the token server gives a token without access, and the registry says 401.
    await assert.rejects(registries().getManifest(ref), denError('DEN0904', /pull access denied/));
  });

  test('login checks credentials against /v2/ before storing them; logout forgets them', async () => {
    const env = { HOME: join(h.dir, 'login-home') };
    const config = join(env.HOME, '.docker', 'config.json');
    const common = { env, certsDirs: [], tlsVerify: true, certDir: h.certificates().caDir, retry: FAST_RETRY };
    await assert.rejects(
      login(basic.name, { username: TEST_USER.username, password: 'bad-password' }, common),
      denError('DEN0904', /incorrect username or password/),
    );
    await assert.rejects(
      login(token.name, { username: TEST_USER.username, password: 'bad-password' }, common),
      denError('DEN0904', /incorrect username or password/),
    );
    assert.throws(() => statSync(config), /ENOENT/, 'nothing is stored after a failed login');

    assert.deepEqual(await login(basic.name, creds, common), { registry: basic.name, path: config });
    assert.deepEqual(await login(`https://${token.name}/v2/`, creds, common), { registry: token.name, path: config });
    assert.equal(statSync(config).mode & 0o777, 0o600);
    assert.deepEqual(
      Object.keys(JSON.parse(readFileSync(config, 'utf8')).auths).sort(),
      [basic.name, token.name].sort(),
    );

    // The stored credentials are used by pulls in that HOME.
    const r = new Registries({ env, certsDirs: [], retry: FAST_RETRY, config: parseRegistriesConfig('{}', 'test') });
    open.push(r);
    assert.equal((await r.getManifest(`${token.name}/busybox`)).manifest.digest, busybox.digest);
    assert.equal((await r.getManifest(`${basic.name}/busybox`)).manifest.digest, busybox.digest);

    assert.deepEqual(logout(basic.name, { env }).paths, [config]);
    assert.deepEqual(logout(basic.name, { env }).paths, []);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(config, 'utf8')).auths), [token.name]);
  });

  test('a blob whose bytes do not match its digest: the stream fails, it does not end', async () => {
    const image = buildLayout(join(h.dir, 'corrupt'), {
      noBusybox: true,
      extraLayers: [tinyTar('c', 'x'.repeat(5000))],
    });
    await h.skopeoCopy(`oci:${image.dir}:latest`, `docker://${plain.name}/corrupt:latest`, plain);
    const layer = image.manifests[0]!.layers[0]!;
    const path = h.blobPath(plain, layer.digest);
    const original = readFileSync(path);
    const corrupted = Buffer.from(original);
    // The middle byte: the gzip of this tiny layer is about 100 bytes, and an index below 0 would
    // change nothing (a Buffer ignores it), leaving the blob intact.
    const at = corrupted.length >> 1;
    corrupted[at] = corrupted[at]! ^ 0xff;
    assert.notDeepEqual(corrupted, original);
    writeFileSync(path, corrupted);

    const r = registries();
    const source = await r.resolveImage(`${plain.name}/corrupt`);
    const stream = await source.repository.fetchBlob(source.image.layers[0]!);
    await assert.rejects(
      readAll(stream),
      denError('DEN0909', new RegExp(`blob ${layer.digest}: content hashes to sha256:`)),
    );
    assert.equal(stream.destroyed, true);

    // A manifest whose stored bytes changed under its tag: the registry's digest header disagrees.
    const manifestPath = h.blobPath(plain, image.digest);
    const manifest = readFileSync(manifestPath);
    writeFileSync(manifestPath, Buffer.from(manifest.toString().replace('"schemaVersion":2', '"schemaVersion":2 ')));
    await assert.rejects(
      r.getManifest(`${plain.name}/corrupt:latest`),
      denError('DEN0909', /manifest .*content hashes to/),
    );
    await assert.rejects(
      source.repository.getManifest(image.digest),
      denError('DEN0909', new RegExp(`expected ${image.digest}`)),
    );
  });

  test('resume: the rest of a blob from an offset, verified as a whole', async () => {
    const r = registries();
    const resolved = await r.resolveImage(`${plain.name}/busybox`);
    const layer = resolved.image.layers[0]!;
    const full = await readAll(await resolved.repository.fetchBlob(layer));
    const offset = Math.floor(full.length / 3);
    const prefixHash = createHash('sha256').update(full.subarray(0, offset));
    const rest = await readAll(await resolved.repository.fetchBlob(layer, { offset, prefixHash }));
    assert.equal(rest.length, full.length - offset);
    assert.deepEqual(Buffer.concat([full.subarray(0, offset), rest]), full);
    // The caller's hash is not consumed: it can be used again.
    assert.equal(prefixHash.copy().digest('hex'), createHash('sha256').update(full.subarray(0, offset)).digest('hex'));

    // A prefix that is not the blob's: the whole does not verify.
    const wrong = createHash('sha256').update(Buffer.alloc(offset, 1));
    await assert.rejects(
      readAll(await resolved.repository.fetchBlob(layer, { offset, prefixHash: wrong })),
      denError('DEN0909'),
    );
    // Everything there already: nothing to fetch, still verified.
    const all = createHash('sha256').update(full);
    assert.equal(
      (await readAll(await resolved.repository.fetchBlob(layer, { offset: full.length, prefixHash: all }))).length,
      0,
    );
    await assert.rejects(resolved.repository.fetchBlob(layer, { offset }), denError('DEN0925', /prefixHash/));
    await assert.rejects(
      resolved.repository.fetchBlob(layer, { offset: full.length + 1, prefixHash: all }),
      denError('DEN0925', /outside/),
    );
  });

  test('push a blob and a manifest (token auth), read them back; mount from another repository', async () => {
    const r = registries({ credentials: creds, tlsVerify: true, certDir: h.certificates().caDir });
    const pushRepo = r.repository({ domain: token.name, path: 'den/pushed', tag: 'v1' });
    const layer = Buffer.from(gzipSync(tinyTar('pushed', `pushed at ${Date.now()}`)));
    const layerDesc: Descriptor = { mediaType: MEDIA_TYPES.layerGzip, digest: digestOf(layer), size: layer.length };
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [digestOf(tinyTar('x', 'y'))] },
      }),
    );
    const configDesc: Descriptor = { mediaType: MEDIA_TYPES.config, digest: digestOf(config), size: config.length };
    assert.equal(await pushRepo.blobExists(layerDesc.digest), false);
    assert.equal(await pushRepo.pushBlob(layerDesc, layer), 'uploaded');
    assert.equal(await pushRepo.pushBlob(layerDesc, layer), 'exists');
    // A stream body (a function that opens one) works too.
    assert.equal(await pushRepo.pushBlob(configDesc, () => Readable.from([config])), 'uploaded');
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config: configDesc, layers: [layerDesc] }),
    );
    const digest = await pushRepo.putManifest('v1', { bytes: manifest, mediaType: MEDIA_TYPES.manifest });
    assert.equal(digest, digestOf(manifest));

    const back = await pushRepo.getManifest('v1');
    assert.deepEqual(back.bytes, manifest);
    assert.equal(back.mediaType, MEDIA_TYPES.manifest);
    assert.deepEqual(await readAll(await pushRepo.fetchBlob(layerDesc)), layer);
    assert.deepEqual(await pushRepo.listTags(), ['v1']);

    // Cross-repository mount: the registry links the blob without an upload.
    const other = r.repository({ domain: token.name, path: 'den/other', tag: 'latest' });
    assert.equal(await other.pushBlob(layerDesc, layer, { mountFrom: 'den/pushed' }), 'mounted');
    assert.equal(await other.blobExists(layerDesc.digest), true);

    // Our own mistakes are caught before anything is sent.
    await assert.rejects(pushRepo.pushBlob({ ...layerDesc, digest: configDesc.digest }, layer), denError('DEN0909'));
    await assert.rejects(pushRepo.pushBlob({ ...layerDesc, size: layer.length + 1 }, layer), denError('DEN0910'));
    await assert.rejects(
      pushRepo.putManifest(configDesc.digest, { bytes: manifest, mediaType: MEDIA_TYPES.manifest }),
      denError('DEN0909'),
    );
    // Without push rights (anonymous): 401.
    await assert.rejects(
      registries().repository({ domain: token.name, path: 'den/x' }).pushBlob(layerDesc, layer),
      denError('DEN0904'),
    );
  });

  test('short names: the search list in order, or refused as ambiguous when enforcing', async () => {
    const search = (mode: string) =>
      parseRegistriesConfig(
        JSON.stringify({ 'unqualified-search-registries': [second.name, plain.name], 'short-name-mode': mode }),
        'test',
      );
    const permissive = registries({ config: search('permissive') });
    assert.equal((await permissive.getManifest('busybox')).reference.domain, second.name, 'the first that has it');
    assert.equal(
      (await permissive.getManifest('solo')).reference.domain,
      plain.name,
      'the next when the first has not',
    );
    await assert.rejects(
      permissive.getManifest('nothing-anywhere'),
      (e: unknown) =>
        denError('DEN0906', new RegExp(`${second.name}/nothing-anywhere:latest not found`))(e) &&
        new RegExp(`also tried ${plain.name}`).test((e as DenError).hint ?? ''),
    );

    const enforcing = registries({ config: search('enforcing') });
    await assert.rejects(
      enforcing.getManifest('busybox'),
      (e: unknown) =>
        e instanceof DenError &&
        e.code === 'DEN0916' &&
        e.kind === 'Conflict' &&
        e.message.includes(`${second.name}/busybox:latest`) &&
        e.message.includes(`${plain.name}/busybox:latest`),
    );
    assert.equal((await enforcing.getManifest('solo')).reference.domain, plain.name, 'found in one only: no ambiguity');
    // A qualified name never searches.
    assert.equal((await enforcing.getManifest(`${plain.name}/busybox`)).reference.domain, plain.name);
  });

  test('mirrors are tried first, in order; a dead mirror falls through to the registry', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const config = (mirrors: string[]) =>
      parseRegistriesConfig(
        JSON.stringify({ registries: [{ prefix: plain.name, mirrors: mirrors.map((location) => ({ location })) }] }),
        'test',
      );
    const viaMirror = await registries({ config: config([dead, second.name]) }).getManifest(`${plain.name}/busybox`);
    assert.equal(viaMirror.endpoint.host, second.name);
    assert.equal(viaMirror.endpoint.mirror, true);
    assert.equal(viaMirror.reference.domain, plain.name, 'the reference stays the one asked for');
    // The mirror lacks this one: the registry has it.
    const fallback = await registries({ config: config([second.name]) }).getManifest(`${plain.name}/solo`);
    assert.equal(fallback.endpoint.host, plain.name);
    assert.equal(fallback.endpoint.mirror, false);
  });
});

describe('transport failures, with small local servers', () => {
  const h = new RegistryHarness();
  after(() => h.cleanup());

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: `sha256:${'a'.repeat(64)}`, size: 2 },
      layers: [],
    }),
  );
  const blob = Buffer.from('the content of a blob, long enough to be split in parts '.repeat(50));
  const blobDesc: Descriptor = { mediaType: MEDIA_TYPES.layer, digest: digestOf(blob), size: blob.length };

  const client = (port: number, options: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) =>
    new RegistryClient({ registry: `127.0.0.1:${port}`, insecure: true, retry: FAST_RETRY, ...options });

  test('503 and 429, then success: retried with backoff; 404 and 401 are not retried', async () => {
    const hits: Record<string, number> = {};
    const { port } = await h.httpServer((req, res) => {
      const path = req.url ?? '';
      hits[path] = (hits[path] ?? 0) + 1;
      if (path === '/v2/') return res.end('{}');
      if (path.endsWith('/flaky') && hits[path]! <= 2) {
        res.writeHead(hits[path] === 1 ? 503 : 429, { 'retry-after': '0' });
        return res.end();
      }
      if (path.endsWith('/flaky')) {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest });
        return res.end(manifest);
      }
      if (path.endsWith('/always')) {
        res.writeHead(502);
        return res.end('{"errors":[{"code":"UNAVAILABLE","message":"upstream down"}]}');
      }
      if (path.endsWith('/reset') && hits[path]! === 1) return req.socket.destroy();
      if (path.endsWith('/reset')) {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest });
        return res.end(manifest);
      }
      if (path.startsWith('/v2/gone/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
      }
      if (path.endsWith('/private')) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
        return res.end();
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    });
    const c = client(port);
    try {
      const repo = c.repository('x');
      const started = Date.now();
      assert.equal((await repo.getManifest('flaky')).digest, digestOf(manifest));
      assert.equal(hits['/v2/x/manifests/flaky'], 3);
      assert.ok(Date.now() - started < 2000);
      assert.equal((await repo.getManifest('reset')).digest, digestOf(manifest));
      assert.equal(hits['/v2/x/manifests/reset'], 2, 'a connection reset is retried');
      await assert.rejects(
        repo.getManifest('always'),
        denError('DEN0923', /server error \(HTTP 502\): unavailable: upstream down/),
      );
      assert.equal(hits['/v2/x/manifests/always'], 3, 'as many tries as the policy allows');
      await assert.rejects(repo.getManifest('missing'), denError('DEN0906'));
      assert.equal(hits['/v2/x/manifests/missing'], 1);
      await assert.rejects(
        c.repository('gone', 'example/gone').getManifest('latest'),
        denError('DEN0907', /pull access denied for example\/gone, repository does not exist/),
      );
      await assert.rejects(repo.getManifest('private'), denError('DEN0904'));
      assert.equal(hits['/v2/x/manifests/private'], 1);
    } finally {
      c.close();
    }
  });

  test('a redirect to storage on another origin: followed, without the Authorization header', async () => {
    const seen: { host: string; auth: string | undefined; range: string | undefined }[] = [];
    const storage = await h.httpServer((req, res) => {
      seen.push({ host: 'storage', auth: req.headers.authorization, range: req.headers.range });
      // A storage service that ignores Range: the client drops what it already has.
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.end(blob);
    });
    const expected = `Basic ${Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString('base64')}`;
    const registry = await h.httpServer((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        return res.end();
      }
      if (req.url === '/v2/') return res.end('{}');
      seen.push({ host: 'registry', auth: req.headers.authorization, range: req.headers.range });
      // localhost and 127.0.0.1 differ in origin, as does another port.
      res.writeHead(307, { location: `http://localhost:${storage.port}/blobs/data?X-Amz-Signature=secret` });
      res.end();
    });
    const c = client(registry.port, { credentials: creds });
    try {
      const repo = c.repository('x');
      assert.deepEqual(await readAll(await repo.fetchBlob(blobDesc)), blob);
      assert.deepEqual(
        seen.map((s) => [s.host, s.auth !== undefined]),
        [
          ['registry', true],
          ['storage', false],
        ],
      );
      const offset = 100;
      const rest = await readAll(
        await repo.fetchBlob(blobDesc, { offset, prefixHash: createHash('sha256').update(blob.subarray(0, offset)) }),
      );
      assert.deepEqual(rest, blob.subarray(offset));
      assert.equal(seen.at(-1)!.range, 'bytes=100-', 'the Range header survives the redirect');
      assert.equal(seen.at(-1)!.auth, undefined);
    } finally {
      c.close();
    }
  });

  test('a blob cut short or too long: a size error, never a short blob', async () => {
    const { port } = await h.httpServer((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      if (req.url?.includes('short')) {
        // Promises the whole blob, then hangs up half way.
        res.writeHead(200, { 'content-length': String(blob.length) });
        res.write(blob.subarray(0, 1000));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      // No Content-Length, more bytes than the descriptor says.
      res.writeHead(200);
      res.end(Buffer.concat([blob, Buffer.from('extra')]));
    });
    const c = client(port);
    try {
      const short = await c.repository('short').fetchBlob(blobDesc);
      await assert.rejects(readAll(short), denError('DEN0901', /connection broke while reading blob/));
      const long = await c.repository('long').fetchBlob(blobDesc);
      await assert.rejects(readAll(long), denError('DEN0910', /more than/));
    } finally {
      c.close();
    }
  });

  test('bounded answers: a huge manifest is refused, by Content-Length or as it streams', async () => {
    const { port } = await h.httpServer((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      if (req.url?.endsWith('declared')) {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest, 'content-length': String(64 * 1024 * 1024) });
        return res.end();
      }
      res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', pump);
        else res.end();
      };
      res.on('error', () => undefined);
      pump();
    });
    const c = client(port);
    try {
      await assert.rejects(c.repository('x').getManifest('declared'), denError('DEN0911'));
      await assert.rejects(c.repository('x').getManifest('streamed'), denError('DEN0911'));
    } finally {
      c.close();
    }
  });

  test('a registry that does not answer: a timeout, retried, then unreachable', async () => {
    let hits = 0;
    const { port } = await h.httpServer((req) => {
      if (req.url === '/v2/') hits++;
      // never answers
    });
    const c = client(port, { timeoutMs: 200, retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 10 } });
    try {
      const started = Date.now();
      await assert.rejects(c.ping(), denError('DEN0901', /accepted the connection but sent no answer in 0\.2 s/));
      assert.ok(Date.now() - started < 3000);
      // A request that got no answer is tried twice, not as often as other transient failures.
      assert.equal(hits, 2, `tried ${hits} times`);
    } finally {
      c.close();
    }
  });

  test('plain http is spoken only to an insecure registry', async () => {
    const { port } = await h.httpServer((_req, res) => res.end('{}'));
    const secure = client(port, { insecure: false });
    try {
      await assert.rejects(secure.ping(), denError('DEN0903', /plain HTTP/));
    } finally {
      secure.close();
    }
    const insecure = client(port);
    try {
      await insecure.ping();
    } finally {
      insecure.close();
    }
    // A registry that is not there at all.
    const gone = client(await closedPort());
    try {
      await assert.rejects(gone.ping(), denError('DEN0901', /ECONNREFUSED/));
    } finally {
      gone.close();
    }
  });

  test('a registry that echoes our credentials in its error: redacted', async () => {
    const { port } = await h.httpServer((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="echo"' });
        return res.end();
      }
      if (req.url === '/v2/') return res.end('{}');
      res.writeHead(403, { 'content-type': 'application/json' });
      const message = `you sent Authorization: ${req.headers.authorization}, i.e. ${TEST_USER.password}`;
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message }] }));
    });
    const c = client(port, { credentials: creds });
    try {
      await assert.rejects(
        c.repository('x').getManifest('latest'),
        denError('DEN0905', /denied: you sent Authorization: Basic \*\*\*, i\.e\. \*\*\*/),
      );
    } finally {
      c.close();
    }
  });

  test('a malformed WWW-Authenticate is an error naming the header', async () => {
    const { port } = await h.httpServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://unterminated' });
      res.end();
    });
    const c = client(port);
    try {
      await assert.rejects(c.ping(), denError('DEN0917', /malformed WWW-Authenticate header/));
    } finally {
      c.close();
    }
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
