import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, DenError } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import type { ContainerRecord } from '../../containers/index.js';
import { processStartTime } from '../../session/index.js';
import type { EngineContext } from '../context.js';
import { removeRootfs, unmountRootfs } from '../../snapshots/index.js';
import { rootfsOf, snapshotterOf } from './rootfs-mount.js';
import { findRuntime } from '../runtimes.js';
import { removeContainerCgroup } from './container-cgroup.js';

/**
 * The end of a container (rm, or --rm when it exits): its files, what is left of its cgroup, its
 * record (and with it its id range), and the shifted copies that were its own.
 */
export function discardContainer(ctx: EngineContext, c: ContainerRecord): void {
  if (existsSync(ctx.layout.bundle(c.id).dir)) removeRootfs(ctx, c.id);
  removeContainerCgroup(ctx, c);
  ctx.containers.delete(c.id);
  snapshotterOf(ctx, c).release(ctx, rootfsOf(c));
}

/** A lifecycle event refused because another den moved the container first (containers/lifecycle). */
export function isLifecycleRace(e: unknown): boolean {
  return e instanceof DenError && e.reason === 'lifecycle';
}

/** True while the den process that runs the container is alive. */
export function isRunning(c: ContainerRecord): boolean {
  return c.status === 'running' && c.pid !== null && processStartTime(c.pid) === c.pidStart;
}

/**
 * The exit status recorded for a container whose monitor died: what became of its init is not
 * known. Docker records 255 for the containers its daemon lost (a reboot shows them `Exited (255)`).
 */
export const LOST_EXIT_CODE = 255;

/**
 * Records whose monitor died (den killed with SIGKILL, a reboot) still say running: they are
 * marked exited with LOST_EXIT_CODE, and anything the runtime still has of them is killed and deleted.
 */
export function reconcile(ctx: EngineContext, c: ContainerRecord): ContainerRecord {
  if (c.status !== 'running' || isRunning(c)) return c;
  stopInRuntime(ctx, c);
  unmountRootfs(ctx, c.id);
  try {
    return ctx.containers.transition(c.id, 'exit', { exitCode: LOST_EXIT_CODE });
  } catch (e) {
    // Another den reconciled (or removed) it first: what it recorded stands.
    if (!isLifecycleRace(e)) throw e;
    return ctx.containers.get(c.id) ?? c;
  }
}

function stopInRuntime(ctx: EngineContext, c: ContainerRecord): void {
  try {
    const runtime = findRuntime(ctx, c.config.runtime);
    runSync(ctx.ns.wrap(runtime.killArgv(c.id, 'KILL')));
    runSync(ctx.ns.wrap(runtime.deleteArgv(c.id)));
  } catch {
    // the runtime is gone too: nothing of the container can still run under it
  }
}

export async function removeContainer(ctx: EngineContext, ref: string, force: boolean): Promise<ContainerRecord> {
  let c = reconcile(ctx, ctx.containers.resolve(ref));
  if (c.status === 'running') {
    if (!force) {
      throw conflict('DEN0660', `cannot remove container "/${c.name}": container is running`, {
        hint: 'stop the container before removing, or force remove with -f',
      });
    }
    const runtime = findRuntime(ctx, c.config.runtime);
    runSync(ctx.ns.wrap(runtime.killArgv(c.id, 'KILL')));
    // The attached den sees the exit and records it (and, with --rm, removes the container).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const now = ctx.containers.get(c.id);
      if (!now || now.status !== 'running' || !isRunning(now)) break;
      await sleep(50);
    }
    const now = ctx.containers.get(c.id);
    if (!now) return c; // it was a --rm container: its own den removed it
    c = reconcile(ctx, now);
  }
  ctx.containers.transition(c.id, 'remove');
  discardContainer(ctx, c);
  return c;
}
