import { conflict } from '../../common/errors.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { containerExited } from './container-exited.js';
import { discardContainer, endBackoff, reconcile, stopInRuntime, waitForExit } from './container-state.js';

export async function removeContainer(ctx: EngineContext, ref: string, force: boolean): Promise<ContainerRecord> {
  let c = reconcile(ctx, ctx.containers.resolve(ref));
  if (isActive(c.status)) {
    if (!force) {
      throw conflict('DEN0660', `cannot remove container "/${c.name}": container is ${c.status}`, {
        hint: 'stop the container before removing, or force remove with -f',
      });
    }
    ctx.containers.markStopRequested(c.id);
    if (c.status === 'restarting') c = await endBackoff(ctx, c);
    if (isActive(c.status)) stopInRuntime(ctx, c);
    // Its monitor sees the exit and records it (and, with --rm, removes the container).
    await waitForExit(ctx, c, Date.now() + 10_000, (ended) => containerExited(ctx, ended.id, ended.pid!));
    const now = ctx.containers.get(c.id);
    if (!now) return c; // it was a --rm container: its own monitor removed it
    c = reconcile(ctx, now);
  }
  ctx.containers.transition(c.id, 'remove');
  discardContainer(ctx, c);
  return c;
}
