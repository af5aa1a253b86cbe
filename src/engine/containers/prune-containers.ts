import { invalidArgument, isDenError } from '../../common/errors.js';
import { reconcile } from './container-state.js';
import { matchesLabels, writableLayerSizes } from './list-containers.js';
import { removeContainer } from './remove-container.js';
import type { EngineContext } from '../context.js';

/**
 * `den container prune --filter`, docker's keys: `until` (created before a time: RFC 3339, Unix
 * seconds, or a duration before now), `label` (KEY or KEY=VALUE, all must hold) and `label!`
 * (`label!=KEY[=VALUE]`: none may hold).
 */
export interface PruneFilters {
  /** Milliseconds since the epoch. */
  until?: number;
  label: string[];
  notLabel: string[];
}

/** `--filter` entries into PruneFilters; `parseTime` reads until's value (the CLI's time syntax). */
export function parsePruneFilters(entries: readonly string[], parseTime: (text: string) => number): PruneFilters {
  const filters: PruneFilters = { label: [], notLabel: [] };
  for (const entry of entries) {
    const negated = /^label!=/.test(entry);
    const eq = entry.indexOf('=');
    const key = negated ? 'label!' : entry.slice(0, Math.max(eq, 0));
    const value = entry.slice(eq + 1);
    if (key === 'until') {
      try {
        filters.until = parseTime(value);
      } catch {
        throw invalidArgument('DEN1145', `invalid filter 'until=${value}': not a time`, {
          hint: 'give an RFC 3339 time, Unix seconds, or a duration before now (24h)',
        });
      }
    } else if (key === 'label') filters.label.push(value);
    else if (key === 'label!') filters.notLabel.push(value);
    else {
      throw invalidArgument('DEN1145', `invalid filter '${eq <= 0 ? entry : key}'`, {
        hint: 'filters: until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]',
      });
    }
  }
  return filters;
}

export interface PrunedContainers {
  /** Full ids of the containers removed. */
  deleted: string[];
  /** Bytes their writable layers held. */
  reclaimed: number;
}

/**
 * Removes every stopped container (exited or only created) the filters select, as docker's
 * prune does; one that another den starts or removes meanwhile is left to it.
 */
export async function pruneContainers(ctx: EngineContext, filters: PruneFilters): Promise<PrunedContainers> {
  const stopped = ctx.containers
    .list()
    .map((c) => reconcile(ctx, c))
    .filter((c) => c.status === 'exited' || c.status === 'created')
    .filter((c) => filters.until === undefined || Date.parse(c.createdAt) < filters.until)
    .filter((c) => matchesLabels(c.config.labels ?? {}, filters.label))
    .filter((c) => filters.notLabel.every((l) => !matchesLabels(c.config.labels ?? {}, [l])));
  const sizes = writableLayerSizes(
    ctx,
    stopped.map((c) => c.id),
  );
  const result: PrunedContainers = { deleted: [], reclaimed: 0 };
  for (const c of stopped) {
    try {
      await removeContainer(ctx, c.id, false);
    } catch (e) {
      // Started, or removed, by another den meanwhile: theirs stands.
      if (isDenError(e) && (e.kind === 'Conflict' || e.kind === 'NotFound')) continue;
      throw e;
    }
    result.deleted.push(c.id);
    result.reclaimed += sizes.get(c.id) ?? 0;
  }
  return result;
}
