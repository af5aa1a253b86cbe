/**
 * The OCI distribution API of one registry endpoint (host[:port]).
 *
 * Vocabulary: a *registry* is a name as references spell it (docker.io, localhost:5000); its
 * *host* is where the API answers (registry-1.docker.io); a *repository* is a path on it
 * (library/busybox); a *reference* within a repository is a tag or a digest. `RegistryClient` holds
 * one host's connections, scheme and tokens; `repository(name)` gives the operations on one
 * repository:
 *
 *   const client = new RegistryClient({ registry: 'localhost:5000', insecure: true });
 *   const repo = client.repository('library/busybox');
 *   const { bytes, digest, parsed } = await repo.getManifest('latest');
 *   const layer = await repo.fetchBlob(parsed.manifest.layers[0]);   // verifies as it streams
 *   await pipeline(layer, ingest.writable());
 *   client.close();
 *
 * Scheme: https always; an insecure registry is tried over https without verification first and
 * over plain http when that fails, once, on the `/v2/` ping that also learns how to authenticate.
 */
import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DenError, invalidArgument } from '../common/errors.js';
import { digestOf, isDigest, parseDigest, type Descriptor, type Digest } from '../content/index.js';
import {
  ACCEPTED_MANIFEST_TYPES,
  isRepositoryPath,
  isTag,
  MAX_MANIFEST_BYTES,
  parseManifest,
  type ParsedManifest,
} from '../images/index.js';
import { Authorizer } from './authorizer.js';
import type { Credentials } from './credentials.js';
import {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  discard,
  HttpTransport,
  readBody,
  type HttpResponse,
  type Method,
  type RequestBody,
  type RetryPolicy,
} from './http-transport.js';
import { redact } from './redact.js';
import { apiHost } from './registries-config.js';
import {
  blobUnknown,
  denied,
  digestMismatch,
  manifestUnknown,
  protocolError,
  repositoryUnknown,
  serverError,
  sizeMismatch,
  tooLarge,
  unauthorized,
  unreachable,
  unsupportedManifestType,
  badResume,
  type ConnectFailure,
} from './registry-errors.js';
import { verifyingStream } from './verify-stream.js';

export interface RegistryClientOptions {
  /** The registry as references name it: for messages and scopes of credentials. */
  registry: string;
  /** host[:port] to connect to; by default the registry's API host. */
  host?: string;
  /** Plain http allowed, TLS not verified (unless `verifyTls` says otherwise). */
  insecure?: boolean;
  verifyTls?: boolean;
  /** Extra CA certificates (PEM). */
  ca?: readonly string[];
  credentials?: Credentials;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  userAgent?: string;
  /** See TransportOptions.onWaiting. */
  onWaiting?: (registry: string, waitedMs: number) => void;
  /** See TransportOptions.signal. */
  signal?: AbortSignal;
}

/** A manifest or index as the registry served it, checked against its digest and parsed. */
export interface FetchedManifest {
  bytes: Buffer;
  /** The effective media type (the Content-Type, or the document's own for a generic one). */
  mediaType: string;
  /** sha256 of `bytes`, always computed here. */
  digest: Digest;
  size: number;
  parsed: ParsedManifest;
}

export interface FetchBlobOptions {
  /**
   * Resume: the caller has the first `offset` bytes already, and `prefixHash` is a sha256 hash
   * fed with exactly those bytes (it is copied, not consumed). The stream then carries the rest,
   * and verifies the whole blob's digest at its end.
   */
  offset?: number;
  prefixHash?: Hash;
}

export interface PushBlobOptions {
  /** A repository on the same registry that has the blob: mount it from there instead of uploading. */
  mountFrom?: string;
}

export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

/** The operations on one repository of one registry endpoint. */
export interface Repository {
  /** The registry as references name it (docker.io). */
  readonly registry: string;
  /** The repository's path on the endpoint (library/busybox). */
  readonly name: string;
  /**
   * Fetches a manifest or index by tag or digest. The bytes are checked against the digest asked
   * for (and against the Docker-Content-Digest header) and parsed strictly.
   */
  getManifest(reference: string, options?: { accept?: readonly string[] }): Promise<FetchedManifest>;
  /**
   * A blob as a stream that verifies size and digest as it goes and is destroyed with a DenError
   * on a mismatch or a broken connection (then resume with `offset`).
   */
  fetchBlob(descriptor: Descriptor, options?: FetchBlobOptions): Promise<Readable>;
  blobExists(digest: Digest): Promise<boolean>;
  /** Uploads a blob monolithically (POST, then PUT with its digest), or mounts it, or finds it there. */
  pushBlob(descriptor: Descriptor, body: RequestBody, options?: PushBlobOptions): Promise<PushBlobResult>;
  /** Stores a manifest under a tag or its digest; returns its digest. */
  putManifest(reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<Digest>;
  listTags(): Promise<string[]>;
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const CONNECT_FAILURES: ReadonlySet<string | undefined> = new Set<ConnectFailure>([
  'unreachable',
  'tls-failure',
  'plain-http',
]);
const MAX_TAG_PAGES = 100;

interface ClientRequest {
  method: Method;
  /** A path under the registry (/v2/...), or an absolute URL the registry gave (an upload's Location). */
  path?: string;
  url?: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  scopes: readonly string[];
  followRedirects?: boolean;
}

/** What a failed request was about, for docker's wording of the error. */
interface FailureContext {
  op: 'manifest' | 'blob' | 'upload' | 'push-manifest' | 'tags' | 'ping';
  repository?: string;
  reference?: string;
  digest?: string;
}

export class RegistryClient {
  readonly registry: string;
  readonly host: string;
  readonly insecure: boolean;
  private readonly transport: HttpTransport;
  private readonly auth: Authorizer;
  private base: Promise<URL> | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.host = options.host ?? apiHost(options.registry);
    this.insecure = options.insecure ?? false;
    this.transport = new HttpTransport({
      registry: this.registry,
      verifyTls: options.verifyTls ?? !this.insecure,
      ca: options.ca ?? [],
      retry: { ...DEFAULT_RETRY, ...options.retry },
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: options.userAgent ?? 'den',
      ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.auth = new Authorizer({
      registry: this.registry,
      credentials: options.credentials,
      transport: this.transport,
      allowHttpRealm: this.insecure,
    });
  }

  get hasCredentials(): boolean {
    return this.auth.hasCredentials;
  }

  repository(name: string, displayName?: string): Repository {
    if (!isRepositoryPath(name)) {
      throw invalidArgument('DEN0410', `invalid repository name "${name}"`);
    }
    return new RemoteRepository(this, name, displayName ?? `${this.registry}/${name}`);
  }

  /** Closes idle connections. */
  close(): void {
    this.transport.close();
  }

  /** Checks that the registry answers the v2 API, learning its scheme and how it authenticates. */
  async ping(): Promise<void> {
    await this.baseUrl();
  }

  /**
   * Checks credentials the way `docker login` does: a token (or a Basic request) against `/v2/`.
   * A registry without auth accepts anything. Throws DEN0904 on wrong credentials.
   */
  async checkCredentials(): Promise<void> {
    const res = await this.request({ method: 'GET', path: '/v2/', scopes: [] });
    if (res.status === 200) return discard(res);
    if (res.status === 401) {
      discard(res);
      throw unauthorized(this.registry, 'unauthorized: incorrect username or password');
    }
    throw await this.failure(res, { op: 'ping' });
  }

  private baseUrl(): Promise<URL> {
    if (!this.base) {
      const probe = this.probe();
      // A failed ping is not remembered: the next call tries again.
      probe.catch(() => {
        if (this.base === probe) this.base = undefined;
      });
      this.base = probe;
    }
    return this.base;
  }

  private async probe(): Promise<URL> {
    const https = new URL(`https://${this.host}/`);
    if (!this.insecure) return this.pingAt(https, false);
    let tlsError: DenError;
    try {
      // Once, without retries: a plain http registry refuses TLS at once.
      return await this.pingAt(https, true);
    } catch (e) {
      if (!(e instanceof DenError) || !CONNECT_FAILURES.has(e.reason)) throw e;
      tlsError = e;
    }
    try {
      return await this.pingAt(new URL(`http://${this.host}/`), false);
    } catch (e) {
      // An https registry whose handshake failed says more than its refusal of plain http.
      throw tlsError.reason === 'tls-failure' ? tlsError : e;
    }
  }

  private async pingAt(base: URL, once: boolean): Promise<URL> {
    const res = await this.transport.send({
      method: 'GET',
      url: new URL('/v2/', base),
      allowHttp: this.insecure,
      ...(once ? { retry: { ...DEFAULT_RETRY, attempts: 1 } } : {}),
    });
    if (res.status === 401) {
      // How to authenticate; the answer's body does not matter.
      this.auth.learn(res, [], false);
      discard(res);
      return base;
    }
    if (res.status === 200) {
      discard(res);
      return base;
    }
    throw await this.failure(res, { op: 'ping' });
  }

  /** Sends a request with authorization, once more after a 401 when new credentials may help. */
  async request(r: ClientRequest): Promise<HttpResponse> {
    const base = await this.baseUrl();
    const url = r.url ?? new URL(r.path!, base);
    let scopes = r.scopes;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...r.headers };
      // Credentials go to the registry's own origin only, never to a URL it names elsewhere.
      const authorization = url.origin === base.origin ? await this.auth.header(scopes) : undefined;
      if (authorization) headers.authorization = authorization;
      const res = await this.transport.send({
        method: r.method,
        url,
        headers,
        body: r.body,
        followRedirects: r.followRedirects ?? false,
        allowHttp: this.insecure,
      });
      if (res.status !== 401 || attempt > 0 || url.origin !== base.origin) return res;
      const retryScopes = this.auth.learn(res, scopes, authorization !== undefined);
      if (retryScopes === undefined) return res;
      discard(res);
      scopes = retryScopes;
    }
  }

  /** The DenError for an unsuccessful answer, in docker's words where docker has some. */
  async failure(res: HttpResponse, ctx: FailureContext): Promise<DenError> {
    const { codes, detail } = await this.errorDetail(res);
    const registry = this.registry;
    const status = res.status;
    if (status === 401) {
      return unauthorized(
        registry,
        detail || 'unauthorized: authentication required',
        ctx.op === 'manifest' ? ctx.repository : undefined,
      );
    }
    if (status === 403) return denied(registry, detail || 'denied: requested access to the resource is denied');
    if (status === 404) {
      if (ctx.op === 'manifest' && codes.includes('NAME_UNKNOWN')) return repositoryUnknown(ctx.repository ?? registry);
      if (ctx.op === 'manifest') return manifestUnknown(ctx.reference ?? registry);
      if (ctx.op === 'blob') return blobUnknown(ctx.repository ?? registry, ctx.digest ?? '');
      if (ctx.op === 'tags') return repositoryUnknown(ctx.repository ?? registry);
      if (ctx.op === 'ping')
        return protocolError(registry, `HTTP 404 for /v2/: ${this.host} is not a registry (distribution API v2)`);
    }
    if (status === 429 || status >= 500) return serverError(registry, status, detail);
    if (status === 400 && (codes.includes('DIGEST_INVALID') || codes.includes('SIZE_INVALID'))) {
      return invalidArgument(
        'DEN0909',
        `registry ${registry}: ${ctx.reference ?? ctx.digest ?? 'upload'}: ${redact(detail)}`,
      );
    }
    if (status >= 400 && status < 500) {
      return invalidArgument(
        'DEN0926',
        `registry ${registry}: request refused (HTTP ${status})${detail ? `: ${redact(detail)}` : ''}`,
      );
    }
    return protocolError(registry, `HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }

  /** The distribution error body: `{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "..."}]}`. */
  private async errorDetail(res: HttpResponse): Promise<{ codes: string[]; detail: string }> {
    let body: Buffer;
    try {
      body =
        res.status >= 400 ? await readBody(res, MAX_ERROR_BODY_BYTES, 'error body', this.transport) : Buffer.alloc(0);
    } catch {
      return { codes: [], detail: '' };
    } finally {
      res.body.resume();
    }
    try {
      const doc = JSON.parse(body.toString('utf8')) as { errors?: unknown };
      if (!Array.isArray(doc.errors)) return { codes: [], detail: '' };
      const errors = doc.errors.filter(
        (e): e is { code?: unknown; message?: unknown } => typeof e === 'object' && e !== null,
      );
      const codes = errors.map((e) => (typeof e.code === 'string' ? e.code : '')).filter(Boolean);
      const detail = errors
        .map((e) => {
          const code = typeof e.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : '';
          const message = typeof e.message === 'string' ? e.message.slice(0, 300) : '';
          return code && message ? `${code}: ${message}` : code || message;
        })
        .filter(Boolean)
        .join('; ');
      return { codes, detail: redact(detail) };
    } catch {
      return { codes: [], detail: '' };
    }
  }

  /** A failure of the connection under a response that already started (a blob mid-stream). */
  streamError(e: unknown, what: string): DenError {
    if (e instanceof DenError) return e;
    return unreachable(
      this.registry,
      `the connection broke while reading ${what}: ${(e as Error)?.message ?? String(e)}`,
      e,
    );
  }

  readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
    return readBody(res, limit, what, this.transport);
  }
}

class RemoteRepository implements Repository {
  readonly registry: string;

  constructor(
    private readonly client: RegistryClient,
    readonly name: string,
    /** The repository as the person named it, for messages (busybox, localhost:5000/x). */
    private readonly display: string,
  ) {
    this.registry = client.registry;
  }

  private get pull(): string[] {
    return [`repository:${this.name}:pull`];
  }

  private get push(): string[] {
    return [`repository:${this.name}:pull,push`];
  }

  private displayRef(reference: string): string {
    return `${this.display}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  async getManifest(reference: string, options: { accept?: readonly string[] } = {}): Promise<FetchedManifest> {
    const byDigest = checkReference(reference);
    const display = this.displayRef(reference);
    const res = await this.client.request({
      method: 'GET',
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { accept: (options.accept ?? ACCEPTED_MANIFEST_TYPES).join(', ') },
      scopes: this.pull,
      followRedirects: true,
    });
    if (res.status !== 200) {
      throw await this.client.failure(res, { op: 'manifest', repository: this.display, reference: display });
    }
    const bytes = await this.client.readBody(res, MAX_MANIFEST_BYTES, `manifest ${display}`);
    const digest = digestOf(bytes);
    if (byDigest && digest !== reference) throw digestMismatch(`manifest ${display}`, reference, digest);
    const announced = res.headers['docker-content-digest'];
    if (typeof announced === 'string' && isDigest(announced) && announced !== digest) {
      throw digestMismatch(`manifest ${display}`, announced, digest);
    }
    const contentType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, contentType);
    } catch (e) {
      if (e instanceof DenError && e.reason === 'unsupported-media-type') {
        throw unsupportedManifestType(display, contentType);
      }
      if (e instanceof DenError) {
        throw new DenError(e.kind, e.code, `${display}: ${e.message}`, { hint: e.hint, cause: e, reason: e.reason });
      }
      throw e;
    }
    const mediaType = parsed.kind === 'manifest' ? parsed.manifest.mediaType : parsed.index.mediaType;
    return { bytes, mediaType, digest, size: bytes.length, parsed };
  }

  async fetchBlob(descriptor: Descriptor, options: FetchBlobOptions = {}): Promise<Readable> {
    const { digest, size } = descriptor;
    // The digest becomes part of a URL: only a well-formed one.
    parseDigest(digest);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
      throw badResume(`offset ${offset} is outside blob ${digest} of ${size} bytes`);
    }
    if (offset > 0 && options.prefixHash === undefined) {
      throw badResume('an offset needs prefixHash, the hash of the bytes before it, to verify the blob');
    }
    const what = `blob ${digest}`;
    const verify = { offset, ...(options.prefixHash ? { prefixHash: options.prefixHash } : {}) };
    if (offset === size) {
      const done = verifyingStream(descriptor, what, verify);
      done.end();
      return done;
    }
    const res = await this.client.request({
      method: 'GET',
      path: `/v2/${this.name}/blobs/${digest}`,
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      scopes: this.pull,
      followRedirects: true,
    });
    let skip = 0;
    if (res.status === 206 && offset > 0) {
      const range = res.headers['content-range'] ?? '';
      const m = /^bytes ([0-9]+)-([0-9]+)\/([0-9]+|\*)$/.exec(range);
      if (!m || Number(m[1]) !== offset || (m[3] !== '*' && Number(m[3]) !== size)) {
        res.body.destroy();
        throw protocolError(this.registry, `${what}: a ranged answer "${range}" does not continue at byte ${offset}`);
      }
    } else if (res.status === 200) {
      // The server ignored the Range (allowed): drop what the caller already has.
      skip = offset;
    } else {
      throw await this.client.failure(res, { op: 'blob', repository: this.display, digest });
    }
    const declared = res.headers['content-length'];
    if (declared !== undefined && Number(declared) !== size - offset + skip) {
      res.body.destroy();
      throw sizeMismatch(what, size, `${Number(declared) - skip + offset} bytes (by its Content-Length)`);
    }
    const verifier = verifyingStream(descriptor, what, { ...verify, skip });
    res.body.on('error', (e) => verifier.destroy(this.client.streamError(e, what)));
    // Our consumer gave up, or the content failed: stop reading from the network.
    verifier.on('close', () => res.body.destroy());
    res.body.pipe(verifier);
    return verifier;
  }

  async blobExists(digest: Digest): Promise<boolean> {
    parseDigest(digest);
    const res = await this.client.request({
      method: 'HEAD',
      path: `/v2/${this.name}/blobs/${digest}`,
      scopes: this.pull,
      followRedirects: true,
    });
    if (res.status === 200) {
      discard(res);
      return true;
    }
    if (res.status === 404) {
      discard(res);
      return false;
    }
    throw await this.client.failure(res, { op: 'blob', repository: this.display, digest });
  }

  async pushBlob(descriptor: Descriptor, body: RequestBody, options: PushBlobOptions = {}): Promise<PushBlobResult> {
    const { digest, size } = descriptor;
    parseDigest(digest);
    if (Buffer.isBuffer(body)) {
      // Catch our own mistake before the registry does.
      if (body.length !== size) throw sizeMismatch(`blob ${digest}`, size, `${body.length} bytes`);
      const actual = digestOf(body);
      if (actual !== digest) throw digestMismatch(`blob ${digest}`, digest, actual);
    }
    let start: HttpResponse;
    if (options.mountFrom !== undefined) {
      if (!isRepositoryPath(options.mountFrom))
        throw invalidArgument('DEN0410', `invalid repository name "${options.mountFrom}"`);
      const query = new URLSearchParams({ mount: digest, from: options.mountFrom });
      start = await this.client.request({
        method: 'POST',
        path: `/v2/${this.name}/blobs/uploads/?${query.toString()}`,
        scopes: [...this.push, `repository:${options.mountFrom}:pull`],
      });
      if (start.status === 201) {
        discard(start);
        return 'mounted';
      }
    } else {
      if (await this.blobExists(digest)) return 'exists';
      start = await this.client.request({ method: 'POST', path: `/v2/${this.name}/blobs/uploads/`, scopes: this.push });
    }
    if (start.status !== 202)
      throw await this.client.failure(start, { op: 'upload', repository: this.display, digest });
    discard(start);
    const location = start.headers.location;
    if (!location) throw protocolError(this.registry, 'an upload was started without a Location to send it to');
    let url: URL;
    try {
      url = new URL(location, start.url);
    } catch {
      throw protocolError(this.registry, 'an upload Location that is not a URL');
    }
    url.searchParams.set('digest', digest);
    const res = await this.client.request({
      method: 'PUT',
      url,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      scopes: this.push,
    });
    if (res.status !== 201) throw await this.client.failure(res, { op: 'upload', repository: this.display, digest });
    discard(res);
    const stored = res.headers['docker-content-digest'];
    if (typeof stored === 'string' && isDigest(stored) && stored !== digest) {
      throw digestMismatch(`blob ${digest} as stored by the registry`, digest, stored);
    }
    return 'uploaded';
  }

  async putManifest(reference: string, manifest: { bytes: Buffer; mediaType: string }): Promise<Digest> {
    const byDigest = checkReference(reference);
    if (manifest.bytes.length > MAX_MANIFEST_BYTES)
      throw tooLarge(`manifest ${this.displayRef(reference)}`, MAX_MANIFEST_BYTES);
    const digest = digestOf(manifest.bytes);
    if (byDigest && digest !== reference)
      throw digestMismatch(`manifest ${this.displayRef(reference)}`, reference, digest);
    const res = await this.client.request({
      method: 'PUT',
      path: `/v2/${this.name}/manifests/${reference}`,
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      scopes: this.push,
    });
    if (res.status !== 201) {
      throw await this.client.failure(res, {
        op: 'push-manifest',
        repository: this.display,
        reference: this.displayRef(reference),
      });
    }
    discard(res);
    const stored = res.headers['docker-content-digest'];
    if (typeof stored === 'string' && isDigest(stored) && stored !== digest) {
      throw digestMismatch(`manifest ${this.displayRef(reference)} as stored by the registry`, digest, stored);
    }
    return digest;
  }

  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.name}/tags/list`;
    let url: URL | undefined;
    for (let page = 0; page < MAX_TAG_PAGES && (path !== undefined || url !== undefined); page++) {
      const res: HttpResponse = await this.client.request({
        method: 'GET',
        ...(url ? { url } : { path: path! }),
        scopes: this.pull,
        followRedirects: true,
      });
      if (res.status !== 200) throw await this.client.failure(res, { op: 'tags', repository: this.display });
      const body = await this.client.readBody(res, MAX_MANIFEST_BYTES, `tag list of ${this.display}`);
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        throw protocolError(this.registry, `the tag list of ${this.display} is not JSON`);
      }
      const list = (doc as { tags?: unknown } | null)?.tags;
      if (list !== null && list !== undefined) {
        if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) {
          throw protocolError(this.registry, `the tag list of ${this.display} is malformed`);
        }
        tags.push(...(list as string[]));
      }
      // Link: </v2/x/tags/list?last=a&n=100>; rel="next"
      const link = res.headers.link;
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(Array.isArray(link) ? link.join(', ') : (link ?? ''));
      path = undefined;
      url = next ? new URL(next[1]!, res.url) : undefined;
      if (url && url.origin !== res.url.origin) throw protocolError(this.registry, 'a tag list page on another host');
    }
    return tags;
  }
}

/** A tag or a sha256 digest; true for a digest. Refuses anything else before it becomes a URL. */
function checkReference(reference: string): boolean {
  if (reference.includes(':')) {
    parseDigest(reference);
    return true;
  }
  if (!isTag(reference)) throw invalidArgument('DEN0410', `invalid tag "${reference}"`);
  return false;
}
