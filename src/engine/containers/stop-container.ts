import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import { exitCodeOf, reconcile, waitForExit } from './container-state.js';
import { stopHealthChecks } from './health-scheduler.js';

/** docker's default grace between the stop signal and SIGKILL, in seconds. */
export const DEFAULT_STOP_TIMEOUT = 10;

/** How often `den wait` looks at the record again. */
const POLL_MS = 50;

/**
 * `den stop`: the container's stop signal (--stop-signal, the image's STOPSIGNAL, else SIGTERM),
 * then SIGKILL once `timeoutSeconds` have passed (-1: wait for ever), as docker does. Its restart
 * policy leaves it stopped. Returns once its exit is recorded; a container that is not running is
 * no failure (docker's stop of a stopped container succeeds).
 */
export async function stopContainer(
  ctx: EngineContext,
  ref: string,
  options: { timeoutSeconds?: number; signal?: string } = {},
): Promise<ContainerRecord> {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  if (!isActive(c.status)) return c;
  ctx.containers.markStopRequested(c.id);
  stopHealthChecks(ctx, c.id); // no probe of a container on its way out
  if (c.status === 'restarting') return endBackoff(ctx, c);
  const timeout = options.timeoutSeconds ?? c.config.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
  const signal = options.signal ?? c.config.stopSignal ?? 'SIGTERM';
  if (c.status === 'paused') signalInit(ctx, c, 'CONT'); // a frozen process cannot act on a signal
  signalInit(ctx, c, signal);
  if (timeout >= 0) {
    const ended = await waitForExit(ctx, c, Date.now() + timeout * 1000);
    if (ended) return ended;
    signalInit(ctx, c, 'KILL');
  }
  return (await waitForExit(ctx, c, timeout < 0 ? Infinity : Date.now() + 30_000)) ?? reconcile(ctx, c);
}

/**
 * `den kill`: one signal to the container's init (SIGKILL by default). Docker counts it as a
 * stop by the user: the restart policy does not start the container again.
 */
export function killContainer(ctx: EngineContext, ref: string, signal = 'KILL'): ContainerRecord {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  if (c.status !== 'running' && c.status !== 'paused') {
    throw conflict('DEN1109', `cannot kill container ${ref}: container ${c.id.slice(0, 12)} is not running`, {
      reason: 'not-running',
    });
  }
  ctx.containers.markStopRequested(c.id);
  signalInit(ctx, c, signal);
  if (c.status === 'paused' && signal !== 'KILL' && signal !== 'SIGKILL' && signal !== '9') signalInit(ctx, c, 'CONT');
  return c;
}

/**
 * `den wait`: blocks until the container is no longer running and returns its exit code. A
 * container that was never started, or has exited, answers at once, as docker's wait does. A --rm
 * container's code outlives its record in the exit file its monitor wrote.
 */
export async function waitContainer(ctx: EngineContext, ref: string): Promise<number> {
  const c = ctx.containers.resolve(ref);
  for (;;) {
    const now = ctx.containers.get(c.id);
    if (!now) return exitCodeOf(ctx, c.id) ?? 0;
    const seen = reconcile(ctx, now);
    if (seen.status === 'exited') return seen.exitCode ?? 0;
    if (seen.status === 'created') return 0;
    await sleep(POLL_MS);
  }
}

/** A stop during a restart policy's back-off: the container is simply not started again. */
function endBackoff(ctx: EngineContext, c: ContainerRecord): ContainerRecord {
  try {
    return ctx.containers.transition(c.id, 'exit', { exitCode: c.exitCode });
  } catch {
    return ctx.containers.get(c.id) ?? c; // it was started meanwhile, or removed: what is, stands
  }
}

/** Signals the container's init through the runtime (`kill` without --all: see OciRuntime). */
export function signalInit(ctx: EngineContext, c: ContainerRecord, signal: string): void {
  const runtime = findRuntime(ctx, c.config.runtime);
  const name = /^[0-9]+$/.test(signal) ? signal : signal.replace(/^SIG/, '');
  runSync(ctx.ns.wrap(runtime.killArgv(c.id, name)));
}
