import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../common/seeded-random.js';
import {
  allocateRange,
  formatIdMap,
  intersectRanges,
  rangesOverlap,
  rangesSize,
  subtractRanges,
  toContainer,
  toHost,
  validateIdMap,
  type ContainerId,
  type HostId,
  type IdExtent,
  type IdRange,
} from './index.js';

/*
 * Hand-rolled property tests: a seeded generator (common/seeded-random.ts) makes every run check the
 * same cases, and a failure prints the seed and the case so it can be replayed.
 */
const SEED = Number(process.env.DEN_PROPERTY_SEED ?? 20240601);
const RUNS = 500;

const int = (rand: SeededRandom, lo: number, hi: number): number => rand.int(lo, hi);

/** Cuts [0, span) into `n` disjoint pieces at random, in random order. */
function disjointRanges(rand: SeededRandom, n: number, base: number, span: number): IdRange<number>[] {
  const cuts = new Set<number>();
  while (cuts.size < n * 2) cuts.add(int(rand, 0, span));
  const points = [...cuts].sort((a, b) => a - b);
  const out: IdRange<number>[] = [];
  for (let i = 0; i < points.length; i += 2) {
    const lo = points[i]!;
    const hi = points[i + 1]!;
    if (hi > lo) out.push({ start: base + lo, count: hi - lo });
  }
  return out.sort(() => rand.next() - 0.5);
}

/** A random valid map: disjoint container ranges paired with disjoint host ranges of the same sizes. */
function randomMap(rand: SeededRandom): IdExtent[] {
  const n = int(rand, 1, 12);
  // Huge spans exercise the top of the id space too; the last id must stay below 4294967295.
  const span = rand.next() < 0.3 ? 4294967294 : int(rand, 2 * n, 200000);
  const containers = disjointRanges(rand, n, 0, Math.min(span, 4294967294));
  const hostBase = span === 4294967294 ? 0 : int(rand, 0, 4294967294 - span);
  const hosts = disjointRanges(rand, containers.length, hostBase, span);
  const map: IdExtent[] = [];
  for (const c of containers) {
    const h = hosts.shift();
    if (h === undefined) break;
    const size = Math.min(c.count, h.count);
    map.push({ container: c.start as ContainerId, host: h.start as HostId, size });
  }
  return map;
}

test('property: random valid maps pass validateIdMap and toContainer(toHost(x)) === x', () => {
  const rand = new SeededRandom(SEED);
  for (let run = 0; run < RUNS; run++) {
    const map = randomMap(rand);
    const context = `seed ${SEED} run ${run}\n${formatIdMap(map)}`;
    assert.doesNotThrow(() => validateIdMap(map, 'uid'), context);
    for (let k = 0; k < 20; k++) {
      const e = map[int(rand, 0, map.length - 1)]!;
      // Edges of an extent are where off-by-one errors live.
      const offset = [0, e.size - 1, int(rand, 0, e.size - 1)][k % 3]!;
      const c = (e.container + offset) as ContainerId;
      const h = toHost(map, c);
      assert.equal(h, e.host + offset, context);
      assert.equal(toContainer(map, h!), c, context);
      const hostOnly = (e.host + offset) as HostId;
      assert.equal(toHost(map, toContainer(map, hostOnly)!), hostOnly, context);
    }
    // Just outside an extent is another extent's id or unmapped; either way the round trip holds.
    for (const e of map) {
      for (const outside of [e.container - 1, e.container + e.size]) {
        if (outside < 0) continue;
        const h = toHost(map, outside as ContainerId);
        if (h !== undefined) assert.equal(toContainer(map, h), outside, context);
      }
    }
  }
});

test('property: allocateRange never overlaps used and stays inside free', () => {
  const rand = new SeededRandom(SEED + 1);
  for (let run = 0; run < RUNS; run++) {
    const span = int(rand, 10, 5000);
    const free = disjointRanges(rand, int(rand, 1, 6), 100000, span);
    // Used ranges may overlap each other and stick out of the free ranges.
    const used: IdRange<number>[] = Array.from({ length: int(rand, 0, 8) }, () => ({
      start: int(rand, 99000, 100000 + span + 1000),
      count: int(rand, 1, 400),
    }));
    const size = int(rand, 1, 600);
    const context = `seed ${SEED + 1} run ${run}: free ${JSON.stringify(free)} used ${JSON.stringify(used)} size ${size}`;
    const got = allocateRange(free, used, size);
    const available = subtractRanges(free, used);
    if (got === undefined) {
      assert.ok(
        available.every((r) => r.count < size),
        `${context}: nothing allocated though a range fits`,
      );
      continue;
    }
    assert.equal(got.count, size, context);
    for (const u of used) assert.ok(!rangesOverlap(got, u), `${context}: overlaps used ${JSON.stringify(u)}`);
    assert.equal(rangesSize(intersectRanges([got], free)), size, `${context}: outside free`);
    // First fit: no available stretch below the result was big enough.
    for (const r of available) {
      if (r.start < got.start) assert.ok(r.count < size || r.start + r.count <= got.start, context);
    }
    // Allocating again with the result marked used never hands out the same ids.
    const second = allocateRange(free, [...used, got], size);
    if (second !== undefined) assert.ok(!rangesOverlap(got, second), context);
  }
});

test('property: subtract and intersect partition the ids', () => {
  const rand = new SeededRandom(SEED + 2);
  for (let run = 0; run < RUNS; run++) {
    const a = disjointRanges(rand, int(rand, 1, 6), 0, 1000);
    const b = Array.from({ length: int(rand, 0, 6) }, () => ({ start: int(rand, 0, 1100), count: int(rand, 0, 200) }));
    const minus = subtractRanges(a, b);
    const both = intersectRanges(a, b);
    const context = `seed ${SEED + 2} run ${run}: ${JSON.stringify({ a, b })}`;
    assert.equal(rangesSize(minus) + rangesSize(both), rangesSize(a), context);
    assert.equal(rangesSize(intersectRanges(minus, b)), 0, context);
    assert.equal(rangesSize(intersectRanges(minus, both)), 0, context);
  }
});
