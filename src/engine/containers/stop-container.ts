import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { containerEvent } from '../events.js';
import { findRuntime } from '../runtimes.js';
import { containerExited } from './container-exited.js';
import { endBackoff, exitCodeOf, reconcile, waitForExit } from './container-state.js';
import { thaw } from './pause-container.js';
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
  signalInit(ctx, c, signal);
  ctx.emit(killEvent(c, signal));
  if (c.status === 'paused') thaw(ctx, c); // a frozen process acts on no signal
  // Once conmon is gone this den records the end itself (its exit command finds it done).
  const finish = (ended: ContainerRecord) => containerExited(ctx, ended.id, ended.pid!);
  const ended =
    timeout >= 0
      ? await waitForExit(ctx, c, Date.now() + timeout * 1000, finish)
      : await waitForExit(ctx, c, Infinity, finish);
  if (ended) {
    ctx.emit(containerEvent(ended, 'stop'));
    return ended;
  }
  signalInit(ctx, c, 'KILL');
  ctx.emit(killEvent(c, 'KILL'));
  const killed = await waitForExit(ctx, c, Date.now() + 30_000, finish);
  if (killed) ctx.emit(containerEvent(killed, 'stop'));
  return killed ?? reconcile(ctx, c);
}

/** docker's kill event: the signal by its number. */
export function killEvent(c: ContainerRecord, signal: string) {
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const number = /^[0-9]+$/.test(name) ? name : String(constants.signals[`SIG${name}` as NodeJS.Signals] ?? name);
  return containerEvent(c, 'kill', { signal: number });
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
  ctx.emit(killEvent(c, signal));
  // SIGKILL ends a paused container (thawed, it dies); another signal waits for den unpause.
  if (c.status === 'paused' && killEvent(c, signal).Actor.Attributes.signal === '9') thaw(ctx, c);
  return c;
}

/** docker's wait conditions: until it is not running, until its next run ends, until it is removed. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * `den wait`: blocks until the container is no longer running and returns its exit code. A
 * container that was never started, or has exited, answers at once, as docker's wait does. A --rm
 * container's code outlives its record in the exit file its monitor wrote.
 *
 * The API's conditions: `next-exit` first waits for a run to begin (docker run asks it before the
 * start), `removed` until the record is gone (docker run --rm). `signal` ends the wait early.
 */
export async function waitContainer(
  ctx: EngineContext,
  ref: string,
  condition: WaitCondition = 'not-running',
  signal?: AbortSignal,
): Promise<number> {
  const c = ctx.containers.resolve(ref);
  let started = condition === 'not-running';
  for (;;) {
    const now = ctx.containers.get(c.id);
    if (!now) return exitCodeOf(ctx, c.id) ?? 0;
    const seen = reconcile(ctx, now);
    const stopped = seen.status === 'exited' || seen.status === 'created';
    if (!stopped) started = true;
    if (stopped && started && condition !== 'removed') return seen.status === 'exited' ? (seen.exitCode ?? 0) : 0;
    // The caller gave up (an API client that went away): the wait ends with the abort's reason.
    await sleep(POLL_MS, undefined, signal ? { signal } : undefined);
  }
}

/** Signals the container's init through the runtime (`kill` without --all: see OciRuntime). */
export function signalInit(ctx: EngineContext, c: ContainerRecord, signal: string): void {
  const runtime = findRuntime(ctx, c.config.runtime);
  const name = /^[0-9]+$/.test(signal) ? signal : signal.replace(/^SIG/, '');
  runSync(ctx.ns.wrap(runtime.killArgv(c.id, name)));
}
