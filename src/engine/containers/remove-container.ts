import { conflict } from '../../common/errors.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { containerExited } from './container-exited.js';
import { processStartTime } from '../../session/index.js';
import {
  deleteInRuntime,
  discardContainer,
  endBackoff,
  isLifecycleRace,
  reconcile,
  stopInRuntime,
  waitForExit,
} from './container-state.js';
import { thaw } from './pause-container.js';
import { killEvent } from './stop-container.js';
import { stopHealthChecks } from './health-scheduler.js';

/** den rm [-f] [-v]: `volumes` removes the container's anonymous volumes with it (docker's -v). */
export async function removeContainer(
  ctx: EngineContext,
  ref: string,
  force: boolean,
  volumes = false,
): Promise<ContainerRecord> {
  let c = reconcile(ctx, ctx.containers.resolve(ref));
  if (isActive(c.status)) {
    if (!force) {
      throw conflict('DEN0660', `cannot remove container "/${c.name}": container is ${c.status}`, {
        hint: 'stop the container before removing, or force remove with -f',
      });
    }
    ctx.containers.markStopRequested(c.id);
    stopHealthChecks(ctx, c.id);
    if (c.status === 'restarting') c = await endBackoff(ctx, c);
    if (c.status === 'paused') thaw(ctx, c); // a frozen process does not die of SIGKILL until thawed
    if (isActive(c.status)) ctx.emit(killEvent(c, 'KILL'));
    if (isActive(c.status) && c.monitor === 'conmon') {
      c = forceEnd(ctx, c);
    } else if (isActive(c.status)) {
      stopInRuntime(ctx, c);
      // The den running it attached sees the exit and records it (with --rm, removes it).
      await waitForExit(ctx, c, Date.now() + 10_000, (ended) => containerExited(ctx, ended.id, ended.pid!));
      const now = ctx.containers.get(c.id);
      if (!now) return c; // it was a --rm container: its own den removed it
      c = reconcile(ctx, now);
    }
  }
  ctx.containers.transition(c.id, 'remove');
  discardContainer(ctx, c, volumes || c.config.autoRemove);
  return c;
}

/**
 * rm -f of a detached container: its monitor is killed first, so that no exit command starts up
 * (a whole Node.js process) to record an end that is about to be deleted; then the runtime
 * deletes the container (`delete --force` kills it), and the record says exited, SIGKILL's status.
 * A monitor that won the race and ran its exit command already is harmless: the record is then
 * exited (or gone, with --rm) and the compare-and-set below is refused.
 */
function forceEnd(ctx: EngineContext, c: ContainerRecord): ContainerRecord {
  if (c.pid !== null && processStartTime(c.pid) === c.pidStart) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  deleteInRuntime(ctx, c);
  try {
    return ctx.containers.transition(c.id, 'exit', { exitCode: KILLED_EXIT_CODE });
  } catch (e) {
    if (!isLifecycleRace(e)) throw e;
    return ctx.containers.get(c.id) ?? c;
  }
}

/** 128 + SIGKILL: what docker records for a container removed with rm -f. */
const KILLED_EXIT_CODE = 137;
