/**
 * `den system service`: the Docker Engine API on a unix socket, for as long as clients use it.
 *
 * den stays daemonless: the service exits once no request and no stream (events, logs -f, attach)
 * has been live for `idleSeconds`, and a socket unit (docs/api.md) starts it again on the next
 * connection. Every request is answered by the same engine use cases the CLI calls, on one
 * EngineContext for the service's life: the database is SQLite in WAL mode with compare-and-set
 * transitions, so requests and den commands run beside each other safely (docs/architecture.md).
 *
 *   const service = await startService({ ctx, socket: '/run/user/1000/den/docker.sock', idleSeconds: 5, serverVersion });
 *   await service.done; // resolved when it went idle, or after service.close()
 */
import { createConnection } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname } from 'node:path';
import { DenError, failedPrecondition, invalidArgument, notFound } from '../common/errors.js';
import { API_VERSION, MIN_API_VERSION, type EngineContext } from '../engine/index.js';
import { dockerError, type ApiFailure } from './api-errors.js';
import { Router, setPrereadBody, type ApiCall, type Reply } from './router.js';
import { systemRoutes } from './system-routes.js';
import { containerRoutes } from './container-routes.js';
import { attachRoutes } from './attach-routes.js';
import { execRoutes } from './exec-routes.js';
import { imageRoutes } from './image-routes.js';
import { networkRoutes } from './network-routes.js';
import { volumeRoutes } from './volume-routes.js';
import { unimplementedRoutes } from './unimplemented-routes.js';

export interface ServiceOptions {
  ctx: EngineContext;
  /** The unix socket's path. */
  socket: string;
  /** Seconds without a live request or stream before the service exits; 0: never. */
  idleSeconds: number;
  /**
   * A socket already listening, passed by systemd's socket activation (LISTEN_FDS): served
   * instead of binding `socket`, and left in place when the service exits (systemd owns it).
   */
  listenFd?: number;
  /** den's version, for /version and the Server header. */
  serverVersion: string;
  /** A request that failed with a server error (500), for the service's log. */
  onServerError?: (method: string, path: string, error: unknown) => void;
}

export interface Service {
  /** Resolves once the service stopped: idle, or closed. */
  done: Promise<void>;
  close(): void;
}

/** Compares dotted API versions: negative when a is older. */
export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { ctx, socket } = options;
  const router = new Router()
    .add(systemRoutes(options.serverVersion))
    .add(containerRoutes)
    .add(attachRoutes)
    .add(execRoutes)
    .add(imageRoutes)
    .add(networkRoutes)
    .add(volumeRoutes)
    .add(unimplementedRoutes);

  let live = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const server = createServer({ keepAlive: true });

  /** Aborted when the service stops: what requests still wait on (a wait, a follow) ends with it. */
  const stopping = new AbortController();
  const close = () => {
    stopping.abort();
    clearTimeout(idleTimer);
    server.close();
    server.closeAllConnections();
  };
  const busy = () => {
    live++;
    clearTimeout(idleTimer);
  };
  const idle = () => {
    live--;
    if (live === 0 && options.idleSeconds > 0) {
      idleTimer = setTimeout(close, options.idleSeconds * 1000);
      idleTimer.unref();
    }
  };

  const headers = {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `den/${options.serverVersion} (linux)`,
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    busy();
    res.on('close', idle);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    void handle(req, res);
  });
  // attach and exec start take the connection over (docker's hijack): it stays live until it closes.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    busy();
    socket.on('close', idle);
    void handleUpgrade(req, socket, head);
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }) {
    const url = new URL(req.url ?? '/', 'http://den');
    const prefixed = /^\/v([0-9]+\.[0-9]+)(\/.*)$/.exec(url.pathname);
    const version = prefixed ? prefixed[1]! : API_VERSION;
    const path = prefixed ? prefixed[2]! : url.pathname;
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      throw invalidArgument(
        'DEN1402',
        `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
      );
    }
    if (compareVersions(version, API_VERSION) > 0) {
      throw invalidArgument(
        'DEN1402',
        `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
      );
    }
    const method = req.method ?? 'GET';
    const found = router.match(method, path);
    if (!('route' in found)) {
      if (found.allowed.length > 0) {
        throw new DenError('InvalidArgument', 'DEN1410', `${method} ${path}: method not allowed`, {
          hint: `this endpoint takes ${[...new Set(found.allowed)].join(', ')}`,
          reason: 'method-not-allowed' satisfies ApiFailure,
        });
      }
      throw notFound(
        'DEN1401',
        `page not found: ${method} ${path} is not an endpoint of the Docker Engine API that den serves`,
        {
          hint: 'docs/api.md lists the endpoints',
        },
      );
    }
    const gone = new AbortController();
    const socket = upgrade?.socket ?? req.socket;
    const abort = () => gone.abort(new Error('the client went away'));
    socket.once('close', abort);
    stopping.signal.addEventListener('abort', abort, { once: true });
    res.once('close', () => stopping.signal.removeEventListener('abort', abort));
    const call: ApiCall = {
      signal: gone.signal,
      ctx,
      req,
      res,
      params: found.params,
      query: url.searchParams,
      version,
      headers,
      ...(upgrade ? { upgrade } : {}),
    };
    return found.route.handler(call);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      const reply = await dispatch(req, res);
      if (reply) send(res, reply);
    } catch (e) {
      fail(req, res, e);
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    // An upgrade is answered through a response written on the raw socket.
    const res = new (await import('node:http')).ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    try {
      head = await takeBody(req, socket, head);
      const reply = await dispatch(req, res, { socket, head });
      if (reply) send(res, reply);
    } catch (e) {
      fail(req, res, e);
      res.on('finish', () => socket.end());
    }
  }

  function fail(req: IncomingMessage, res: ServerResponse, e: unknown) {
    const { status, message } = dockerError(e);
    if (status >= 500 && status !== 501) options.onServerError?.(req.method ?? '', req.url ?? '', e);
    if (res.headersSent) {
      // A stream that already began: docker ends it; a JSON stream carries the error as a line.
      if (!res.writableEnded) res.end(`${JSON.stringify({ error: message, errorDetail: { message } })}\n`);
      return;
    }
    send(res, { status, body: { message } });
  }

  if (options.listenFd !== undefined) {
    const fd = options.listenFd;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } else await listenOnce(server, socket);
  if (options.idleSeconds > 0) {
    idleTimer = setTimeout(close, options.idleSeconds * 1000);
    idleTimer.unref();
  }
  server.on('close', () => {
    try {
      if (options.listenFd === undefined) unlinkSync(socket);
    } catch {
      // already gone: another service may own the path now
    }
    finish();
  });
  return { done, close };
}

/**
 * Reads an upgrade request's body (its Content-Length bytes) from what came with the headers and
 * then the socket; returns what follows it, the first bytes of the client's stream.
 */
async function takeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length <= 0) return head;
  if (length > 1024 * 1024) throw invalidArgument('DEN1403', `request body of ${length} bytes is too large`);
  let buffered = head;
  while (buffered.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (c: Buffer) => {
        socket.pause();
        socket.off('end', onEnd);
        resolve(c);
      };
      const onEnd = () => {
        socket.off('data', onData);
        resolve(null);
      };
      socket.once('data', onData);
      socket.once('end', onEnd);
      socket.resume();
    });
    if (chunk === null) throw invalidArgument('DEN1403', 'the request body ended early');
    buffered = Buffer.concat([buffered, chunk]);
  }
  setPrereadBody(req, buffered.subarray(0, length));
  return buffered.subarray(length);
}

/** A reply as docker sends it: JSON with its length, or an empty 204/304. */
export function send(res: ServerResponse, reply: Reply): void {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

/**
 * Listens on the socket, made with mode 0600 from the start (no moment where others may connect).
 * A socket file left by a service that died is replaced; one that answers is another service's.
 */
async function listenOnce(server: ReturnType<typeof createServer>, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    stat = undefined;
  }
  if (stat) {
    if (!stat.isSocket()) {
      throw failedPrecondition('DEN1406', `${path} exists and is not a socket`, {
        hint: 'remove it, or give another path',
      });
    }
    if (await answers(path)) {
      throw failedPrecondition('DEN1406', `${path}: another service is listening on it`, {
        hint: 'stop that service, or give another path',
      });
    }
    unlinkSync(path);
  }
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw failedPrecondition('DEN1406', `cannot listen on ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    process.umask(mask);
  }
  chmodSync(path, 0o600);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
