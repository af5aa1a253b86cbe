import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  containerId,
  formatIdMap,
  hostId,
  mapSize,
  mountThroughSession,
  newIdMapArgs,
  overflowId,
  parseIdMapSpec,
  parseSubordinateIds,
  rangesFor,
  sessionMap,
  splitAlongExtents,
  toContainer,
  toHost,
  validateIdMap,
  type IdExtent,
  type IdMap,
  type IdRange,
} from './index.js';

/** Builds a map from `[container, host, size]` triples, unchecked, so tests can build bad maps too. */
const m = (...triples: [number, number, number][]): IdExtent[] =>
  triples.map(([c, h, s]) => ({ container: c, host: h, size: s }) as unknown as IdExtent);
const r = (start: number, count: number): IdRange => ({ start: hostId(start), count });

test('sessionMap: the example from /etc/subuid becomes the uid_map lines', () => {
  const entries = parseSubordinateIds('alexander:1000:1\nalexander:100000:65535\n', '/etc/subuid');
  const map = sessionMap(1000, rangesFor(entries, { name: 'alexander', uid: 1000 }));
  assert.equal(formatIdMap(map), '0 1000 1\n1 100000 65535\n');
  assert.deepEqual(newIdMapArgs(map), ['0', '1000', '1', '1', '100000', '65535']);
  assert.equal(mapSize(map), 65536);
  validateIdMap(map, 'uid');
});

test('sessionMap: layouts', () => {
  const cases: { name: string; own: number; ranges: IdRange[]; want: string }[] = [
    { name: 'no subordinate ranges', own: 1000, ranges: [], want: '0 1000 1\n' },
    { name: 'one range', own: 1000, ranges: [r(100000, 65536)], want: '0 1000 1\n1 100000 65536\n' },
    {
      name: 'several ranges keep their order',
      own: 1000,
      ranges: [r(300000, 10), r(100000, 5)],
      want: '0 1000 1\n1 300000 10\n11 100000 5\n',
    },
    {
      name: 'own id inside a range is cut out',
      own: 100005,
      ranges: [r(100000, 10)],
      want: '0 100005 1\n1 100000 5\n6 100006 4\n',
    },
    {
      name: 'the same range under name and uid is mapped once',
      own: 1000,
      ranges: [r(100000, 10), r(100000, 10), r(100005, 10)],
      want: '0 1000 1\n1 100000 10\n11 100010 5\n',
    },
    {
      name: 'container ids stop before 4294967295',
      own: 0,
      ranges: [r(1, 4294967294)],
      want: '0 0 1\n1 1 4294967294\n',
    },
  ];
  for (const c of cases) {
    const map = sessionMap(c.own, c.ranges);
    assert.equal(formatIdMap(map), c.want, c.name);
    validateIdMap(map, 'uid');
  }
});

test('validateIdMap: accepts valid maps', () => {
  const ok: IdMap[] = [
    m([0, 1000, 1]),
    m([0, 1000, 1], [1, 100000, 65536]),
    m([0, 0, 4294967295]),
    m([4294967294, 4294967294, 1]),
    m([10, 0, 5], [0, 5, 5]),
    Array.from({ length: 340 }, (_, i) => m([i, 1000 + i, 1])[0]!),
  ];
  for (const map of ok) validateIdMap(map, 'uid');
});

test('validateIdMap: each kernel rule, with the entry at fault', () => {
  const cases: { name: string; map: IdMap; kind: 'uid' | 'gid'; code: string; message: string | RegExp }[] = [
    { name: 'empty', map: [], kind: 'uid', code: 'DEN0204', message: 'uid map is empty: it must map at least one id' },
    {
      name: '341 extents',
      map: Array.from({ length: 341 }, (_, i) => m([i, 1000 + i, 1])[0]!),
      kind: 'gid',
      code: 'DEN0205',
      message: 'gid map has 341 entries; the kernel accepts at most 340 (5 before Linux 4.15)',
    },
    {
      name: 'size 0',
      map: m([0, 1000, 1], [1, 100000, 0]),
      kind: 'uid',
      code: 'DEN0206',
      message: 'uid map entry 2 (1 100000 0): size 0 must be a whole number of at least 1',
    },
    {
      name: 'fractional size',
      map: m([0, 1000, 1.5]),
      kind: 'uid',
      code: 'DEN0206',
      message: 'uid map entry 1 (0 1000 1.5): size 1.5 must be a whole number of at least 1',
    },
    {
      name: 'negative container id',
      map: m([-1, 1000, 1]),
      kind: 'uid',
      code: 'DEN0207',
      message: 'uid map entry 1 (-1 1000 1): container id -1 is not a valid id (0-4294967294)',
    },
    {
      name: 'host id beyond 32 bits',
      map: m([0, 2 ** 32, 1]),
      kind: 'gid',
      code: 'DEN0207',
      message: 'gid map entry 1 (0 4294967296 1): host id 4294967296 is not a valid id (0-4294967294)',
    },
    {
      name: 'container range reaching (uid_t)-1',
      map: m([4294967290, 1000, 6]),
      kind: 'uid',
      code: 'DEN0207',
      message:
        'uid map entry 1 (4294967290 1000 6): container ids 4294967290-4294967295 go past 4294967294; ' +
        '4294967295 is (uid_t)-1 and can never be mapped',
    },
    {
      name: 'host range reaching (gid_t)-1',
      map: m([0, 4294967295 - 10, 11]),
      kind: 'gid',
      code: 'DEN0207',
      message: /^gid map entry 1 \(0 4294967285 11\): host ids 4294967285-4294967295 go past .*\(gid_t\)-1/,
    },
    {
      name: 'container overlap',
      map: m([0, 1000, 1], [1, 100000, 10], [5, 200000, 10]),
      kind: 'uid',
      code: 'DEN0208',
      message: 'uid map entry 2 (1 100000 10) and entry 3 (5 200000 10) both map container ids 5-10',
    },
    {
      name: 'container overlap reported in entry order',
      map: m([5, 200000, 10], [0, 1000, 1], [1, 100000, 10]),
      kind: 'uid',
      code: 'DEN0208',
      message: 'uid map entry 1 (5 200000 10) and entry 3 (1 100000 10) both map container ids 5-10',
    },
    {
      name: 'host overlap',
      map: m([0, 1000, 1], [1, 1000, 1]),
      kind: 'gid',
      code: 'DEN0209',
      message: 'gid map entry 1 (0 1000 1) and entry 2 (1 1000 1) both map host ids 1000-1000',
    },
    {
      name: 'host overlap with a non-neighbour in entry order',
      map: m([0, 100, 50], [100, 500, 1], [200, 149, 2]),
      kind: 'uid',
      code: 'DEN0209',
      message: 'uid map entry 1 (0 100 50) and entry 3 (200 149 2) both map host ids 149-149',
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => validateIdMap(c.map, c.kind),
      { code: c.code, kind: 'InvalidArgument', message: c.message },
      c.name,
    );
  }
});

test('toHost and toContainer: table', () => {
  const map = m([0, 1000, 1], [1, 100000, 65535]);
  const cases: [number, number | undefined][] = [
    [0, 1000],
    [1, 100000],
    [2, 100001],
    [3, 100002],
    [65535, 165534],
    [65536, undefined],
    [4294967294, undefined],
  ];
  for (const [c, h] of cases) {
    assert.equal(toHost(map, containerId(c)), h, `container ${c}`);
    if (h !== undefined) assert.equal(toContainer(map, hostId(h)), c, `host ${h}`);
  }
  // The seed's example: host 100002 is container 3, and host 1000 is container root.
  assert.equal(toContainer(map, hostId(100002)), 3);
  assert.equal(toContainer(map, hostId(1000)), 0);
  assert.equal(toContainer(map, hostId(999)), undefined);
  assert.equal(toContainer(map, hostId(165535)), undefined);
});

test('mapSize, formatIdMap and newIdMapArgs of the empty map', () => {
  assert.equal(mapSize([]), 0);
  assert.equal(formatIdMap([]), '');
  assert.deepEqual(newIdMapArgs([]), []);
});

test('parseIdMapSpec: valid specs', () => {
  const cases: [string, string][] = [
    ['0:100000:65536', '0 100000 65536\n'],
    ['1000:0:1,0:1:1000', '1000 0 1\n0 1 1000\n'],
    [' 0 : 1000 : 1 , 1:100000:10 ', '0 1000 1\n1 100000 10\n'],
    ['4294967294:0:1', '4294967294 0 1\n'],
  ];
  for (const [spec, want] of cases) assert.equal(formatIdMap(parseIdMapSpec(spec)), want, spec);
});

test('parseIdMapSpec: bad specs', () => {
  const cases: [string, string][] = [
    ['', '--uidmap "": the mapping is empty'],
    ['0:1000', '--uidmap "0:1000": entry 1 "0:1000" is not container:host:size'],
    ['0:1000:1:2', '--uidmap "0:1000:1:2": entry 1 "0:1000:1:2" is not container:host:size'],
    ['0:1000:1,', '--uidmap "0:1000:1,": entry 2 is empty'],
    ['0:1000:x', '--uidmap "0:1000:x": entry 1: size "x" is not a number'],
    ['a:1000:1', '--uidmap "a:1000:1": entry 1: container id "a" is not a number'],
    ['0:-1:1', '--uidmap "0:-1:1": entry 1: host id "-1" is not a number'],
    ['0:1000:0', '--uidmap "0:1000:0": entry 1: size must be at least 1'],
    [
      '0:4294967295:1',
      '--uidmap "0:4294967295:1": entry 1: host ids 4294967295-4294967295 go past the highest id 4294967294',
    ],
    [
      '0:1:1,4294967290:0:10',
      '--uidmap "0:1:1,4294967290:0:10": entry 2: container ids 4294967290-4294967299 go past the highest id 4294967294',
    ],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseIdMapSpec(spec), { code: 'DEN0210', message }, spec);
  }
  assert.throws(() => parseIdMapSpec('x', '--gidmap'), {
    message: '--gidmap "x": entry 1 "x" is not container:host:size',
  });
});

test('hostId and containerId reject what is not an id', () => {
  for (const bad of [-1, 1.5, 4294967295, 2 ** 32, Number.NaN]) {
    assert.throws(() => hostId(bad), { code: 'DEN0212' }, String(bad));
    assert.throws(() => containerId(bad), { code: 'DEN0212' }, String(bad));
  }
  assert.equal(hostId(0), 0);
  assert.equal(containerId(4294967294), 4294967294);
});

test('overflowId: reads the kernel setting, falls back to 65534', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'den-idmap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'overflowuid');
  writeFileSync(file, '4242\n');
  assert.equal(overflowId('uid', file), 4242);
  writeFileSync(file, 'garbage\n');
  assert.equal(overflowId('uid', file), 65534);
  assert.equal(overflowId('gid', join(dir, 'missing')), 65534);
  assert.equal(typeof overflowId('uid'), 'number');
});

describe('splitAlongExtents', () => {
  const parent = [
    { start: containerId(0), count: 1 },
    { start: containerId(1), count: 65536 },
    { start: containerId(65537), count: 196608 },
  ];
  const ext = (c: number, h: number, n: number) => ({ container: containerId(c), host: hostId(h), size: n });

  test('cuts an extent where it crosses into the next parent extent, keeping container ids contiguous', () => {
    assert.deepEqual(splitAlongExtents([ext(0, 1, 70000)], parent), [ext(0, 1, 65536), ext(65536, 65537, 4464)]);
  });

  test('keep-id: caller in the middle, the rest across two extents', () => {
    const map = [ext(0, 1, 1000), ext(1000, 0, 1), ext(1001, 1001, 262144 - 1001)];
    const split = splitAlongExtents(map, parent);
    assert.deepEqual(split, [ext(0, 1, 1000), ext(1000, 0, 1), ext(1001, 1001, 64536), ext(65537, 65537, 196607)]);
    assert.equal(mapSize(split), mapSize(map));
  });

  test('leaves extents inside one parent extent, and ids outside all of them, alone', () => {
    assert.deepEqual(splitAlongExtents([ext(0, 10, 5)], parent), [ext(0, 10, 5)]);
    assert.deepEqual(splitAlongExtents([ext(0, 300000, 5)], parent), [ext(0, 300000, 5)]);
  });
});

describe('mountThroughSession', () => {
  // dentest's session: own uid 1001, then 100000+65536 and 200000+196608.
  const session = m([0, 1001, 1], [1, 100000, 65536], [65537, 200000, 196608]);
  const x = (onDisk: number, seen: number, size: number) => ({ onDisk, seen, size });

  test('table', () => {
    const cases: [string, IdExtent[], ReturnType<typeof x>[]][] = [
      // The session's own mapping: every id to itself.
      ['host', m([0, 0, 262145]), [x(1001, 1001, 1), x(100000, 100000, 65536), x(200000, 200000, 196608)]],
      // auto: a block of its own from session id 65537 (the second range).
      ['auto', m([0, 65537, 1024]), [x(1001, 200000, 1), x(100000, 200001, 1023)]],
      // auto crossing the first range's end on the seen side: cut there.
      ['auto across', m([0, 65000, 1000]), [x(1001, 164999, 1), x(100000, 165000, 536), x(100536, 200000, 463)]],
      // keep-id: container 1001 is the caller (session 0), 0..1000 the first subordinate ids.
      [
        'keep-id',
        m([0, 1, 1001], [1001, 0, 1], [1002, 1002, 1000]),
        [x(1001, 100000, 1), x(100000, 100001, 1000), x(101000, 1001, 1), x(101001, 101001, 1000)],
      ],
      // Container ids the session has none of are left out.
      ['past the session', m([262140, 1, 10]), [x(200000 + 196603, 100000, 5)]],
    ];
    for (const [name, container, expected] of cases) {
      assert.deepEqual(mountThroughSession(container, session), expected, name);
    }
  });

  test('a container map naming session ids the session lacks is an error', () => {
    assert.throws(() => mountThroughSession(m([0, 262145, 1]), session), /session id 262145/);
  });
});
