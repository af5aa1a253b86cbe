/**
 * Docker's credential helper protocol (docker-credential-helpers): a program
 * `docker-credential-NAME` in PATH, run once per operation with one verb as its argument:
 *
 *   get    stdin: the server URL          stdout: {"ServerURL": ..., "Username": ..., "Secret": ...}
 *   store  stdin: {"ServerURL": ..., "Username": ..., "Secret": ...}
 *   erase  stdin: the server URL
 *
 * A non-zero exit is a failure, and its stdout the message; "credentials not found in native
 * keychain" (every helper prints the library's words) means there is nothing for that URL, which
 * is an answer, not a failure. `list` exists too; den has no use for it.
 *
 * The helper runs synchronously (credentials are looked up synchronously when a registry client
 * is made), with a time limit after which it is killed: a helper waiting for a keyring to be
 * unlocked or a passphrase to be typed must not hang den forever. Secrets that come back are
 * registered for redaction before anything else happens with them, and a helper's output is never
 * quoted in an error unless it failed (then it is its error message, redacted).
 */
import { spawnSync } from 'node:child_process';
import { errnoCode } from '../common/errors.js';
import type { Credentials } from './credentials.js';
import { registerSecret } from './redact.js';
import {
  helperFailed,
  helperGarbage,
  helperIdentityToken,
  helperMissing,
  helperTimeout,
  type HelperContext,
} from './registry-errors.js';

export type { HelperContext } from './registry-errors.js';

export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

/** More than any credential; a helper that writes more is not speaking the protocol. */
const MAX_OUTPUT_BYTES = 1 << 20;

/** The username docker stores with an identity token (an OAuth refresh token) as the secret. */
const TOKEN_USERNAME = '<token>';

export interface HelperRunOptions {
  /** The helper's environment, and the PATH it is found in. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default DEFAULT_HELPER_TIMEOUT_MS. */
  timeoutMs?: number;
}

type Outcome = { ok: true; stdout: string } | { ok: false; notFound: boolean; status: string; message: string };

function run(h: HelperContext, verb: string, input: string, options: HelperRunOptions): Outcome {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  const r = spawnSync(h.program, [verb], {
    input,
    // The helper needs the whole environment: pass needs GNUPGHOME and the agent, secretservice the
    // session bus, ecr-login the AWS variables. It gets nothing from den but its stdin.
    env: options.env ?? process.env,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const code = errnoCode(r.error);
  if (code === 'ETIMEDOUT') throw helperTimeout(h, verb, timeoutMs);
  if (code === 'ENOENT') throw helperMissing(h, 'not found in PATH', r.error);
  if (code === 'EACCES') throw helperMissing(h, 'cannot be run (permission denied)', r.error);
  if (code === 'ENOBUFS') throw helperGarbage(h, verb, `more than ${MAX_OUTPUT_BYTES} bytes`);
  // An error with an exit status (EPIPE: it exited without reading its stdin) is judged by the status.
  if (r.status === null && r.signal === null) {
    throw helperFailed(h, verb, `cannot run: ${code ?? r.error?.message ?? 'unknown error'}`, '');
  }
  if (r.status === 0) return { ok: true, stdout: r.stdout };
  const message = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
  return {
    ok: false,
    notFound: /credentials not found/i.test(r.stdout),
    status: r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`,
    message,
  };
}

/**
 * The credentials the helper holds for `serverUrl`; undefined when it has none. An identity token
 * is refused with a clear error rather than treated as absent, so the person learns why den is
 * anonymous where docker is not.
 */
export function helperGet(
  h: HelperContext,
  serverUrl: string,
  options: HelperRunOptions = {},
): Credentials | undefined {
  const out = run(h, 'get', serverUrl, options);
  if (!out.ok) {
    if (out.notFound) return undefined;
    throw helperFailed(h, 'get', out.status, out.message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(out.stdout);
  } catch {
    // Never the parser's message, nor the output: it quotes the text, which may hold the secret.
    throw helperGarbage(h, 'get', 'something that is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw helperGarbage(h, 'get', 'JSON that is not an object');
  }
  const { Username: username = '', Secret: secret = '' } = doc as Record<string, unknown>;
  if (typeof secret === 'string') registerSecret(secret);
  if (typeof username !== 'string' || typeof secret !== 'string') {
    throw helperGarbage(h, 'get', 'a Username or Secret that is not a string');
  }
  if (username === '' && secret === '') return undefined;
  if (username === TOKEN_USERNAME) {
    // An identity token is an OAuth refresh token: it is traded at the registry's token server for
    // an access token (grant_type=refresh_token), which den's authorizer does not do. Sent as a
    // Basic password it would fail with a misleading 401, or reach a registry it was not meant for.
    throw helperIdentityToken(h);
  }
  if (username === '' || secret === '') {
    throw helperGarbage(h, 'get', username === '' ? 'a Secret without a Username' : 'a Username without a Secret');
  }
  return { username, password: secret };
}

/** Stores credentials in the helper under `serverUrl`, replacing what it had there. */
export function helperStore(
  h: HelperContext,
  serverUrl: string,
  credentials: Credentials,
  options: HelperRunOptions = {},
): void {
  registerSecret(credentials.password);
  const input = `${JSON.stringify({ ServerURL: serverUrl, Username: credentials.username, Secret: credentials.password })}\n`;
  const out = run(h, 'store', input, options);
  if (!out.ok) throw helperFailed(h, 'store', out.status, out.message);
}

/** Erases what the helper holds for `serverUrl`. Returns false when it held nothing there. */
export function helperErase(h: HelperContext, serverUrl: string, options: HelperRunOptions = {}): boolean {
  const out = run(h, 'erase', serverUrl, options);
  if (out.ok) return true;
  if (out.notFound) return false;
  throw helperFailed(h, 'erase', out.status, out.message);
}
