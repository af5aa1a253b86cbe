import type { ContainerChange, ContainerRecord } from '../containers/index.js';
import { matchesEvent, newEvent, type DenEvent, type EventFilters } from '../events/index.js';
import type { EngineContext } from './context.js';

/**
 * den's events, docker's actions: what the engine appends to the events journal, and `den events`.
 *
 * Lifecycle events come from the container store (ContainerStore's observer), not from each use
 * case: every status change, whichever den makes it (a `den ps` that finds a dead monitor, the
 * monitor's exit command, a restart policy's back-off), is one compare-and-set there, so each is
 * written once, by the den that won it, and no use case can forget one. What is not a status
 * change (kill, stop, restart) the use cases emit themselves.
 */

/** docker's attributes of a container event: its image and name, and its labels. */
function containerAttributes(c: ContainerRecord, extra: Record<string, string>): Record<string, string> {
  return { ...(c.config.labels ?? {}), image: c.imageName, name: c.name, ...extra };
}

export function containerEvent(c: ContainerRecord, action: string, extra: Record<string, string> = {}): DenEvent {
  return newEvent('container', action, c.id, containerAttributes(c, extra));
}

/** An image event: `id` is what docker names the actor (the image id, or the reference pulled or pushed). */
export function imageEvent(action: string, id: string, name?: string): DenEvent {
  return newEvent('image', action, id, name !== undefined ? { name } : {});
}

/** The docker event of a change to a container's record, if it is one docker has. */
export function changeEvent(change: ContainerChange): DenEvent | undefined {
  const c = change.container;
  switch (change.kind) {
    case 'create':
    case 'destroy':
      return containerEvent(c, change.kind);
    case 'rename':
      return containerEvent(c, 'rename', { oldName: `/${change.oldName}` });
    case 'transition':
      switch (change.event) {
        case 'start':
        case 'pause':
        case 'unpause':
          return containerEvent(c, change.event);
        case 'restart': // the restart policy's start: docker tells it as a start
          return containerEvent(c, 'start');
        case 'exit':
          // A stop during a restart's back-off: the container died when the back-off began.
          if (change.from === 'restarting') return undefined;
          return containerEvent(c, 'die', { exitCode: String(c.exitCode ?? -1) });
        case 'fail':
        case 'backoff':
          return containerEvent(c, 'die', { exitCode: String(c.exitCode ?? -1) });
        case 'remove':
          return undefined;
      }
  }
}

export interface EventsOptions {
  /** Nanoseconds since the epoch: events from then on, from the journal; absent: only new ones. */
  since?: bigint;
  /** Nanoseconds: stop after the last event before then (waiting for it when it is still ahead). */
  until?: bigint;
  filters: EventFilters;
  onEvent: (e: DenEvent) => void;
  /** Ends the following (the CLI's SIGINT). */
  signal?: AbortSignal;
}

/**
 * `den events`: the events the filters select, from `since` on, as they are appended, until
 * `until` or until the signal aborts. Without `since` only events to come; with `since` and an
 * `until` in the past, just what the journal keeps between them.
 */
export async function followEvents(ctx: EngineContext, options: EventsOptions): Promise<void> {
  const { since, until, filters, onEvent } = options;
  await ctx.journal.follow({
    from: since === undefined ? 'end' : 'start',
    onEvent: (e) => {
      if ((since === undefined || e.timeNano >= since) && matchesEvent(e, filters)) onEvent(e);
    },
    ...(until !== undefined ? { until } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
