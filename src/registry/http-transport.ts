/**
 * HTTP for registries over node:http and node:https: TLS with extra CAs or without verification,
 * timeouts, redirects, and retries of transient failures. It knows nothing about auth or the
 * distribution API; the registry client above it does.
 *
 * Retries: a connection refused or reset, a timeout, 429 and 5xx answers are tried again with
 * exponential backoff and jitter (honouring Retry-After), up to `retry.attempts` tries in all.
 * Other 4xx answers (401, 403, 404) are final and returned at once. A request body is sent again on
 * a retry, so it is a Buffer or a function that opens a fresh stream.
 *
 * Redirects (blob downloads go to storage elsewhere) are followed when asked, up to 5. The
 * Authorization header is dropped as soon as a redirect leaves the origin the request was made to,
 * so a token is never shown to a storage service or a third party; an https -> http redirect is
 * refused unless the registry is insecure.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { abortReason, onAbort, sleepUnlessAborted, throwIfAborted } from '../common/abort.js';
import { DenError, errnoCode } from '../common/errors.js';
import { redactUrl } from './redact.js';
import {
  plainHttpRefused,
  protocolError,
  silentRegistry,
  tlsFailure,
  tooLarge,
  unreachable,
} from './registry-errors.js';

export interface RetryPolicy {
  /** Tries in all, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 8000 };
/** No data for this long, connecting included, fails the request. */
export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
/** The longest Retry-After den honours; a server asking for more gets the error sooner. */
const MAX_RETRY_AFTER_MS = 30_000;

export interface TransportOptions {
  /** The registry, for messages. */
  registry: string;
  /** Verify server certificates. */
  verifyTls: boolean;
  /** Extra CA certificates (PEM), trusted besides the system's. */
  ca: readonly string[];
  retry: RetryPolicy;
  timeoutMs: number;
  userAgent: string;
  /**
   * Told when a request has had no answer for WAIT_NOTICE_MS (once per request), so the person
   * waiting learns why nothing happens: a registry that accepts connections and never answers
   * otherwise keeps a pull silent until the timeouts run out.
   */
  onWaiting?: (registry: string, waitedMs: number) => void;
  /**
   * Stops every request (common/abort.ts): one in flight, its body being read, and a retry's wait
   * fail at once with the abort's reason, which is never retried.
   */
  signal?: AbortSignal;
}

/** How long a request waits for an answer before the caller is told (onWaiting). */
export const WAIT_NOTICE_MS = 5_000;
/**
 * Tries in all for a request that got no answer at all within the timeout: a registry that let it
 * hang once will most likely let it hang again, and each try costs the whole timeout.
 */
const TIMEOUT_ATTEMPTS = 2;

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A body that can be sent more than once. */
export type RequestBody = Buffer | (() => Readable);

export interface HttpRequest {
  method: Method;
  url: URL;
  /** Lowercase names. */
  headers?: Record<string, string>;
  body?: RequestBody;
  followRedirects?: boolean;
  /** Plain http allowed (insecure registries), for the request and its redirects. */
  allowHttp: boolean;
  /** Overrides the transport's policy (1 attempt: no retries). */
  retry?: RetryPolicy;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  /** The body, unread: read it, or destroy it. */
  body: IncomingMessage;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(readonly options: TransportOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: options.verifyTls,
      // `ca` replaces the system's roots in Node: keep them, so a registry's realm or storage on a
      // public host still verifies.
      ...(options.ca.length > 0 ? { ca: [...rootCertificates, ...options.ca] } : {}),
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Sends a request, following redirects and retrying transient failures; see the module comment. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const policy = req.retry ?? this.options.retry;
    const signal = this.options.signal;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      let res: HttpResponse;
      try {
        res = await this.follow(req);
      } catch (e) {
        if (signal?.aborted) throw abortReason(signal);
        const attempts = errnoCode(e) === 'ETIMEDOUT' ? Math.min(policy.attempts, TIMEOUT_ATTEMPTS) : policy.attempts;
        if (attempt < attempts && isTransient(e)) {
          await sleepUnlessAborted(backoff(policy, attempt), signal);
          continue;
        }
        throw this.networkError(e, req.url);
      }
      if (attempt < policy.attempts && RETRY_STATUS.has(res.status)) {
        const delay = retryAfterMs(res.headers['retry-after']) ?? backoff(policy, attempt);
        res.body.resume();
        await sleepUnlessAborted(delay, signal);
        continue;
      }
      return res;
    }
  }

  /** A failure below HTTP as a DenError: TLS, a plain HTTP server, or no connection at all. */
  networkError(e: unknown, url: URL): DenError {
    if (e instanceof DenError) return e;
    const code = errnoCode(e) ?? '';
    const message = (e as Error)?.message ?? String(e);
    const registry = this.options.registry;
    if (/wrong version number|packet length too long/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
      return plainHttpRefused(registry);
    }
    if (isTlsError(code, message)) return tlsFailure(registry, `${message} (${redactUrl(url)})`, e);
    if (code === 'ETIMEDOUT' && /^no response for/.test(message)) {
      return silentRegistry(registry, this.options.timeoutMs / 1000, e);
    }
    return unreachable(registry, `${message}${code && !message.includes(code) ? ` (${code})` : ''}`, e);
  }

  private async follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let method = req.method;
    let body = req.body;
    const headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.once(method, url, headers, body, req.allowHttp);
      if (!req.followRedirects || !REDIRECTS.has(res.status)) return res;
      res.body.resume();
      const registry = this.options.registry;
      if (hop >= MAX_REDIRECTS)
        throw protocolError(registry, `more than ${MAX_REDIRECTS} redirects from ${redactUrl(req.url)}`);
      const location = res.headers.location;
      if (!location) throw protocolError(registry, `HTTP ${res.status} redirect without a Location`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw protocolError(registry, 'a redirect to a malformed URL');
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw protocolError(registry, `a redirect to ${next.protocol} URL`);
      }
      if (next.protocol === 'http:' && !req.allowHttp) {
        throw protocolError(
          registry,
          `a redirect to plain http (${redactUrl(next)}) from a registry that is not insecure`,
        );
      }
      if (next.origin !== url.origin) delete headers.authorization;
      if (res.status === 303) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  private once(
    method: Method,
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
    allowHttp: boolean,
  ): Promise<HttpResponse> {
    if (url.protocol === 'http:' && !allowHttp) return Promise.reject(plainHttpRefused(this.options.registry));
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const payload = typeof body === 'function' ? body() : body;
      const reqHeaders: Record<string, string> = { 'user-agent': this.options.userAgent, ...headers };
      if (Buffer.isBuffer(payload)) reqHeaders['content-length'] = String(payload.length);
      else if (payload === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) {
        reqHeaders['content-length'] = '0';
      }
      const req = (secure ? https : http).request(url, {
        method,
        headers: reqHeaders,
        agent: secure ? this.httpsAgent : this.httpAgent,
        // The socket's idle timeout, from before it connects: covers connecting and stalls.
        timeout: this.options.timeoutMs,
      });
      let response: IncomingMessage | undefined;
      // Aborted: the request, or the body being read, fails with the abort's reason.
      const stopListening = onAbort(this.options.signal, (reason) => {
        response?.destroy(reason);
        req.destroy(reason);
      });
      const notice = this.options.onWaiting
        ? setTimeout(() => this.options.onWaiting?.(this.options.registry, WAIT_NOTICE_MS), WAIT_NOTICE_MS)
        : undefined;
      notice?.unref();
      req.on('close', () => {
        clearTimeout(notice);
        if (!response) stopListening();
      });
      req.on('timeout', () => {
        const err = Object.assign(new Error(`no response for ${this.options.timeoutMs} ms`), { code: 'ETIMEDOUT' });
        response?.destroy(err);
        req.destroy(err);
      });
      req.on('error', (e) => {
        if (response) response.destroy(e);
        else {
          if (payload && !Buffer.isBuffer(payload)) payload.destroy();
          reject(e);
        }
      });
      req.on('response', (res) => {
        clearTimeout(notice);
        response = res;
        res.on('close', stopListening);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      });
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (e) => req.destroy(e));
        payload.pipe(req);
      }
    });
  }
}

/** Reads a whole body, refusing more than `limit` bytes (by Content-Length up front, or as it comes). */
export async function readBody(
  res: HttpResponse,
  limit: number,
  what: string,
  transport: HttpTransport,
): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw tooLarge(what, limit);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        res.body.destroy();
        throw tooLarge(what, limit);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw transport.networkError(e, res.url);
  }
  return Buffer.concat(chunks);
}

/** Drains and discards a body whose content does not matter (a 202, a redirect). */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

function isTransient(e: unknown): boolean {
  if (e instanceof DenError) return false;
  const code = errnoCode(e);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

function isTlsError(code: string, message: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.startsWith('UNABLE_TO_') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'EPROTO' ||
    /certificate|ssl|tls/i.test(message)
  );
}

/** Exponential backoff with jitter: a random delay in [d/2, d], d doubling from the base. */
export function backoff(policy: RetryPolicy, attempt: number): number {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(d / 2 + (Math.random() * d) / 2);
}

/** Retry-After in milliseconds (seconds or an HTTP date), bounded; undefined when absent or bad. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\s*([0-9]+)\s*$/.exec(value);
  // An HTTP date starts with the day's name (IMF-fixdate, RFC 850, asctime); Date.parse alone would
  // take "-1" for a year.
  const date = /^\s*[A-Za-z]{3}/.test(value) ? Date.parse(value) : NaN;
  const ms = seconds ? Number(seconds[1]) * 1000 : date - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
