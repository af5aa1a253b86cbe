import { removeAnonymousVolumes } from './container-mounts.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { forgetContainerNetworks, networkDeps } from '../networks/connect-container.js';
import { releaseUserNetworks } from './container-network.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, DenError } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import { processStartTime } from '../../session/index.js';
import { removeRootfs, unmountRootfs } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import { removeContainerCgroup } from './container-cgroup.js';
import { rootfsOf, snapshotterOf } from './rootfs-mount.js';
import { stopHealthChecks } from './health-scheduler.js';

/**
 * What den knows of a container's life between its own commands: a record says running (or
 * paused, or restarting) while the process watching it lives — the den that runs it attached,
 * conmon for a detached one, the den waiting out a restart's back-off. When that process is gone
 * without recording the end, the record is corrected here (reconcile), by whichever den looks next.
 */

/** True while the process that watches the container is alive. */
export function isRunning(c: ContainerRecord): boolean {
  return isActive(c.status) && c.pid !== null && processStartTime(c.pid) === c.pidStart;
}

/**
 * The exit status recorded for a container whose monitor died: what became of its init is not
 * known. Docker records 255 for the containers its daemon lost (a reboot shows them `Exited (255)`).
 */
export const LOST_EXIT_CODE = 255;

/**
 * How long after conmon wrote a container's exit file its exit command (`den __exited`) may take
 * to record the exit: until then another den leaves the record to it, or the restart policy the
 * exit command applies would be lost to a `den ps` that happened to look first.
 */
const EXIT_COMMAND_GRACE_MS = 15_000;

/** Where conmon writes a detached container's exit status (its --exit-dir). */
export function exitDir(ctx: EngineContext): string {
  return join(ctx.paths.runtimeDir, 'exits');
}

/** The exit status conmon wrote for the container's last run, if it did. */
export function exitCodeOf(ctx: EngineContext, id: string): number | undefined {
  try {
    const text = readFileSync(join(exitDir(ctx), id), 'utf8').trim();
    return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function exitFileAge(ctx: EngineContext, id: string): number {
  try {
    return Date.now() - statSync(join(exitDir(ctx), id)).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Records whose monitor died (den or conmon killed with SIGKILL, a reboot) still say running:
 * they are marked exited (with the status conmon wrote, if it did, else LOST_EXIT_CODE), and
 * anything the runtime still has of them is killed and deleted.
 */
export function reconcile(ctx: EngineContext, c: ContainerRecord): ContainerRecord {
  if (!isActive(c.status) || isRunning(c)) return c;
  if (c.monitor === 'conmon' && exitFileAge(ctx, c.id) < EXIT_COMMAND_GRACE_MS) return c;
  if (c.status !== 'restarting') {
    stopInRuntime(ctx, c);
    unmountRootfs(ctx, c.id);
    releaseUserNetworks(ctx, c);
  }
  try {
    const exitCode = c.status === 'restarting' ? c.exitCode : (exitCodeOf(ctx, c.id) ?? LOST_EXIT_CODE);
    return ctx.containers.transition(c.id, 'exit', { exitCode });
  } catch (e) {
    // Another den reconciled (or removed) it first: what it recorded stands.
    if (!isLifecycleRace(e)) throw e;
    return ctx.containers.get(c.id) ?? c;
  } finally {
    // Last: called by the health-check loop's own probe, this ends that den too.
    stopHealthChecks(ctx, c.id);
  }
}

/** A lifecycle event refused because another den moved the container first (containers/lifecycle). */
export function isLifecycleRace(e: unknown): boolean {
  return e instanceof DenError && e.reason === 'lifecycle';
}

/** The runtime's `delete --force`: kills the container if it still runs, and forgets it, in one call. */
export function deleteInRuntime(ctx: EngineContext, c: ContainerRecord): void {
  try {
    runSync(ctx.ns.wrap(findRuntime(ctx, c.config.runtime).deleteArgv(c.id)));
  } catch {
    // the runtime is gone too: nothing of the container can still run under it
  }
}

/** Kills and deletes whatever the runtime still has of the container. */
export function stopInRuntime(ctx: EngineContext, c: ContainerRecord): void {
  try {
    const runtime = findRuntime(ctx, c.config.runtime);
    runSync(ctx.ns.wrap(runtime.killArgv(c.id, 'KILL')));
    runSync(ctx.ns.wrap(runtime.deleteArgv(c.id)));
  } catch {
    // the runtime is gone too: nothing of the container can still run under it
  }
}

/**
 * The end of a container (rm, or --rm when it exits): its files, what is left of its cgroup, its
 * record (and with it its id range), and the shifted copies that were its own; with `volumes`
 * (rm -v, and --rm as docker does) its anonymous volumes too.
 */
export function discardContainer(ctx: EngineContext, c: ContainerRecord, volumes = c.config.autoRemove): void {
  stopHealthChecks(ctx, c.id);
  // A den killed half-way through a start can leave the runtime's created container (and the
  // monitor waiting on it) behind a record that says created: they go with it.
  if (hasRuntimeState(ctx, c)) stopInRuntime(ctx, c);
  if (existsSync(ctx.layout.bundle(c.id).dir)) removeRootfs(ctx, c.id);
  removeContainerCgroup(ctx, c);
  try {
    forgetContainerNetworks(networkDeps(ctx), c.id, c.name);
  } catch (e) {
    ctx.events.warning(`container ${c.id.slice(0, 12)}: ${(e as Error).message}`);
  }
  ctx.containers.delete(c.id);
  snapshotterOf(ctx, c).release(ctx, rootfsOf(c));
  if (volumes) removeAnonymousVolumes(ctx, c);
}

/** Whether the container's runtime still keeps state of it (its directory under the state root). */
export function hasRuntimeState(ctx: EngineContext, c: ContainerRecord): boolean {
  try {
    return existsSync(join(findRuntime(ctx, c.config.runtime).stateRoot, c.id));
  } catch {
    return false; // the runtime is gone: it keeps nothing den could remove
  }
}

/** How often a waiting den looks at the record again. */
const POLL_MS = 50;

/**
 * Waits until the container's end is recorded (by its monitor, or by reconcile when the monitor
 * died) or its record is gone (--rm); returns the record as it ended, or undefined at the deadline.
 * `finish`, given by a den that stopped the container itself: once conmon is gone, it records the
 * end at once (the exit command, still starting up, then finds it done), instead of waiting.
 */
export async function waitForExit(
  ctx: EngineContext,
  c: ContainerRecord,
  deadline: number,
  finish?: (ended: ContainerRecord) => Promise<unknown>,
): Promise<ContainerRecord | undefined> {
  for (;;) {
    const now = ctx.containers.get(c.id);
    if (!now) return { ...c, status: 'exited', exitCode: exitCodeOf(ctx, c.id) ?? c.exitCode };
    if (
      finish &&
      now.monitor === 'conmon' &&
      isActive(now.status) &&
      !isRunning(now) &&
      exitCodeOf(ctx, c.id) !== undefined
    ) {
      await finish(now);
      continue;
    }
    const seen = reconcile(ctx, now);
    if (!isActive(seen.status)) return seen;
    if (Date.now() >= deadline) return undefined;
    await sleep(POLL_MS);
  }
}

/** Waits (at most `ms`) until a process has exited; true when it has. */
export async function processGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (processStartTime(pid) !== undefined) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/**
 * A stop or rm -f during a restart policy's back-off: the container is recorded exited, so the den
 * waiting to start it again gives up (its restart event needs `restarting`); that den is waited
 * for, so that a start it had under way is undone before the caller goes on.
 */
export async function endBackoff(ctx: EngineContext, c: ContainerRecord): Promise<ContainerRecord> {
  try {
    ctx.containers.transition(c.id, 'exit', { exitCode: c.exitCode });
  } catch (e) {
    if (!isLifecycleRace(e)) throw e;
  }
  if (c.pid !== null && c.pid !== process.pid) await processGone(c.pid, 15_000);
  const now = ctx.containers.get(c.id);
  return now ? reconcile(ctx, now) : c;
}

/**
 * The container, for a verb that needs it running (exec, top; top takes a paused one too, as
 * docker's does), with docker's words when it is not.
 */
export function runningContainer(ctx: EngineContext, ref: string, verb: 'exec' | 'top'): ContainerRecord {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  // A container whose exit its monitor wrote has stopped, though its exit command may not have recorded it yet.
  const exited = c.monitor === 'conmon' && exitCodeOf(ctx, c.id) !== undefined;
  if (!exited && (c.status === 'running' || (c.status === 'paused' && verb === 'top'))) return c;
  if (c.status === 'paused' && !exited) {
    throw conflict('DEN1109', `container ${c.id} is paused, unpause the container before exec`, {
      reason: 'not-running',
    });
  }
  if (c.status === 'restarting') {
    throw conflict('DEN1109', `container ${c.id} is restarting, wait until the container is running`, {
      reason: 'not-running',
    });
  }
  throw conflict('DEN1109', `container ${c.id} is not running`, {
    hint: `start it first: den start ${ref}`,
    reason: 'not-running',
  });
}

/**
 * A record that still says running while its monitor has written the exit: waits for the exit
 * command to record the end (it may take the command's grace), so that a start that follows an
 * exit closely (`start -a` right after an attach returned the status) finds it exited.
 */
export async function settledRecord(ctx: EngineContext, c: ContainerRecord): Promise<ContainerRecord> {
  if (c.status !== 'running' || c.monitor !== 'conmon' || exitCodeOf(ctx, c.id) === undefined) return c;
  return (await waitForExit(ctx, c, Date.now() + EXIT_COMMAND_GRACE_MS)) ?? reconcile(ctx, c);
}
