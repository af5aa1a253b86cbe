import { existsSync } from 'node:fs';
import { conflict } from '../../common/errors.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { removeRootfs } from '../../snapshots/index.js';
import { isLifecycleRace, reconcile, stopInRuntime, waitForExit } from './container-state.js';
import { stopHealthChecks } from './health-scheduler.js';
import { rootfsOf, snapshotterOf } from './rootfs-mount.js';

/**
 * The end of a container (rm, or --rm when it exits): its files, its record (and with it its id
 * range), and the shifted copies that were its own.
 */
export function discardContainer(ctx: EngineContext, c: ContainerRecord): void {
  stopHealthChecks(ctx, c.id);
  if (existsSync(ctx.layout.bundle(c.id).dir)) removeRootfs(ctx, c.id);
  ctx.containers.delete(c.id);
  snapshotterOf(ctx, c).release(ctx, rootfsOf(c));
}

export async function removeContainer(ctx: EngineContext, ref: string, force: boolean): Promise<ContainerRecord> {
  let c = reconcile(ctx, ctx.containers.resolve(ref));
  if (isActive(c.status)) {
    if (!force) {
      throw conflict('DEN0660', `cannot remove container "/${c.name}": container is ${c.status}`, {
        hint: 'stop the container before removing, or force remove with -f',
      });
    }
    ctx.containers.markStopRequested(c.id);
    stopHealthChecks(ctx, c.id);
    if (c.status === 'restarting') {
      try {
        ctx.containers.transition(c.id, 'exit', { exitCode: c.exitCode });
      } catch (e) {
        if (!isLifecycleRace(e)) throw e;
      }
    } else {
      stopInRuntime(ctx, c);
    }
    // Its monitor sees the exit and records it (and, with --rm, removes the container).
    await waitForExit(ctx, c, Date.now() + 10_000);
    const now = ctx.containers.get(c.id);
    if (!now) return c; // it was a --rm container: its own monitor removed it
    c = reconcile(ctx, now);
  }
  ctx.containers.transition(c.id, 'remove');
  discardContainer(ctx, c);
  return c;
}
