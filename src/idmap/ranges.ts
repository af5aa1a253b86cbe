import { invalidArgument } from '../common/errors.js';
import type { HostId, IdRange } from './ids.js';

/*
 * Set arithmetic on id ranges, the ground work for allocating an isolated range per container out of
 * the subordinate ranges. Every function returns ranges sorted by start, merged where they touch or
 * overlap, and without empty ranges, whatever order and overlaps its input has.
 */

const end = (r: IdRange<number>): number => r.start + r.count;

/** True when the two ranges share at least one id. */
export function rangesOverlap<Id extends number>(a: IdRange<Id>, b: IdRange<Id>): boolean {
  return a.count > 0 && b.count > 0 && a.start < end(b) && b.start < end(a);
}

/** Sorts, drops empty ranges, and merges ranges that overlap or are adjacent. */
export function normalizeRanges<Id extends number = HostId>(ranges: readonly IdRange<Id>[]): IdRange<Id>[] {
  const sorted = ranges.filter((r) => r.count > 0).sort((a, b) => a.start - b.start);
  const out: { start: Id; count: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= end(last)) {
      last.count = Math.max(end(last), end(r)) - last.start;
    } else {
      out.push({ start: r.start, count: r.count });
    }
  }
  return out;
}

/** The ids in `from` that are not in `remove`. */
export function subtractRanges<Id extends number = HostId>(
  from: readonly IdRange<Id>[],
  remove: readonly IdRange<Id>[],
): IdRange<Id>[] {
  const holes = normalizeRanges(remove);
  const out: IdRange<Id>[] = [];
  for (const r of normalizeRanges(from)) {
    let cursor = r.start as number;
    const stop = end(r);
    for (const h of holes) {
      if (end(h) <= cursor) continue;
      if (h.start >= stop) break;
      if (h.start > cursor) out.push({ start: cursor as Id, count: h.start - cursor });
      cursor = Math.max(cursor, end(h));
      if (cursor >= stop) break;
    }
    if (cursor < stop) out.push({ start: cursor as Id, count: stop - cursor });
  }
  return out;
}

/** The ids that are in both `a` and `b`. */
export function intersectRanges<Id extends number = HostId>(
  a: readonly IdRange<Id>[],
  b: readonly IdRange<Id>[],
): IdRange<Id>[] {
  const left = normalizeRanges(a);
  const right = normalizeRanges(b);
  const out: IdRange<Id>[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const l = left[i]!;
    const r = right[j]!;
    const lo = Math.max(l.start, r.start);
    const hi = Math.min(end(l), end(r));
    if (lo < hi) out.push({ start: lo as Id, count: hi - lo });
    if (end(l) < end(r)) i++;
    else j++;
  }
  return out;
}

/** Total number of distinct ids in the ranges. */
export function rangesSize<Id extends number>(ranges: readonly IdRange<Id>[]): number {
  return normalizeRanges(ranges).reduce((n, r) => n + r.count, 0);
}

/**
 * First fit: the lowest `size` consecutive ids that lie in `free` and in none of `used`, or undefined
 * when no free stretch is long enough. Ranges are not split across gaps, because one contiguous block
 * per container keeps its map to a single extent.
 */
export function allocateRange<Id extends number = HostId>(
  free: readonly IdRange<Id>[],
  used: readonly IdRange<Id>[],
  size: number,
): IdRange<Id> | undefined {
  if (!Number.isInteger(size) || size < 1) {
    throw invalidArgument('DEN0211', `cannot allocate ${size} ids: the size must be a positive integer`);
  }
  const candidate = subtractRanges(free, used).find((r) => r.count >= size);
  return candidate === undefined ? undefined : { start: candidate.start, count: size };
}
