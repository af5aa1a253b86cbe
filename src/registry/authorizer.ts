/**
 * Authorization for one registry, as the distribution spec and docker's token protocol have it.
 *
 * The registry says how in the WWW-Authenticate of a 401 (first seen on the `/v2/` ping):
 *   - Basic: every request carries `Authorization: Basic base64(user:password)`, when we have
 *     credentials;
 *   - Bearer realm=...,service=...,scope=...: a token for the request's scopes
 *     (`repository:library/busybox:pull`) comes from GET realm?service=S&scope=A&scope=B, with the
 *     credentials as Basic auth when we have them (anonymous tokens otherwise), and is cached by
 *     its scopes until shortly before it expires.
 * The answer may carry `token` or `access_token` (OAuth2's name); den takes either.
 */
import { registerSecret, redactUrl } from './redact.js';
import type { Credentials } from './credentials.js';
import { readBody, type HttpResponse, type HttpTransport } from './http-transport.js';
import { tokenFailure, unauthorized } from './registry-errors.js';
import { bearerChallenge, parseWwwAuthenticate, type BearerChallenge } from './www-authenticate.js';

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** A token without expires_in lives 60 s (the token spec's default and minimum). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are renewed this long before they expire, so that a slow request does not outlive one. */
const EXPIRY_MARGIN_MS = 10_000;

type Scheme = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; challenge: BearerChallenge };

export interface AuthorizerOptions {
  registry: string;
  credentials?: Credentials;
  transport: HttpTransport;
  /** A token realm over plain http is used only for an insecure registry. */
  allowHttpRealm: boolean;
}

export class Authorizer {
  private scheme: Scheme = { kind: 'none' };
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  constructor(private readonly options: AuthorizerOptions) {
    if (options.credentials) registerSecret(options.credentials.password);
  }

  get hasCredentials(): boolean {
    return this.options.credentials !== undefined;
  }

  get schemeKind(): Scheme['kind'] {
    return this.scheme.kind;
  }

  /**
   * Learns the scheme from a 401's challenges. Returns the scopes a retry should ask for (the
   * request's and any the challenge names), or undefined when a retry cannot do better.
   */
  learn(res: HttpResponse, scopes: readonly string[], sentAuthorization: boolean): string[] | undefined {
    const header = res.headers['www-authenticate'];
    const values = res.body.headersDistinct?.['www-authenticate'] ?? (header ? [header] : []);
    if (values.length === 0) return undefined;
    const challenges = parseWwwAuthenticate(values, this.options.registry);
    const bearer = bearerChallenge(challenges, this.options.registry, values.join(', '));
    if (bearer) {
      this.scheme = { kind: 'bearer', challenge: bearer };
      const wanted = new Set(scopes);
      for (const s of bearer.scope?.split(' ') ?? []) if (s) wanted.add(s);
      this.tokens.delete(this.cacheKey(bearer, [...wanted]));
      return [...wanted];
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.scheme = { kind: 'basic' };
      return this.options.credentials && !sentAuthorization ? [...scopes] : undefined;
    }
    return undefined;
  }

  /** The Authorization header for a request needing `scopes`, or undefined for none. */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const creds = this.options.credentials;
    switch (this.scheme.kind) {
      case 'none':
        return undefined;
      case 'basic':
        return creds ? basic(creds) : undefined;
      case 'bearer':
        return `Bearer ${await this.token(this.scheme.challenge, scopes)}`;
    }
  }

  private cacheKey(challenge: BearerChallenge, scopes: readonly string[]): string {
    return `${challenge.realm.href} ${challenge.service ?? ''} ${[...scopes].sort().join(' ')}`;
  }

  private async token(challenge: BearerChallenge, scopes: readonly string[]): Promise<string> {
    const key = this.cacheKey(challenge, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.token;
    const fetched = await this.fetchToken(challenge, scopes);
    this.tokens.set(key, fetched);
    return fetched.token;
  }

  private async fetchToken(
    challenge: BearerChallenge,
    scopes: readonly string[],
  ): Promise<{ token: string; expires: number }> {
    const { registry, transport, credentials } = this.options;
    const url = new URL(challenge.realm);
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
    for (const scope of [...scopes].sort()) url.searchParams.append('scope', scope);
    if (credentials) url.searchParams.set('account', credentials.username);
    if (url.protocol === 'http:' && !this.options.allowHttpRealm) {
      throw tokenFailure(registry, `the token realm ${redactUrl(url)} is plain http and the registry is not insecure`);
    }
    const headers: Record<string, string> = credentials ? { authorization: basic(credentials) } : {};
    const started = Date.now();
    const res = await transport.send({
      method: 'GET',
      url,
      headers,
      followRedirects: true,
      allowHttp: this.options.allowHttpRealm,
    });
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw unauthorized(
        registry,
        credentials ? 'unauthorized: incorrect username or password' : 'unauthorized: authentication required',
      );
    }
    const body = await readBody(
      res,
      MAX_TOKEN_RESPONSE_BYTES,
      `token response from ${redactUrl(url.origin)}`,
      transport,
    );
    if (res.status !== 200) throw tokenFailure(registry, `HTTP ${res.status} from ${redactUrl(url.origin)}`);
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      throw tokenFailure(registry, `the answer of ${redactUrl(url.origin)} is not JSON`);
    }
    const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    const token = typeof d.token === 'string' && d.token !== '' ? d.token : d.access_token;
    if (typeof token !== 'string' || token === '' || /[\s,]/.test(token)) {
      throw tokenFailure(registry, `the answer of ${redactUrl(url.origin)} has no usable token`);
    }
    registerSecret(token);
    const seconds =
      typeof d.expires_in === 'number' && Number.isFinite(d.expires_in) && d.expires_in > 0
        ? d.expires_in
        : DEFAULT_TOKEN_SECONDS;
    // Measured from when we asked, on our clock: issued_at is the server's, and clocks differ.
    const expires = started + Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, 0);
    return { token, expires };
  }
}

function basic(creds: Credentials): string {
  const encoded = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  registerSecret(encoded);
  return `Basic ${encoded}`;
}
