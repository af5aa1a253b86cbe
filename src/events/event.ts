/**
 * One thing that happened to a container or an image, in docker's events shape (GET /events,
 * `docker events --format '{{json .}}'`): the object's type, the action, the actor (its id and
 * attributes: a container's name, image and labels, a die's exitCode, a kill's signal), and when,
 * in seconds and nanoseconds since the epoch.
 *
 *   { "Type": "container", "Action": "start",
 *     "Actor": { "ID": "3f2a...", "Attributes": { "image": "busybox:latest", "name": "web" } },
 *     "scope": "local", "time": 1796667665, "timeNano": 1796667665123456789 }
 */
export interface DenEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  /** Nanoseconds: beyond a double's exact integers, so kept as a bigint and written as digits. */
  timeNano: bigint;
}

export type EventType = 'container' | 'image' | 'volume';

/** The current time in nanoseconds: the wall clock's milliseconds, the monotonic clock's finer digits. */
export function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** An event that happens now. */
export function newEvent(
  type: EventType,
  action: string,
  id: string,
  attributes: Record<string, string>,
  at = nowNano(),
): DenEvent {
  return {
    Type: type,
    Action: action,
    // Sorted, as Go writes a map in JSON.
    Actor: { ID: id, Attributes: Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1))) },
    scope: 'local',
    time: Number(at / 1_000_000_000n),
    timeNano: at,
  };
}

/** The event as one line of JSON, timeNano with all its digits. */
export function formatEventJson(e: DenEvent): string {
  const { timeNano, ...rest } = e;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano}}`;
}

/** A line of the journal back into an event; undefined for a line that is not one (torn, foreign). */
export function parseEventJson(line: string): DenEvent | undefined {
  let o: Partial<Omit<DenEvent, 'timeNano'>> & { timeNano?: unknown };
  try {
    o = JSON.parse(line) as typeof o;
  } catch {
    return undefined;
  }
  const nano = /"timeNano":([0-9]+)\}$/.exec(line);
  if (!nano || (o.Type !== 'container' && o.Type !== 'image' && o.Type !== 'volume') || typeof o.Action !== 'string')
    return undefined;
  if (typeof o.Actor?.ID !== 'string' || typeof o.Actor.Attributes !== 'object' || o.Actor.Attributes === null) {
    return undefined;
  }
  return {
    Type: o.Type,
    Action: o.Action,
    Actor: { ID: o.Actor.ID, Attributes: o.Actor.Attributes },
    scope: 'local',
    time: Number(BigInt(nano[1]!) / 1_000_000_000n),
    timeNano: BigInt(nano[1]!),
  };
}

/**
 * docker's line for an event: `2026-12-07T18:00:00.000000000Z container start ID (image=..., name=...)`,
 * the attributes sorted by name, the time in UTC with nine fraction digits.
 */
export function formatEventLine(e: DenEvent): string {
  const seconds = e.timeNano / 1_000_000_000n;
  const fraction = (e.timeNano % 1_000_000_000n).toString().padStart(9, '0');
  const stamp = `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
  const attributes = Object.keys(e.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${e.Actor.Attributes[k]}`);
  return `${stamp} ${e.Type} ${e.Action} ${e.Actor.ID}${attributes.length > 0 ? ` (${attributes.join(', ')})` : ''}`;
}
