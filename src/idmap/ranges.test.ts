import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateRange,
  intersectRanges,
  normalizeRanges,
  rangesOverlap,
  rangesSize,
  subtractRanges,
  type IdRange,
} from './index.js';

type Pair = [number, number];
const R = (pairs: Pair[]): IdRange[] => pairs.map(([start, count]) => ({ start, count }) as IdRange);
const P = (ranges: IdRange[]): Pair[] => ranges.map((r) => [r.start, r.count]);

test('normalizeRanges: sorts, merges touching and overlapping, drops empty', () => {
  const cases: [Pair[], Pair[]][] = [
    [[], []],
    [[[5, 0]], []],
    [
      [
        [10, 5],
        [0, 5],
      ],
      [
        [0, 5],
        [10, 5],
      ],
    ],
    [
      [
        [0, 5],
        [5, 5],
      ],
      [[0, 10]],
    ],
    [
      [
        [0, 10],
        [2, 3],
      ],
      [[0, 10]],
    ],
    [
      [
        [8, 10],
        [0, 9],
        [30, 1],
      ],
      [
        [0, 18],
        [30, 1],
      ],
    ],
  ];
  for (const [input, want] of cases) assert.deepEqual(P(normalizeRanges(R(input))), want, JSON.stringify(input));
});

test('subtractRanges', () => {
  const cases: { from: Pair[]; remove: Pair[]; want: Pair[] }[] = [
    { from: [[0, 10]], remove: [], want: [[0, 10]] },
    { from: [[0, 10]], remove: [[0, 10]], want: [] },
    {
      from: [[0, 10]],
      remove: [[3, 2]],
      want: [
        [0, 3],
        [5, 5],
      ],
    },
    { from: [[0, 10]], remove: [[0, 1]], want: [[1, 9]] },
    { from: [[0, 10]], remove: [[9, 5]], want: [[0, 9]] },
    {
      from: [[10, 10]],
      remove: [
        [0, 5],
        [25, 5],
      ],
      want: [[10, 10]],
    },
    {
      from: [
        [0, 10],
        [20, 10],
      ],
      remove: [[5, 20]],
      want: [
        [0, 5],
        [25, 5],
      ],
    },
    {
      from: [[0, 100]],
      remove: [
        [10, 10],
        [15, 10],
        [50, 1],
      ],
      want: [
        [0, 10],
        [25, 25],
        [51, 49],
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(P(subtractRanges(R(c.from), R(c.remove))), c.want, JSON.stringify(c));
});

test('intersectRanges', () => {
  const cases: { a: Pair[]; b: Pair[]; want: Pair[] }[] = [
    { a: [[0, 10]], b: [], want: [] },
    { a: [[0, 10]], b: [[10, 10]], want: [] },
    { a: [[0, 10]], b: [[5, 10]], want: [[5, 5]] },
    {
      a: [[0, 100]],
      b: [
        [10, 5],
        [50, 60],
      ],
      want: [
        [10, 5],
        [50, 50],
      ],
    },
    {
      a: [
        [0, 5],
        [10, 5],
      ],
      b: [[3, 10]],
      want: [
        [3, 2],
        [10, 3],
      ],
    },
  ];
  for (const c of cases) {
    assert.deepEqual(P(intersectRanges(R(c.a), R(c.b))), c.want, JSON.stringify(c));
    assert.deepEqual(P(intersectRanges(R(c.b), R(c.a))), c.want, `commuted ${JSON.stringify(c)}`);
  }
});

test('rangesOverlap and rangesSize', () => {
  const [a, b, c, empty] = R([
    [0, 10],
    [9, 1],
    [10, 1],
    [5, 0],
  ]) as [IdRange, IdRange, IdRange, IdRange];
  assert.equal(rangesOverlap(a, b), true);
  assert.equal(rangesOverlap(a, c), false);
  assert.equal(rangesOverlap(a, empty), false);
  assert.equal(rangesSize([a, b, c]), 11);
});

test('allocateRange: first fit', () => {
  const cases: { free: Pair[]; used: Pair[]; size: number; want: Pair | undefined }[] = [
    { free: [[100000, 65536]], used: [], size: 65536, want: [100000, 65536] },
    { free: [[100000, 65536]], used: [], size: 65537, want: undefined },
    { free: [[0, 100]], used: [[0, 10]], size: 5, want: [10, 5] },
    {
      free: [[0, 100]],
      used: [
        [3, 10],
        [20, 10],
      ],
      size: 7,
      want: [13, 7],
    },
    {
      free: [[0, 100]],
      used: [
        [3, 10],
        [20, 10],
      ],
      size: 8,
      want: [30, 8],
    },
    {
      free: [
        [500, 10],
        [0, 10],
      ],
      used: [],
      size: 10,
      want: [0, 10],
    },
    {
      free: [
        [0, 5],
        [5, 5],
      ],
      used: [],
      size: 10,
      want: [0, 10],
    },
    {
      free: [
        [0, 5],
        [6, 5],
      ],
      used: [],
      size: 10,
      want: undefined,
    },
    { free: [], used: [], size: 1, want: undefined },
  ];
  for (const c of cases) {
    const got = allocateRange(R(c.free), R(c.used), c.size);
    assert.deepEqual(got === undefined ? undefined : [got.start, got.count], c.want, JSON.stringify(c));
  }
  for (const size of [0, -1, 1.5]) {
    assert.throws(() => allocateRange(R([[0, 10]]), [], size), { code: 'DEN0211' });
  }
});
