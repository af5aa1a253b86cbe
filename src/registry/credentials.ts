/**
 * Registry credentials: docker's `~/.docker/config.json` and the containers tools' `auth.json`,
 * both `{"auths": {"KEY": {"auth": base64("user:password")}}}` (docker also accepts separate
 * `username`/`password` fields), docker's credential helpers, and the explicit `--creds user:password`.
 *
 * Which file is read, in order (the first file with credentials for the registry wins):
 *   1. `--authfile` when given, and then no other file;
 *   2. docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): den login
 *      writes here, so what den login stored wins over a stale entry of another tool;
 *   3. the containers auth.json: $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
 *      then ~/.config/containers/auth.json (podman, skopeo and buildah share it).
 * Within a file, keys may name a repository namespace (`quay.io/org`): the most specific wins.
 *
 * Credential helpers (credential-helper.ts), as docker has them: a file's `credHelpers[registry]`,
 * else its `credsStore`, names a program `docker-credential-NAME` that holds the secrets of that
 * registry. When one applies, it alone answers for the registry in that file: docker then keeps
 * only an empty placeholder in `auths`, and a password left there from before is stale. An empty
 * name in `credHelpers` keeps that registry in the file even when `credsStore` is set. Helpers
 * keep one login per registry host, so a namespaced key never goes to a helper. The helper is
 * asked with docker's key: `https://index.docker.io/v1/` for Docker Hub, else the host
 * (`localhost:5000`), so den and docker find each other's logins. OAuth identity tokens (from a
 * helper, or an `identitytoken` entry in a file) are not supported: see helperGet.
 *
 * Files are written atomically with mode 0600: a temporary file in the same directory, fsynced,
 * then renamed, so a crash never leaves a half-written file holding half a password.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { dockerConfigPath } from '../common/docker-config.js';
import { errnoCode } from '../common/errors.js';
import { helperErase, helperGet, helperStore, type HelperContext } from './credential-helper.js';
import { redact, registerSecret } from './redact.js';
import { badCreds, badCredentialsFile, credentialsNotWritten, helperNamespaced } from './registry-errors.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface CredentialFileOptions {
  /** `--authfile`: the only file read, and the file login writes. */
  authFile?: string;
  /** Where files are found (HOME, DOCKER_CONFIG...), and credential helpers' environment and PATH. */
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may take before it is killed; default 30 s (tests shorten it). */
  helperTimeoutMs?: number;
}

/** Credentials found for a registry, the file they came from, and the helper that held them. */
export interface FoundCredentials {
  credentials: Credentials;
  source: string;
  /** docker-credential-NAME, when the file's credential helper answered. */
  helper?: string;
}

/** The key docker uses for Docker Hub in config.json. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Parses `--creds USERNAME:PASSWORD`. The password may contain colons; the username may not. */
export function parseCreds(value: string): Credentials {
  const colon = value.indexOf(':');
  if (colon < 0) throw badCreds('no password given');
  const username = value.slice(0, colon);
  const password = value.slice(colon + 1);
  registerSecret(password);
  if (username === '') throw badCreds('empty username');
  if (password === '') throw badCreds('empty password');
  return { username, password };
}

export { dockerConfigPath };

/** The containers tools' auth.json files, in the order they are read. */
export function containersAuthPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const paths: string[] = [];
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'containers', 'auth.json'));
  return paths;
}

/** Every file credentials are read from, in order (see the module comment). */
export function credentialFiles(options: CredentialFileOptions = {}): string[] {
  if (options.authFile) return [options.authFile];
  const env = options.env ?? process.env;
  return [dockerConfigPath(env), ...containersAuthPaths(env)];
}

/**
 * The form of an `auths` key that compares: no scheme, no /v1/ or /v2/ suffix, a lowercase host,
 * Docker Hub's many names as docker.io.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  k = k.replace(/\/+$/, '').replace(/\/v[12]$/, '');
  const slash = k.indexOf('/');
  const host = (slash < 0 ? k : k.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '' : k.slice(slash);
  return `${DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host}${path}`;
}

/** The key a login stores: docker's own spelling for Docker Hub, else the normalised name. */
function storeKey(registry: string): string {
  const k = normalizeAuthKey(registry);
  return k === 'docker.io' ? DOCKER_HUB_KEY : k;
}

/** A normalised key without its namespace: the registry host. */
const hostOf = (norm: string): string => norm.split('/')[0]!;

/** What may follow `docker-credential-`: a name, never a path. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The credential helper a file names for a registry host, as docker chooses it: the
 * `credHelpers` entry for the registry, else `credsStore`. An empty name means the file itself.
 */
function helperFor(path: string, file: AuthFile, host: string): HelperContext | undefined {
  const { credHelpers, credsStore } = file.doc;
  let name: unknown;
  let field: HelperContext['field'] | undefined;
  if (credHelpers !== undefined) {
    if (typeof credHelpers !== 'object' || credHelpers === null || Array.isArray(credHelpers)) {
      throw badCredentialsFile(path, '"credHelpers" is not an object');
    }
    const helpers = credHelpers as Record<string, unknown>;
    const key = Object.keys(helpers).find((k) => normalizeAuthKey(k) === host);
    if (key !== undefined) {
      name = helpers[key];
      field = { credHelpers: key };
    }
  }
  if (field === undefined && credsStore !== undefined) {
    name = credsStore;
    field = 'credsStore';
  }
  if (field === undefined) return undefined;
  const what = typeof field === 'string' ? '"credsStore"' : `"credHelpers" entry "${field.credHelpers}"`;
  if (typeof name !== 'string') throw badCredentialsFile(path, `${what} is not a string`);
  if (name === '') return undefined;
  if (!HELPER_NAME.test(name)) throw badCredentialsFile(path, `${what}: "${name}" is not a credential helper name`);
  return { program: `docker-credential-${name}`, registry: host, path, field };
}

function helperOptions(options: CredentialFileOptions): { env: NodeJS.ProcessEnv; timeoutMs?: number } {
  return {
    env: options.env ?? process.env,
    ...(options.helperTimeoutMs !== undefined ? { timeoutMs: options.helperTimeoutMs } : {}),
  };
}

type AuthFile = { doc: Record<string, unknown>; auths: Record<string, unknown> };

function readAuthFile(path: string): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw badCredentialsFile(path, `cannot read: ${errnoCode(e) ?? (e as Error).message}`);
  }
  if (text.trim() === '') return { doc: {}, auths: {} };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Never the parser's message: it quotes the text around the error, which may be a password.
    throw badCredentialsFile(path, 'not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw badCredentialsFile(path, 'not a JSON object');
  }
  const record = doc as Record<string, unknown>;
  const auths = record.auths ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw badCredentialsFile(path, '"auths" is not an object');
  }
  return { doc: record, auths: auths as Record<string, unknown> };
}

function entryCredentials(path: string, key: string, entry: unknown): Credentials | undefined {
  const fail = (why: string) => badCredentialsFile(path, `entry "${key}": ${why}`);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw fail('not an object');
  const e = entry as Record<string, unknown>;
  if (typeof e.auth === 'string' && e.auth !== '') {
    registerSecret(e.auth);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(e.auth)) throw fail('"auth" is not base64');
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw fail('"auth" does not decode to username:password');
    const creds = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    registerSecret(creds.password);
    return creds;
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '') {
    registerSecret(e.password);
    return { username: e.username, password: e.password };
  }
  if (e.auth !== undefined && typeof e.auth !== 'string') throw fail('"auth" is not a string');
  return undefined;
}

/**
 * The credentials stored for `registry` (docker.io, localhost:5000) and, when given, `repository`
 * (library/busybox), from the files of `credentialFiles`; undefined when none has an entry.
 */
export function lookupCredentials(
  registry: string,
  repository: string | undefined,
  options: CredentialFileOptions = {},
): FoundCredentials | undefined {
  const host = normalizeAuthKey(registry);
  // quay.io/org/repo, quay.io/org, quay.io: most specific first.
  const wanted = [host];
  if (repository) {
    const parts = repository.split('/');
    for (let i = 1; i <= parts.length; i++) wanted.unshift(`${host}/${parts.slice(0, i).join('/')}`);
  }
  for (const path of credentialFiles(options)) {
    const file = readAuthFile(path);
    if (!file) continue;
    const helper = helperFor(path, file, host);
    if (helper) {
      // When a helper applies, docker asks it alone: the file's `auths` entry is a placeholder.
      const credentials = helperGet(helper, storeKey(host), helperOptions(options));
      if (credentials) return { credentials, source: path, helper: helper.program };
      continue;
    }
    const byKey = new Map<string, string>();
    for (const key of Object.keys(file.auths)) {
      const norm = normalizeAuthKey(key);
      if (!byKey.has(norm)) byKey.set(norm, key);
    }
    for (const w of wanted) {
      const key = byKey.get(w);
      if (key === undefined) continue;
      const credentials = entryCredentials(path, key, file.auths[key]);
      if (credentials) return { credentials, source: path };
    }
  }
  return undefined;
}

/**
 * Stores credentials for a registry (after `login` has checked them) in `--authfile`, else docker's
 * config.json, keeping every other field of the file. When that file names a credential helper
 * for the registry, the helper stores them, and the file gets docker's empty entry for the
 * registry and no secret. Returns the file written.
 */
export function storeCredentials(
  registry: string,
  credentials: Credentials,
  options: CredentialFileOptions = {},
): string {
  const path = options.authFile || dockerConfigPath(options.env ?? process.env);
  const file = readAuthFile(path) ?? { doc: {}, auths: {} };
  const norm = normalizeAuthKey(registry);
  const helper = helperFor(path, file, hostOf(norm));
  let entry: Record<string, unknown>;
  if (helper) {
    if (norm !== helper.registry) throw helperNamespaced(helper, norm);
    // The helper first: if it fails, the file still says what it said before.
    helperStore(helper, storeKey(norm), credentials, helperOptions(options));
    entry = {};
  } else {
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    registerSecret(auth);
    entry = { auth };
  }
  const auths: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.auths)) {
    if (normalizeAuthKey(key) !== norm) define(auths, key, value);
  }
  define(auths, storeKey(registry), entry);
  define(file.doc, 'auths', auths);
  writeAtomically(path, `${JSON.stringify(file.doc, null, '\t')}\n`);
  return path;
}

/**
 * Removes a registry's credentials from every file den reads them from (or only `--authfile`), and
 * from the credential helper each file names for it. Returns the files changed and the helpers
 * (docker-credential-NAME) that held an entry: none means den was not logged in there.
 */
export function removeCredentials(registry: string, options: CredentialFileOptions = {}): string[] {
  const norm = normalizeAuthKey(registry);
  const changed: string[] = [];
  const asked = new Set<string>();
  for (const path of credentialFiles(options)) {
    const file = readAuthFile(path);
    if (!file) continue;
    const helper = norm === hostOf(norm) ? helperFor(path, file, norm) : undefined;
    if (helper && !asked.has(helper.program)) {
      asked.add(helper.program);
      // The helper before the file, as docker does: if it fails, the placeholder still shows the login.
      let erased = false;
      for (const url of helperKeys(norm)) erased = helperErase(helper, url, helperOptions(options)) || erased;
      if (erased) changed.push(helper.program);
    }
    const keys = Object.keys(file.auths).filter((k) => normalizeAuthKey(k) === norm);
    if (keys.length === 0) continue;
    for (const k of keys) delete file.auths[k];
    define(file.doc, 'auths', file.auths);
    writeAtomically(path, `${JSON.stringify(file.doc, null, '\t')}\n`);
    changed.push(path);
  }
  return changed;
}

/**
 * The keys a helper may hold a registry under: den's and today's docker's, then the scheme-prefixed
 * forms an older `docker login https://host` stored (docker's logout tries them too).
 */
function helperKeys(norm: string): string[] {
  const key = storeKey(norm);
  return key === DOCKER_HUB_KEY ? [key] : [key, `https://${key}`, `http://${key}`];
}

/** Sets a key as an own property, so that "__proto__" from a file stays a plain key. */
function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created 0600 from the start: the password is never readable by others, not even briefly.
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      const data = Buffer.from(text);
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw credentialsNotWritten(path, redact(errnoCode(e) ?? (e as Error).message), e);
  }
}
