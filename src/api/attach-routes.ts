/**
 * Attach and the terminal's size. docker's clients attach before they start (`docker run`,
 * `docker start -a`): an attach to a container that is not running waits here, and the start
 * that follows starts it attached (the engine's startAttached), so that none of its output is
 * missed.
 */
import {
  attachContainer,
  DEFAULT_DETACH_KEYS,
  parseDetachKeys,
  startAttached,
  type AttachSpec,
  type AttachStreams,
  type EngineContext,
} from '../engine/index.js';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryBool, queryInt, type ApiCall, type Route } from './router.js';
import { hijack } from './hijack.js';
import { container } from './container-routes.js';
import { dockerError } from './api-errors.js';

interface PendingAttach {
  spec: AttachSpec;
  io: AttachStreams;
  /** Ends the attach connection, when the run it waited for ended or failed. */
  finish(): void;
}

/** Attaches waiting for their container's start, per engine (one per service). */
const pending = new WeakMap<EngineContext, Map<string, PendingAttach>>();
/** Resize listeners of attached terminals, per container. */
const resizers = new WeakMap<EngineContext, Map<string, (size: { height: number; width: number }) => void>>();

const pendingOf = (ctx: EngineContext) => {
  let map = pending.get(ctx);
  if (!map) pending.set(ctx, (map = new Map()));
  return map;
};
const resizersOf = (ctx: EngineContext) => {
  let map = resizers.get(ctx);
  if (!map) resizers.set(ctx, (map = new Map()));
  return map;
};

async function attach(call: ApiCall): Promise<undefined> {
  const { ctx, params, query } = call;
  const c = container(ctx, params.id!);
  const tty = c.config.tty;
  const detachKeys = query.get('detachKeys');
  const spec: AttachSpec = {
    stdin: queryBool(query, 'stdin'),
    detachKeys: detachKeys ? parseDetachKeys(detachKeys) : DEFAULT_DETACH_KEYS,
    sigProxy: false, // docker's client proxies signals itself, through /kill
  };
  const conn = hijack(call, tty);
  const discard = (w: NodeJS.WritableStream, wanted: boolean) => (wanted ? w : devNull());
  const io: AttachStreams = {
    // The client attaches a terminal's stdin only from a terminal (docker refuses otherwise).
    stdinIsTTY: tty,
    stdin: conn.input,
    stdout: discard(conn.stdout, queryBool(query, 'stdout')),
    stderr: discard(conn.stderr, queryBool(query, 'stderr')),
    onResize: (resized) => {
      resizersOf(ctx).set(c.id, resized);
      return () => resizersOf(ctx).delete(c.id);
    },
  };
  if (c.status === 'running' || c.status === 'paused') {
    try {
      await attachContainer(ctx, c.id, spec, io);
    } catch (e) {
      conn.stderr.write(`${dockerError(e).message}\n`);
    }
    conn.end();
    return undefined;
  }
  await new Promise<void>((resolve) => {
    const entry: PendingAttach = { spec, io, finish: resolve };
    pendingOf(ctx).set(c.id, entry);
    conn.onClose(() => {
      if (pendingOf(ctx).get(c.id) === entry) pendingOf(ctx).delete(c.id);
      resolve();
    });
  });
  conn.end();
  return undefined;
}

/**
 * Starts a container an attach waits for: attached from before it runs. Resolves once it left
 * `created` (the start request's answer); the attach goes on until the container exits.
 */
export async function startWithPendingAttach(ctx: EngineContext, id: string): Promise<boolean> {
  const waiting = pendingOf(ctx).get(id);
  if (!waiting) return false;
  pendingOf(ctx).delete(id);
  const run = startAttached(ctx, id, waiting.spec, waiting.io);
  run.then(waiting.finish, (e: unknown) => {
    waiting.io.stderr.write(`${dockerError(e).message}\n`);
    waiting.finish();
  });
  const started = (async () => {
    while (ctx.containers.get(id)?.status === 'created') await sleep(20);
  })();
  await Promise.race([run, started]);
  return true;
}

function devNull(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

export const attachRoutes: Route[] = [
  { method: 'POST', pattern: '/containers/{id}/attach', handler: attach },
  {
    method: 'POST',
    pattern: '/containers/{id}/resize',
    handler({ ctx, params, query }) {
      const c = container(ctx, params.id!);
      const height = queryInt(query, 'h') ?? 0;
      const width = queryInt(query, 'w') ?? 0;
      resizersOf(ctx).get(c.id)?.({ height, width });
      return { status: 200 };
    },
  },
];
