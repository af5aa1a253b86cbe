/**
 * Real registries for the registry tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1,
 * each on a free port with its storage in a temporary directory:
 *   - plain http, no auth;
 *   - https with a CA made by openssl for this run, and htpasswd (bcrypt) basic auth;
 *   - token auth, with a token server (realm) in this process that checks basic credentials and
 *     issues ES256 JWTs whose x5c header carries the signing certificate the registry trusts.
 * Images are put into them with skopeo from OCI layouts built here from the busybox rootfs tarball.
 *
 *   const h = new RegistryHarness();
 *   const reg = await h.start({ tls: true, auth: 'htpasswd' });
 *   h.skopeoCopy(`oci:${layout}:latest`, `docker://${reg.name}/busybox:latest`, reg);
 *   ...
 *   await h.cleanup();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxTarball, scratchDir } from './harness.js';

export const TEST_USER = { username: 'den-tester', password: 'S3cret:pa55/w0rd' };
export const TOKEN_SERVICE = 'den-test-registry';
const TOKEN_ISSUER = 'den-test-issuer';

export type AuthMode = 'none' | 'htpasswd' | 'token';

export interface StartOptions {
  tls?: boolean;
  auth?: AuthMode;
  /** Share another registry's storage (images pushed there are here too). */
  storage?: string;
}

export interface TestRegistry {
  /** host:port, as references name it. */
  name: string;
  port: number;
  tls: boolean;
  auth: AuthMode;
  /** The filesystem driver's root directory. */
  storage: string;
  /** The registry's own log (stderr), for diagnosing a failure. */
  log(): string;
}

export interface TestCertificates {
  dir: string;
  /** A directory holding ca.crt only: for --cert-dir and skopeo's --dest-cert-dir. */
  caDir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  tokenCert: string;
  tokenKey: string;
}

/** One request the token server answered. */
export interface TokenRequest {
  scopes: string[];
  account?: string;
  authenticated: boolean;
  status: number;
}

export class RegistryHarness {
  readonly dir: string;
  private certs: TestCertificates | undefined;
  private readonly processes: ChildProcess[] = [];
  private readonly servers: (http.Server | https.Server)[] = [];
  private tokenServer: { url: string; requests: TokenRequest[] } | undefined;

  constructor() {
    // Private: it holds the registry's keys and password file.
    this.dir = scratchDir('den-registry-test-', { mode: 0o700 });
  }

  /** The CA, the server's certificate for 127.0.0.1, and the token signing certificate. */
  certificates(): TestCertificates {
    if (this.certs) return this.certs;
    const dir = join(this.dir, 'certs');
    const caDir = join(dir, 'ca');
    mkdirSync(caDir, { recursive: true });
    const p = (name: string) => join(dir, name);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl([
      'req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=den test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]); // prettier-ignore
    openssl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
    writeFileSync(
      p('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    );
    openssl([
      'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p('server.crt'), '-days', '2', '-extfile', p('server.ext'),
    ]); // prettier-ignore
    openssl([
      'req', '-x509', ...ec, '-keyout', p('token.key'), '-out', p('token.crt'), '-days', '2',
      '-subj', '/CN=den test token issuer',
    ]); // prettier-ignore
    writeFileSync(join(caDir, 'ca.crt'), readFileSync(p('ca.crt')));
    this.certs = {
      dir,
      caDir,
      caCert: p('ca.crt'),
      serverCert: p('server.crt'),
      serverKey: p('server.key'),
      tokenCert: p('token.crt'),
      tokenKey: p('token.key'),
    };
    return this.certs;
  }

  /** Starts a registry and waits until it answers /v2/. */
  async start(options: StartOptions = {}): Promise<TestRegistry> {
    const auth = options.auth ?? 'none';
    const tls = options.tls ?? false;
    const port = await freePort();
    const id = randomBytes(4).toString('hex');
    const storage = options.storage ?? join(this.dir, `storage-${id}`);
    mkdirSync(storage, { recursive: true });
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
    ];
    if (tls) {
      const c = this.certificates();
      lines.push('  tls:', `    certificate: ${c.serverCert}`, `    key: ${c.serverKey}`);
    }
    if (auth === 'htpasswd') {
      const htpasswd = join(this.dir, `htpasswd-${id}`);
      const r = spawnSync('htpasswd', ['-Bbn', TEST_USER.username, TEST_USER.password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
      writeFileSync(htpasswd, r.stdout);
      lines.push('auth:', '  htpasswd:', '    realm: den-test', `    path: ${htpasswd}`);
    } else if (auth === 'token') {
      const token = await this.startTokenServer();
      lines.push(
        'auth:',
        '  token:',
        `    realm: ${token.url}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${this.certificates().tokenCert}`,
      );
    }
    const config = join(this.dir, `config-${id}.yml`);
    writeFileSync(config, `${lines.join('\n')}\n`);
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.processes.push(child);
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (log.length < 1_000_000) log += d.toString();
    });
    const registry: TestRegistry = { name: `127.0.0.1:${port}`, port, tls, auth, storage, log: () => log };
    await waitUntilServing(registry, child, () => log);
    return registry;
  }

  /** The token server's requests so far (the test checks caching and what was sent). */
  tokenRequests(): TokenRequest[] {
    return this.tokenServer?.requests ?? [];
  }

  /**
   * The realm: https on 127.0.0.1 with the test CA's certificate. Valid credentials get the
   * actions they ask for; anonymous requests get a token with no access (the registry then says
   * 401, as Docker Hub does for a private repository); wrong credentials get a 401.
   */
  async startTokenServer(): Promise<{ url: string; requests: TokenRequest[] }> {
    if (this.tokenServer) return this.tokenServer;
    const c = this.certificates();
    const key = createPrivateKey(readFileSync(c.tokenKey));
    const x5c = new X509Certificate(readFileSync(c.tokenCert)).raw.toString('base64');
    const requests: TokenRequest[] = [];
    const server = https.createServer(
      { cert: readFileSync(c.serverCert), key: readFileSync(c.serverKey) },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const scopes = url.searchParams.getAll('scope');
        const account = url.searchParams.get('account') ?? undefined;
        const record = (status: number, authenticated: boolean) =>
          requests.push({ scopes, ...(account !== undefined ? { account } : {}), authenticated, status });
        const header = req.headers.authorization;
        let authenticated = false;
        if (header !== undefined) {
          const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();
          if (!header.startsWith('Basic ') || decoded !== `${TEST_USER.username}:${TEST_USER.password}`) {
            record(401, false);
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }));
            return;
          }
          authenticated = true;
        }
        if (url.pathname !== '/token' || url.searchParams.get('service') !== TOKEN_SERVICE) {
          record(400, authenticated);
          res.writeHead(400);
          res.end();
          return;
        }
        const access = authenticated ? scopes.map(parseScope).filter((s) => s !== undefined) : [];
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: TOKEN_ISSUER,
          sub: authenticated ? TEST_USER.username : '',
          aud: TOKEN_SERVICE,
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomBytes(8).toString('hex'),
          access,
        };
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const signingInput = `${b64({ typ: 'JWT', alg: 'ES256', x5c: [x5c] })}.${b64(claims)}`;
        const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
        const token = `${signingInput}.${signature.toString('base64url')}`;
        record(200, authenticated);
        res.writeHead(200, { 'content-type': 'application/json' });
        // access_token only, to check that the client takes OAuth2's name too.
        res.end(JSON.stringify({ access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
      },
    );
    this.servers.push(server);
    const port = await listen(server);
    this.tokenServer = { url: `https://127.0.0.1:${port}/token`, requests };
    return this.tokenServer;
  }

  /** Starts a plain HTTP server on 127.0.0.1 (fault injection); stopped by cleanup. */
  async httpServer(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
    const server = http.createServer(handler);
    this.servers.push(server);
    return { server, port: await listen(server) };
  }

  /**
   * `skopeo copy` into a test registry, with the flags its TLS and auth need. Asynchronous: the
   * token server runs in this process and must answer skopeo meanwhile.
   */
  async skopeoCopy(source: string, destination: string, registry: TestRegistry, extra: string[] = []): Promise<void> {
    const args = ['copy', '--quiet', ...extra];
    if (registry.tls) args.push('--dest-cert-dir', this.certificates().caDir);
    else args.push('--dest-tls-verify=false');
    if (registry.auth !== 'none') args.push('--dest-creds', `${TEST_USER.username}:${TEST_USER.password}`);
    args.push(source, destination);
    const child = spawn('skopeo', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HOME: this.dir },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timer);
    if (status !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${status}): ${stderr}`);
  }

  /** Where the registry keeps a blob's bytes (distribution's filesystem layout). */
  blobPath(registry: TestRegistry, digest: string): string {
    const hex = digest.replace(/^sha256:/, '');
    return join(registry.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.processes.map(stopProcess));
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.servers) (s as http.Server).closeAllConnections?.();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface LayoutImage {
  /** The OCI layout directory (skopeo: oci:DIR:TAG). */
  dir: string;
  tag: string;
  /** The digest of what the tag names: the manifest, or the index for several platforms. */
  digest: string;
  mediaType: string;
  /** Per platform: its manifest's digest, config digest and layers. */
  manifests: { platform: string; digest: string; config: string; layers: { digest: string; size: number }[] }[];
}

export interface LayoutOptions {
  tag?: string;
  /** os/arch[/variant] of each manifest; several make an index. Default: this host's only. */
  platforms?: string[];
  /** Extra layers (tar bytes) after the busybox one, e.g. a tiny unique layer for one test. */
  extraLayers?: Buffer[];
  /** Leave the busybox layer out (small images). */
  noBusybox?: boolean;
  /** The image config's `config` (default: Cmd sh, Env PATH=/bin) and `created`. */
  config?: Record<string, unknown>;
  created?: string;
}

/** Builds an OCI image layout by hand: gzip layers, a config and a manifest per platform, an index. */
export function buildLayout(dir: string, options: LayoutOptions = {}): LayoutImage {
  const tag = options.tag ?? 'latest';
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const put = (data: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const tars = [...(options.noBusybox ? [] : [readFileSync(busyboxTarball())]), ...(options.extraLayers ?? [])];
  const layers = tars.map((tar) => ({
    ...put(gzipSync(tar)),
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
  }));
  const platforms = options.platforms ?? [hostPlatformString()];
  const manifests = platforms.map((platform) => {
    const [os, architecture, variant] = platform.split('/') as [string, string, string | undefined];
    const config = put(
      Buffer.from(
        JSON.stringify({
          architecture,
          os,
          ...(variant ? { variant } : {}),
          ...(options.created ? { created: options.created } : {}),
          config: options.config ?? { Cmd: ['sh'], Env: ['PATH=/bin'] },
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        }),
      ),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: l.digest,
          size: l.size,
        })),
      }),
    );
    const stored = put(manifest);
    return {
      platform,
      digest: stored.digest,
      size: stored.size,
      config: config.digest,
      layers: layers.map((l) => ({ digest: l.digest, size: l.size })),
      descriptor: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...stored,
        platform: { architecture, os, ...(variant ? { variant } : {}) },
      },
    };
  });
  let top: { mediaType: string; digest: string; size: number };
  if (manifests.length === 1) {
    top = manifests[0]!.descriptor;
  } else {
    const index = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: manifests.map((m) => m.descriptor),
        }),
      ),
    );
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...index };
  }
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    dir,
    tag,
    digest: top.digest,
    mediaType: top.mediaType,
    manifests: manifests.map(({ platform, digest, config, layers: l }) => ({ platform, digest, config, layers: l })),
  };
}

/** A one-file tar archive, for small unique layers. */
export function tinyTar(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}

function hostPlatformString(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return arch === 'arm64' ? 'linux/arm64/v8' : `linux/${arch}`;
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  return (server.address() as AddressInfo).port;
}

async function waitUntilServing(registry: TestRegistry, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`docker-registry exited at start: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const mod = registry.tls ? https : http;
      const req = mod.get(
        `${registry.tls ? 'https' : 'http'}://${registry.name}/v2/`,
        { rejectUnauthorized: false, timeout: 1000 },
        (res) => {
          res.resume();
          resolve(true);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start serving within 15 s: ${log()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
