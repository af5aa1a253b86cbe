/**
 * Registry credentials: docker's `~/.docker/config.json` and the containers tools' `auth.json`,
 * both `{"auths": {"KEY": {"auth": base64("user:password")}}}` (docker also accepts separate
 * `username`/`password` fields), and the explicit `--creds user:password`.
 *
 * Which file is read, in order (the first file with an entry for the registry wins):
 *   1. `--authfile` when given, and then no other file;
 *   2. docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): den login
 *      writes here, so what den login stored wins over a stale entry of another tool;
 *   3. the containers auth.json: $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
 *      then ~/.config/containers/auth.json (podman, skopeo and buildah share it).
 * Within a file, keys may name a repository namespace (`quay.io/org`): the most specific wins.
 * Credential helpers (`credsStore`, `credHelpers`) and OAuth identity tokens are not supported;
 * an entry that has only those is treated as absent.
 *
 * Files are written atomically with mode 0600: a temporary file in the same directory, fsynced,
 * then renamed, so a crash never leaves a half-written file holding half a password.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode } from '../common/errors.js';
import { redact, registerSecret } from './redact.js';
import { badCreds, badCredentialsFile, credentialsNotWritten } from './registry-errors.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface CredentialFileOptions {
  /** `--authfile`: the only file read, and the file login writes. */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** Credentials found for a registry, and the file they came from. */
export interface FoundCredentials {
  credentials: Credentials;
  source: string;
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

/** docker's config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

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
 * config.json, keeping every other field of the file. Returns the file written.
 */
export function storeCredentials(
  registry: string,
  credentials: Credentials,
  options: CredentialFileOptions = {},
): string {
  const path = options.authFile || dockerConfigPath(options.env ?? process.env);
  const file = readAuthFile(path) ?? { doc: {}, auths: {} };
  const norm = normalizeAuthKey(registry);
  const auths: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.auths)) {
    if (normalizeAuthKey(key) !== norm) define(auths, key, value);
  }
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  registerSecret(auth);
  define(auths, storeKey(registry), { auth });
  define(file.doc, 'auths', auths);
  writeAtomically(path, `${JSON.stringify(file.doc, null, '\t')}\n`);
  return path;
}

/**
 * Removes a registry's credentials from every file den reads them from (or only `--authfile`).
 * Returns the files changed: none means den was not logged in there.
 */
export function removeCredentials(registry: string, options: CredentialFileOptions = {}): string[] {
  const norm = normalizeAuthKey(registry);
  const changed: string[] = [];
  for (const path of credentialFiles(options)) {
    const file = readAuthFile(path);
    if (!file) continue;
    const keys = Object.keys(file.auths).filter((k) => normalizeAuthKey(k) === norm);
    if (keys.length === 0) continue;
    for (const k of keys) delete file.auths[k];
    define(file.doc, 'auths', file.auths);
    writeAtomically(path, `${JSON.stringify(file.doc, null, '\t')}\n`);
    changed.push(path);
  }
  return changed;
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
