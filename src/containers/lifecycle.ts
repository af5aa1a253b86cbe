import { conflict } from '../common/errors.js';

/**
 * A container's lifecycle: its statuses, and the events that move it from one to the next. Every
 * status change in the database is one of these events, applied with compare-and-set (the row
 * changes only while its status is one the event may leave), so two den processes that stop,
 * start or remove one container at once can never both win, nor move it along an edge not drawn
 * here.
 *
 *   created --start--> running --exit--> exited --start--> running ...
 *      |                  |                 |
 *      |               (rm -f: kill, then exit)
 *      `------------------------ remove ----`--> removing --(record deleted)--> gone
 *
 *   fail: a start that never got the container running (the runtime refused, den was killed
 *         before it recorded the start) ends it as exited, from created, exited or running.
 *
 * `removing` marks a record whose files are being deleted, so a crash half-way is finished by the
 * next rm instead of leaving an unreachable directory; remove may therefore leave removing too.
 */
export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing';

export type LifecycleEvent = 'start' | 'exit' | 'fail' | 'remove';

/** For each event, the statuses it may leave and the one it reaches. */
export const TRANSITIONS: Readonly<Record<LifecycleEvent, { from: readonly ContainerStatus[]; to: ContainerStatus }>> =
  {
    start: { from: ['created', 'exited'], to: 'running' },
    exit: { from: ['running'], to: 'exited' },
    fail: { from: ['created', 'exited', 'running'], to: 'exited' },
    remove: { from: ['created', 'exited', 'removing'], to: 'removing' },
  };

/** True when `event` may happen to a container in `status`. */
export function canTransition(status: ContainerStatus, event: LifecycleEvent): boolean {
  return TRANSITIONS[event].from.includes(status);
}

/** Why the verbs docker has refuse in each status, in docker's words where docker has them. */
const REFUSALS: Record<LifecycleEvent, string> = {
  start: 'container is already running',
  exit: 'container is not running',
  fail: 'container is being removed',
  remove: 'container is running',
};

/**
 * The error for an event its container's status does not allow (a lost race included: the status
 * is the one read when the compare-and-set failed).
 */
export function transitionRefused(name: string, status: ContainerStatus | undefined, event: LifecycleEvent) {
  if (status === undefined) return conflict('DEN0605', `container "/${name}" is gone: another den removed it`);
  const why = status === 'removing' ? 'container is being removed' : REFUSALS[event];
  return conflict('DEN0606', `cannot ${event} container "/${name}": ${why} (status ${status})`, {
    ...(event === 'remove' && status === 'running'
      ? { hint: 'stop the container before removing, or force remove with -f' }
      : {}),
    reason: 'lifecycle',
  });
}
