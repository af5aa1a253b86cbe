import { invalidArgument } from '../common/errors.js';
import type { DenEvent } from './event.js';

/**
 * `den events --filter KEY=VALUE`, as docker's: values of one key are alternatives (label's must
 * all hold, docker's MatchKVList), and every key given must hold. Each key is one entry of EVENT_FILTERS.
 */
export type EventFilters = ReadonlyMap<string, readonly string[]>;

/** An image name without its tag (docker's stripTag): busybox:latest -> busybox; digests stay. */
function stripTag(name: string): string {
  if (name.includes('@')) return name;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** docker's FuzzyMatch: the value is the text or a prefix of it. */
const fuzzy = (values: readonly string[], text: string | undefined) =>
  text !== undefined && values.some((v) => text === v || text.startsWith(v));

const EVENT_FILTERS: Record<string, (e: DenEvent, values: readonly string[]) => boolean> = {
  type: (e, values) => values.includes(e.Type),
  event: (e, values) => values.includes(e.Action),
  container: (e, values) =>
    e.Type === 'container' && (fuzzy(values, e.Actor.ID) || fuzzy(values, e.Actor.Attributes.name)),
  image: (e, values) => {
    const name = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'];
    const candidates = [e.Actor.ID, stripTag(e.Actor.ID), ...(name ? [name, stripTag(name)] : [])];
    return values.some((v) => candidates.includes(v));
  },
  volume: (e, values) => e.Type === 'volume' && values.includes(e.Actor.ID),
  label: (e, values) =>
    values.every((v) => {
      const eq = v.indexOf('=');
      const key = eq < 0 ? v : v.slice(0, eq);
      return Object.hasOwn(e.Actor.Attributes, key) && (eq < 0 || e.Actor.Attributes[key] === v.slice(eq + 1));
    }),
};

/** `--filter` entries into filters; a key docker's events do not have here is refused. */
export function parseEventFilters(entries: readonly string[]): EventFilters {
  const filters = new Map<string, string[]>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = entry.slice(0, Math.max(eq, 0));
    if (eq <= 0 || !EVENT_FILTERS[key]) {
      throw invalidArgument('DEN1141', `invalid filter '${eq <= 0 ? entry : key}'`, {
        hint: `filters: ${Object.keys(EVENT_FILTERS).join(', ')} (KEY=VALUE; label=KEY or KEY=VALUE)`,
      });
    }
    filters.set(key, [...(filters.get(key) ?? []), entry.slice(eq + 1)]);
  }
  return filters;
}

export function matchesEvent(e: DenEvent, filters: EventFilters): boolean {
  for (const [key, values] of filters) if (!EVENT_FILTERS[key]!(e, values)) return false;
  return true;
}
