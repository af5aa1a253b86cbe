/**
 * The registries one command talks to: short names resolved through the search list, mirrors
 * before registries, credentials and CA certificates looked up per registry, one client (and so
 * one set of connections and tokens) per endpoint. This is what `den pull` and `den push` hold:
 *
 *   const registries = new Registries({ credentials, tlsVerify });
 *   try {
 *     const source = await registries.getManifest('busybox');          // short name, mirrors
 *     const image = await resolvePlatformManifest(source.repository, source.manifest, platform);
 *     for (const layer of image.image.layers) await store(await source.repository.fetchBlob(layer));
 *   } finally {
 *     registries.close();
 *   }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DenError, errnoCode, invalidArgument } from '../common/errors.js';
import {
  ACCEPTED_MANIFEST_TYPES,
  checkContainerImage,
  familiarRepository,
  formatPlatform,
  formatReference,
  hostPlatform,
  selectPlatform,
  type ImageManifest,
  type Platform,
  type Reference,
} from '../images/index.js';
import { lookupCredentials, type Credentials } from './credentials.js';
import type { RetryPolicy } from './http-transport.js';
import {
  isShortName,
  loadRegistriesConfig,
  pullEndpoints,
  pushEndpoint,
  registryEndpoint,
  shortNameCandidates,
  type Endpoint,
  type RegistriesConfig,
} from './registries-config.js';
import { RegistryClient, type FetchedManifest, type Repository } from './registry-client.js';
import { ambiguousShortName, sizeMismatch, tlsFailure } from './registry-errors.js';

export interface RegistriesOptions {
  /** Default: loadRegistriesConfig(env). */
  config?: RegistriesConfig;
  /** `--creds`: used for the registries the command names, never sent to a mirror. */
  credentials?: Credentials;
  /** `--authfile`. */
  authFile?: string;
  /**
   * `--tls-verify`. Undefined: by the configuration (insecure registries, loopback). false: no
   * verification and plain http allowed, as podman has it. true: verified https even for loopback.
   */
  tlsVerify?: boolean;
  /** `--cert-dir`: CA certificates (*.crt) trusted for every registry. */
  certDir?: string;
  /** Directories of HOST/*.crt CA files; default /etc/containers/certs.d, /etc/docker/certs.d, ~/.config/containers/certs.d. */
  certsDirs?: readonly string[];
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  userAgent?: string;
  env?: NodeJS.ProcessEnv;
  /** Told when a registry has not answered a request for a while (see HttpTransport). */
  onWaiting?: (registry: string, waitedMs: number) => void;
  /** Stops every request of every registry (see HttpTransport). */
  signal?: AbortSignal;
}

/** A manifest found for a name, and where: fetch the blobs it names from `repository`. */
export interface ManifestSource {
  /** The fully qualified reference that resolved (the search registry a short name went to). */
  reference: Reference;
  /** A mirror's or the registry's repository: the one that answered. */
  repository: Repository;
  endpoint: Endpoint;
  manifest: FetchedManifest;
}

/** An image manifest for one platform, and the index it was chosen from. */
export interface PlatformManifest {
  index?: FetchedManifest;
  manifest: FetchedManifest;
  image: ImageManifest;
}

export class Registries {
  readonly config: RegistriesConfig;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clients = new Map<string, RegistryClient>();
  /** Looked-up credentials by registry and repository: a credential helper is a process to run. */
  private readonly credentials = new Map<string, Credentials | undefined>();

  constructor(private readonly options: RegistriesOptions = {}) {
    this.env = options.env ?? process.env;
    this.config = options.config ?? loadRegistriesConfig(this.env);
  }

  /** The fully qualified references a name may mean, in search order. */
  candidates(name: string): Reference[] {
    return shortNameCandidates(name, this.config);
  }

  /**
   * Finds a manifest (or index) for a name as typed or a parsed reference, trying mirrors before
   * the registry, and a short name's search registries by the configured short-name mode (see
   * registries-config.ts). The error of a failure is the registry's own (not a mirror's), and of
   * the first search registry for a short name, with what the others said in its hint.
   */
  async getManifest(name: string | Reference, options: { accept?: readonly string[] } = {}): Promise<ManifestSource> {
    const candidates = typeof name === 'string' ? this.candidates(name) : [name];
    const short = typeof name === 'string' && isShortName(name) && candidates.length > 1;
    if (!short) return this.fromEndpoints(candidates[0]!, options);
    if (this.config.shortNameMode === 'enforcing') {
      const results = await Promise.allSettled(candidates.map((ref) => this.fromEndpoints(ref, options)));
      const found = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (found.length > 1)
        throw ambiguousShortName(
          name,
          found.map((f) => formatReference(f.reference)),
        );
      if (found.length === 1) return found[0]!;
      throw combined(
        results.map((r) => (r as PromiseRejectedResult).reason),
        candidates,
      );
    }
    const errors: unknown[] = [];
    for (const ref of candidates) {
      try {
        return await this.fromEndpoints(ref, options);
      } catch (e) {
        errors.push(e);
      }
    }
    throw combined(errors, candidates);
  }

  /** `getManifest`, then the manifest for `platform` (default: this host's) if it is an index. */
  async resolveImage(name: string | Reference, platform?: Platform): Promise<ManifestSource & PlatformManifest> {
    const source = await this.getManifest(name);
    const resolved = await resolvePlatformManifest(source.repository, source.manifest, platform);
    return { ...source, ...resolved };
  }

  /** The repository on the registry itself (no mirrors): for pushes. */
  repository(ref: Reference): Repository {
    const endpoint = pushEndpoint(ref, this.config);
    return this.client(endpoint, ref.path).repository(endpoint.repository, familiarRepository(ref));
  }

  /** The client of a registry as a whole (login, ping). */
  registryClient(registry: string): RegistryClient {
    return this.client(registryEndpoint(registry, this.config), undefined);
  }

  /** The client for an endpoint, made once and shared (connections, scheme, tokens). */
  client(endpoint: Endpoint, repository: string | undefined): RegistryClient {
    const credentials = this.credentialsFor(endpoint, repository);
    const key = `${endpoint.host} ${endpoint.insecure} ${credentials?.username ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      const tlsVerify = this.options.tlsVerify;
      client = new RegistryClient({
        registry: endpoint.registry,
        host: endpoint.host,
        insecure: tlsVerify === undefined ? endpoint.insecure : !tlsVerify,
        ca: this.caCertificates(endpoint),
        ...(credentials ? { credentials } : {}),
        ...(this.options.retry ? { retry: this.options.retry } : {}),
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(this.options.userAgent !== undefined ? { userAgent: this.options.userAgent } : {}),
        ...(this.options.onWaiting ? { onWaiting: this.options.onWaiting } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private async fromEndpoints(ref: Reference, options: { accept?: readonly string[] }): Promise<ManifestSource> {
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const endpoints = pullEndpoints(ref, this.config);
    let last: unknown;
    for (const endpoint of endpoints) {
      try {
        const repository = this.client(endpoint, endpoint.mirror ? endpoint.repository : ref.path).repository(
          endpoint.repository,
          familiarRepository(ref),
        );
        const manifest = await repository.getManifest(tagOrDigest, options.accept ? { accept: options.accept } : {});
        return { reference: ref, repository, endpoint, manifest };
      } catch (e) {
        // A mirror's failure only sends us on to the next; the registry's own is the one reported.
        last = e;
      }
    }
    throw last;
  }

  private credentialsFor(endpoint: Endpoint, repository: string | undefined): Credentials | undefined {
    if (this.options.credentials && !endpoint.mirror) return this.options.credentials;
    const key = `${endpoint.registry} ${repository ?? ''}`;
    if (this.credentials.has(key)) return this.credentials.get(key);
    const options = { env: this.env, ...(this.options.authFile ? { authFile: this.options.authFile } : {}) };
    const found = lookupCredentials(endpoint.registry, repository, options)?.credentials;
    this.credentials.set(key, found);
    return found;
  }

  /** CA certificates for an endpoint: --cert-dir's, then HOST/*.crt of the certs.d directories. */
  private caCertificates(endpoint: Endpoint): string[] {
    const home = this.env.HOME || homedir();
    const dirs = this.options.certsDirs ?? [
      '/etc/containers/certs.d',
      '/etc/docker/certs.d',
      join(this.env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'certs.d'),
    ];
    const out: string[] = [];
    if (this.options.certDir) out.push(...readCerts(this.options.certDir, endpoint.registry, true));
    for (const dir of dirs) {
      for (const name of new Set([endpoint.registry, endpoint.host]))
        out.push(...readCerts(join(dir, name), endpoint.registry, false));
    }
    return out;
  }
}

function readCerts(dir: string, registry: string, required: boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.crt'))
      .sort();
  } catch (e) {
    if (!required && (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR')) return [];
    throw tlsFailure(registry, `cannot read CA certificates in ${dir}: ${errnoCode(e) ?? (e as Error).message}`, e);
  }
  return names.map((n) => {
    try {
      return readFileSync(join(dir, n), 'utf8');
    } catch (e) {
      throw tlsFailure(
        registry,
        `cannot read CA certificate ${join(dir, n)}: ${errnoCode(e) ?? (e as Error).message}`,
        e,
      );
    }
  });
}

/** The first candidate's error, with what the others said as its hint. */
function combined(errors: unknown[], candidates: Reference[]): unknown {
  const first = errors[0];
  if (!(first instanceof DenError) || errors.length < 2) return first;
  const others = errors
    .slice(1)
    .map((e, i) => `${formatReference(candidates[i + 1]!)}: ${e instanceof DenError ? e.message : String(e)}`);
  return new DenError(first.kind, first.code, first.message, {
    hint: [first.hint, `also tried ${others.join('; ')}`].filter(Boolean).join('; '),
    cause: first,
  });
}

/**
 * The image manifest for a platform: `fetched` itself when it is a manifest, else the index's entry
 * for the platform (default: this host's), fetched by digest from the same repository and checked
 * against the index's size. Refuses what is not a container image (artifacts).
 */
export async function resolvePlatformManifest(
  repository: Repository,
  fetched: FetchedManifest,
  platform: Platform = hostPlatform(),
): Promise<PlatformManifest> {
  if (fetched.parsed.kind === 'manifest') {
    checkContainerImage(fetched.parsed.manifest);
    return { manifest: fetched, image: fetched.parsed.manifest };
  }
  const entry = selectPlatform(fetched.parsed.index, platform);
  const child = await repository.getManifest(entry.digest, { accept: ACCEPTED_MANIFEST_TYPES });
  if (child.size !== entry.size) throw sizeMismatch(`manifest ${entry.digest}`, entry.size, `${child.size} bytes`);
  if (child.parsed.kind !== 'manifest') {
    throw invalidArgument(
      'DEN0913',
      `malformed image index: the entry for ${formatPlatform(platform)} is itself an index`,
    );
  }
  checkContainerImage(child.parsed.manifest);
  return { index: fetched, manifest: child, image: child.parsed.manifest };
}
