import { releaseUserNetworks } from './container-network.js';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSync } from '../../common/exec.js';
import type { ContainerRecord } from '../../containers/index.js';
import { processStartTime } from '../../session/index.js';
import { unmountRootfs } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import { discardContainer, exitCodeOf, exitDir, isLifecycleRace, LOST_EXIT_CODE } from './container-state.js';
import { stopHealthChecks } from './health-scheduler.js';
import { startDetached } from './start-detached.js';

/**
 * A detached container's end, run by its monitor as its exit command (`den __exited ID`, as the
 * caller, with den's environment): delete it from the runtime, unmount its root file system,
 * and record its exit status; then --rm removes it, or its restart policy starts it again after
 * docker's back-off. Returns what became of it.
 */
export async function containerExited(
  ctx: EngineContext,
  id: string,
  monitorPid: number,
): Promise<'gone' | 'exited' | 'restarted' | 'ignored'> {
  const c = ctx.containers.get(id);
  if (!c || c.monitor !== 'conmon' || (c.status !== 'running' && c.status !== 'paused')) return 'ignored';
  // conmon forks this command and exits: its pid is this process's parent only for a moment.
  // A live monitor that is not the parent is a later start's.
  if (c.pid !== null && c.pid !== monitorPid && processStartTime(c.pid) === c.pidStart) return 'ignored';
  stopHealthChecks(ctx, id);
  const exitCode = exitCodeOf(ctx, id) ?? LOST_EXIT_CODE;
  runSync(ctx.ns.wrap(findRuntime(ctx, c.config.runtime).deleteArgv(id)));
  unmountRootfs(ctx, id);
  releaseUserNetworks(ctx, c);
  sweepExitFiles(ctx);
  try {
    if (c.config.autoRemove) {
      ctx.containers.transition(id, 'exit', { exitCode });
      ctx.containers.transition(id, 'remove');
      discardContainer(ctx, c);
      return 'gone';
    }
    const delay = restartDelay(c, exitCode);
    if (delay === undefined) {
      ctx.containers.transition(id, 'exit', { exitCode });
      return 'exited';
    }
    ctx.containers.transition(id, 'backoff', {
      exitCode,
      monitorPid: process.pid,
      monitorStart: processStartTime(process.pid) ?? '',
    });
  } catch (e) {
    if (isLifecycleRace(e)) return 'ignored'; // rm -f or a stop got there first: theirs stands
    throw e;
  }
  return restartAfter(ctx, id);
}

/** docker's back-off: 100 ms, doubled at each restart, at most a minute; reset by 10 s of running. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 60_000;
const BACKOFF_RESET_MS = 10_000;

/** How long to wait before the restart policy starts the container again; undefined: it does not. */
export function restartDelay(c: ContainerRecord, exitCode: number, now = Date.now()): number | undefined {
  const policy = c.config.restartPolicy;
  if (!policy || policy.name === 'no' || c.stopRequested) return undefined;
  if (policy.name === 'on-failure') {
    if (exitCode === 0) return undefined;
    if (policy.maximumRetryCount > 0 && c.restartCount >= policy.maximumRetryCount) return undefined;
  }
  const ranFor = now - Date.parse(c.startedAt ?? c.createdAt);
  if (ranFor >= BACKOFF_RESET_MS) return BACKOFF_FIRST_MS;
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(c.restartCount, 20), BACKOFF_MAX_MS);
}

/**
 * Waits out the back-off, then starts the container again unless something else moved it meanwhile
 * (a stop or rm -f ends the back-off; a user's start takes it over). A start that fails ends it
 * exited, as docker leaves a container whose restart failed.
 */
async function restartAfter(ctx: EngineContext, id: string): Promise<'restarted' | 'exited' | 'ignored'> {
  const waiting = ctx.containers.get(id);
  if (!waiting) return 'ignored';
  const delay = restartDelay(waiting, waiting.exitCode ?? 0) ?? BACKOFF_FIRST_MS;
  await sleep(delay);
  const c = ctx.containers.get(id);
  if (!c || c.status !== 'restarting' || c.pid !== process.pid) return 'ignored';
  try {
    await startDetached(ctx, c, 'restart');
    return 'restarted';
  } catch (e) {
    try {
      ctx.containers.transition(id, 'fail', { exitCode: c.exitCode });
    } catch (raced) {
      if (!isLifecycleRace(raced)) throw raced;
    }
    ctx.events.warning(`container ${c.name}: restart failed: ${(e as Error).message}`);
    return 'exited';
  }
}

/** Exit files outlive --rm containers for `den wait`; an hour later nobody waits for them. */
function sweepExitFiles(ctx: EngineContext, now = Date.now()): void {
  const dir = exitDir(ctx);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > 3_600_000 && !ctx.containers.get(name)) rmSync(path, { force: true });
    } catch {
      // removed by another den meanwhile
    }
  }
}
