import { conflict } from '../common/errors.js';

/**
 * A container's lifecycle: its statuses, and the events that move it from one to the next. Every
 * status change in the database is one of these events, applied with compare-and-set (the row
 * changes only while its status is one the event may leave), so two den processes that stop,
 * start or remove one container at once can never both win, nor move it along an edge not drawn
 * here.
 *
 *   created --start--> running --exit--> exited --start--> running ...
 *      |               |    ^  \                 |
 *      |          pause|    |unpause  backoff    |
 *      |               v    |      \             |
 *      |              paused        restarting --start--> running
 *      |                                         |
 *      `------------------------ remove ---------`--> removing --(record deleted)--> gone
 *
 *   exit: the container's init ended (from running or paused), or a stop ended its back-off
 *         (from restarting); rm -f kills, then exits.
 *   backoff: the container ended and its restart policy starts it again after a delay.
 *   restart: the policy's start, only from restarting: a stop or rm -f during the back-off wins.
 *   fail: a start that never got the container running (the runtime refused, den was killed
 *         before it recorded the start) ends it as exited, from created, exited, running or
 *         restarting.
 *
 * `removing` marks a record whose files are being deleted, so a crash half-way is finished by the
 * next rm instead of leaving an unreachable directory; remove may therefore leave removing too.
 */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing';

export type LifecycleEvent = 'start' | 'restart' | 'exit' | 'fail' | 'pause' | 'unpause' | 'backoff' | 'remove';

/** For each event, the statuses it may leave and the one it reaches. */
export const TRANSITIONS: Readonly<Record<LifecycleEvent, { from: readonly ContainerStatus[]; to: ContainerStatus }>> =
  {
    start: { from: ['created', 'exited', 'restarting'], to: 'running' },
    restart: { from: ['restarting'], to: 'running' },
    exit: { from: ['running', 'paused', 'restarting'], to: 'exited' },
    fail: { from: ['created', 'exited', 'running', 'restarting'], to: 'exited' },
    pause: { from: ['running'], to: 'paused' },
    unpause: { from: ['paused'], to: 'running' },
    backoff: { from: ['running'], to: 'restarting' },
    remove: { from: ['created', 'exited', 'removing'], to: 'removing' },
  };

/** True when `event` may happen to a container in `status`. */
export function canTransition(status: ContainerStatus, event: LifecycleEvent): boolean {
  return TRANSITIONS[event].from.includes(status);
}

/** The statuses in which a container has (or is about to have) a monitor: "up" in docker's words. */
export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused' || status === 'restarting';
}

/** Why the verbs docker has refuse in each status, in docker's words where docker has them. */
const REFUSALS: Record<LifecycleEvent, string> = {
  start: 'container is already running',
  restart: 'container is no longer waiting to be restarted',
  exit: 'container is not running',
  fail: 'container is being removed',
  pause: 'container is not running',
  unpause: 'container is not paused',
  backoff: 'container is not running',
  remove: 'container is running',
};

/**
 * The error for an event its container's status does not allow (a lost race included: the status
 * is the one read when the compare-and-set failed).
 */
export function transitionRefused(name: string, status: ContainerStatus | undefined, event: LifecycleEvent) {
  if (status === undefined) {
    return conflict('DEN0605', `container "/${name}" is gone: another den removed it`, { reason: 'lifecycle' });
  }
  const why =
    status === 'removing'
      ? 'container is being removed'
      : status === 'paused' && event !== 'unpause'
        ? 'container is paused'
        : status === 'restarting' && event === 'remove'
          ? 'container is restarting'
          : REFUSALS[event];
  return conflict('DEN0606', `cannot ${event} container "/${name}": ${why} (status ${status})`, {
    ...(event === 'remove' && isActive(status)
      ? { hint: 'stop the container before removing, or force remove with -f' }
      : {}),
    reason: 'lifecycle',
  });
}
