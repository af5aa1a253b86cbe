/**
 * Which registries den talks to, and how: a small JSON file modelled on containers-registries.conf.
 *
 *   $DEN_REGISTRIES_CONF, else $XDG_CONFIG_HOME/den/registries.json (~/.config/den/registries.json)
 *   {
 *     "unqualified-search-registries": ["docker.io", "quay.io"],
 *     "short-name-mode": "permissive",
 *     "registries": [
 *       { "prefix": "localhost:5000", "insecure": true },
 *       { "prefix": "docker.io", "mirrors": [{ "location": "mirror.example:5000" }] }
 *     ]
 *   }
 *
 * Without the file: search docker.io only, no mirrors, and only loopback registries are insecure.
 *
 * Short names (`busybox`, `me/tool`: no registry host in front) resolve through the search list.
 * The rule, `short-name-mode`:
 *   - "permissive" (the default): a pull tries each search registry in order and takes the first
 *     that has the image. With the default single entry this is docker's behaviour exactly.
 *   - "enforcing": when more than one search registry is configured, a pull asks every one of them
 *     and refuses (DEN0916, listing them) if the name exists in more than one, since which image
 *     you got would depend on the order of a list; a name found in exactly one is taken.
 * A fully qualified name never goes through the search list.
 *
 * Mirrors: a pull of a repository under a prefix with mirrors tries each mirror in order, then the
 * registry itself. A push always goes to the registry itself.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errnoCode, invalidArgument } from '../common/errors.js';
import { DEFAULT_DOMAIN, isRepositoryPath, parseReference, type Reference } from '../images/index.js';
import { badRegistriesConfig } from './registry-errors.js';

export type ShortNameMode = 'permissive' | 'enforcing';

export interface MirrorConfig {
  /** host[:port][/namespace]: the prefix of the repository is replaced by this. */
  location: string;
  insecure: boolean;
}

export interface RegistryConfig {
  /** host[:port][/namespace]: the repositories this entry is about. */
  prefix: string;
  /** Allow plain HTTP and skip TLS verification (docker's insecure-registries). */
  insecure: boolean;
  mirrors: MirrorConfig[];
}

export interface RegistriesConfig {
  unqualifiedSearchRegistries: string[];
  shortNameMode: ShortNameMode;
  registries: RegistryConfig[];
  /** The file this came from, for messages; undefined for the defaults. */
  path?: string;
}

export const DEFAULT_REGISTRIES_CONFIG: RegistriesConfig = {
  unqualifiedSearchRegistries: [DEFAULT_DOMAIN],
  shortNameMode: 'permissive',
  registries: [],
};

/** One place to reach a repository: a registry or one of its mirrors. */
export interface Endpoint {
  /** The registry as named in references and credential files: docker.io, localhost:5000. */
  registry: string;
  /** Where to connect: host[:port] (registry-1.docker.io for docker.io). */
  host: string;
  /** The repository's path on this endpoint: library/busybox. */
  repository: string;
  /** Plain HTTP allowed and TLS not verified. */
  insecure: boolean;
  mirror: boolean;
}

export function registriesConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEN_REGISTRIES_CONF) return env.DEN_REGISTRIES_CONF;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'den', 'registries.json');
}

/** Reads the configuration; a missing file means the defaults. */
export function loadRegistriesConfig(env: NodeJS.ProcessEnv = process.env): RegistriesConfig {
  const path = registriesConfigPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' && !env.DEN_REGISTRIES_CONF) return DEFAULT_REGISTRIES_CONFIG;
    throw badRegistriesConfig(path, `cannot read: ${errnoCode(e) ?? (e as Error).message}`);
  }
  return parseRegistriesConfig(text, path);
}

const HOST =
  /^(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[a-f0-9:]+\])(?::[0-9]{1,5})?$/;

/** Parses and validates the JSON: unknown keys are errors, so a typo does not go unnoticed. */
export function parseRegistriesConfig(text: string, path: string): RegistriesConfig {
  const fail = (why: string) => badRegistriesConfig(path, why);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw fail(`not valid JSON: ${(e as Error).message}`);
  }
  const top = object(doc, '', fail);
  onlyKeys(top, ['unqualified-search-registries', 'short-name-mode', 'registries'], '', fail);
  const config: RegistriesConfig = { ...DEFAULT_REGISTRIES_CONFIG, registries: [], path };
  const search = top['unqualified-search-registries'];
  if (search !== undefined) {
    if (!Array.isArray(search) || search.some((s) => typeof s !== 'string' || !HOST.test(s))) {
      throw fail('"unqualified-search-registries" must be an array of registry host names');
    }
    config.unqualifiedSearchRegistries = [...new Set(search as string[])];
  }
  const mode = top['short-name-mode'];
  if (mode !== undefined) {
    if (mode !== 'permissive' && mode !== 'enforcing')
      throw fail('"short-name-mode" must be "permissive" or "enforcing"');
    config.shortNameMode = mode;
  }
  const registries = top.registries;
  if (registries !== undefined) {
    if (!Array.isArray(registries)) throw fail('"registries" must be an array');
    const seen = new Set<string>();
    registries.forEach((r, i) => {
      const at = `registries[${i}]`;
      const entry = object(r, at, fail);
      onlyKeys(entry, ['prefix', 'insecure', 'mirrors'], at, fail);
      const prefix = location(entry.prefix, `${at}.prefix`, fail);
      if (seen.has(prefix)) throw fail(`${at}.prefix: "${prefix}" is configured twice`);
      seen.add(prefix);
      const mirrors = entry.mirrors ?? [];
      if (!Array.isArray(mirrors)) throw fail(`${at}.mirrors must be an array`);
      config.registries.push({
        prefix,
        insecure: bool(entry.insecure, `${at}.insecure`, fail),
        mirrors: mirrors.map((m, j) => {
          const mat = `${at}.mirrors[${j}]`;
          const mirror = object(m, mat, fail);
          onlyKeys(mirror, ['location', 'insecure'], mat, fail);
          return {
            location: location(mirror.location, `${mat}.location`, fail),
            insecure: bool(mirror.insecure, `${mat}.insecure`, fail),
          };
        }),
      });
    });
  }
  return config;
}

type Fail = (why: string) => Error;

function object(v: unknown, at: string, fail: Fail): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`${at || 'the file'} must be a JSON object`);
  return v as Record<string, unknown>;
}

function onlyKeys(obj: Record<string, unknown>, allowed: string[], at: string, fail: Fail): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw fail(`${at ? `${at}: ` : ''}unknown key "${key}"`);
  }
}

function bool(v: unknown, at: string, fail: Fail): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw fail(`${at} must be true or false`);
  return v;
}

/** host[:port][/path]: lowercase, no scheme. */
function location(v: unknown, at: string, fail: Fail): string {
  if (typeof v !== 'string') throw fail(`${at} must be a string`);
  const [host, ...path] = v.replace(/\/+$/, '').split('/');
  if (!HOST.test(host!) || (path.length > 0 && !isRepositoryPath(path.join('/')))) {
    throw fail(`${at}: "${v}" is not host[:port][/path] (no scheme, lowercase)`);
  }
  return [host, ...path].join('/');
}

/** The entry whose prefix covers a repository (`domain/path`), the longest prefix winning. */
export function registryConfigFor(config: RegistriesConfig, repository: string): RegistryConfig | undefined {
  let best: RegistryConfig | undefined;
  for (const r of config.registries) {
    if (repository === r.prefix || repository.startsWith(`${r.prefix}/`)) {
      if (!best || r.prefix.length > best.prefix.length) best = r;
    }
  }
  return best;
}

/** Loopback registries are insecure unless configured otherwise, as docker has it. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127(?:\.[0-9]{1,3}){3}$/.test(name);
}

function isInsecure(config: RegistriesConfig, repository: string, host: string): boolean {
  const entry = registryConfigFor(config, repository);
  return entry?.insecure === true || isLoopbackRegistry(host);
}

/** Docker Hub's API lives at another host than its name. */
export function apiHost(registry: string): string {
  return registry === DEFAULT_DOMAIN || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** True when a name the person typed has no registry host in front (busybox, me/tool). */
export function isShortName(input: string): boolean {
  const name = input.split('@')[0]!;
  const slash = name.indexOf('/');
  if (slash < 0) return true;
  const first = name.slice(0, slash);
  return !(first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
}

/**
 * The fully qualified references a name may mean: itself when qualified, else one per search
 * registry, in the configured order (docker.io gets its library/ namespace).
 */
export function shortNameCandidates(input: string, config: RegistriesConfig): Reference[] {
  if (!isShortName(input)) return [parseReference(input)];
  // Validates the name itself first, so a malformed one gets the reference error, not ours.
  parseReference(input);
  if (config.unqualifiedSearchRegistries.length === 0) {
    throw invalidArgument('DEN0927', `short name "${input}": no unqualified-search-registries are configured`, {
      hint: `use a fully qualified name (docker.io/library/${input}) or configure ${config.path ?? 'registries.json'}`,
    });
  }
  const seen = new Set<string>();
  const out: Reference[] = [];
  for (const registry of config.unqualifiedSearchRegistries) {
    const ref = parseReference(`${registry}/${input}`);
    const key = `${ref.domain}/${ref.path}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(ref);
    }
  }
  return out;
}

function endpointOf(repository: string, insecure: boolean, mirror: boolean, registryName?: string): Endpoint {
  const slash = repository.indexOf('/');
  const registry = registryName ?? repository.slice(0, slash);
  const host = repository.slice(0, slash);
  return { registry, host: apiHost(host), repository: repository.slice(slash + 1), insecure, mirror };
}

/** Where to pull a repository from: its mirrors in order, then the registry itself. */
export function pullEndpoints(ref: Reference, config: RegistriesConfig): Endpoint[] {
  const repository = `${ref.domain}/${ref.path}`;
  const entry = registryConfigFor(config, repository);
  const out: Endpoint[] = [];
  for (const m of entry?.mirrors ?? []) {
    const rewritten = `${m.location}${repository.slice(entry!.prefix.length)}`;
    const host = rewritten.slice(0, rewritten.indexOf('/'));
    out.push(endpointOf(rewritten, m.insecure || isLoopbackRegistry(host), true));
  }
  out.push(pushEndpoint(ref, config));
  return out;
}

/** Where to push a repository: the registry itself, never a mirror. */
export function pushEndpoint(ref: Reference, config: RegistriesConfig): Endpoint {
  const repository = `${ref.domain}/${ref.path}`;
  return endpointOf(repository, isInsecure(config, repository, ref.domain), false, ref.domain);
}

/** The endpoint for a registry as a whole (login, logout, ping). */
export function registryEndpoint(registry: string, config: RegistriesConfig): Endpoint {
  return {
    registry,
    host: apiHost(registry),
    repository: '',
    insecure: isInsecure(config, registry, registry),
    mirror: false,
  };
}
