/**
 * The API's routes: `METHOD /path/{param}` patterns matched against a request's path once its
 * `/v1.xx` prefix is gone. `{name*}` takes the rest of the path, slashes included, as image names
 * have them (`/images/127.0.0.1:5000/team/app:1/json`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineContext } from '../engine/index.js';
import { invalidArgument } from '../common/errors.js';

export interface ApiCall {
  ctx: EngineContext;
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for (its /v1.xx prefix), or the server's. */
  version: string;
  /** Aborted when the client's connection closes, or the service stops: long waits and follows end with it. */
  signal: AbortSignal;
  /** The headers every answer carries (Api-Version ...), for answers written on a hijacked connection. */
  headers: Record<string, string>;
  /** The connection, when the client asked to take it over (Upgrade: tcp, attach and exec start). */
  upgrade?: { socket: Duplex; head: Buffer };
}

/** An answer a handler returns: sent as JSON, or nothing (204) when body is undefined. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A handler returns its reply, or undefined when it wrote the response itself (streams). */
export type Handler = (call: ApiCall) => Promise<Reply | undefined> | Reply | undefined;

export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(routes: readonly Route[]): this {
    for (const route of routes) {
      const names: string[] = [];
      const source = route.pattern
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\\?\{(\w+)(\\\*)?\}/g, (_m, name, rest) => {
          names.push(name as string);
          return rest ? '(.+)' : '([^/]+)';
        });
      this.routes.push({ ...route, regex: new RegExp(`^${source}/?$`), names });
    }
    return this;
  }

  /** The route for a method and path; `allowed` lists the methods the path has when the method is wrong. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      // HEAD is answered by a GET route unless a HEAD route comes first.
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      return { route, params };
    }
    return { allowed };
  }
}

/** docker's boolean query values: 1, true, True (and the like) are true; 0, false, absent are not. */
export function queryBool(query: URLSearchParams, name: string, fallback = false): boolean {
  const v = query.get(name);
  if (v === null || v === '') return fallback;
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw invalidArgument('DEN1408', `invalid value for ${name}: ${JSON.stringify(v)} is not a boolean`, {
    hint: 'use 1, true, 0 or false',
  });
}

/** A whole-number query value (negative allowed when asked), or the fallback when absent. */
export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?[0-9]+$/.test(v)) {
    throw invalidArgument('DEN1408', `invalid value for ${name}: ${JSON.stringify(v)} is not a whole number`);
  }
  return Number(v);
}

/**
 * docker's `filters` query: JSON of `{"key": ["value", ...]}` (or the older `{"key": {"value":
 * true}}`), as `KEY=VALUE` entries, the form den's filter parsers take.
 */
export function queryFilters(query: URLSearchParams): string[] {
  const text = query.get('filters');
  if (text === null || text === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidArgument('DEN1408', `invalid filters: ${JSON.stringify(text)} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('DEN1408', 'invalid filters: expected a JSON object of lists');
  }
  const entries: string[] = [];
  for (const [key, values] of Object.entries(parsed)) {
    const list = Array.isArray(values)
      ? values
      : typeof values === 'object' && values !== null
        ? Object.keys(values).filter((k) => (values as Record<string, unknown>)[k] === true)
        : undefined;
    if (!list || list.some((v) => typeof v !== 'string')) {
      throw invalidArgument('DEN1408', `invalid filters: the values of ${key} are not a list of strings`);
    }
    for (const v of list as string[]) entries.push(`${key}=${v}`);
  }
  return entries;
}

/**
 * Bodies of requests that take their connection over (attach, exec start), read off the socket
 * before it became the process's stdio: Node hands an upgrade request over unparsed.
 */
const prereadBodies = new WeakMap<IncomingMessage, Buffer>();

export function setPrereadBody(req: IncomingMessage, body: Buffer): void {
  prereadBodies.set(req, body);
}

/** Reads a request body whole, at most `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const preread = prereadBodies.get(req);
  if (preread) return preread;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw invalidArgument('DEN1403', `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON body as an object ({} when empty); anything else is docker's 400. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw invalidArgument('DEN1403', `invalid JSON in the request body: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument('DEN1403', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A body field that is docker's map of strings (Labels, Options, DriverOpts); absent: {}. */
export function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw invalidArgument('DEN1404', `${what}: expected an object of strings`);
  }
  return v as Record<string, string>;
}
