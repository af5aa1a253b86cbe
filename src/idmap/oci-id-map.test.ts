import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromOci, mapsHostId, shiftId, shiftsIds, toOci, unshiftId, type OciIdMapping } from './oci-id-map.js';

// seed 004's example: the caller (1000) is root inside, their subordinate range above it.
const SESSION: OciIdMapping[] = [
  { containerID: 0, hostID: 1000, size: 1 },
  { containerID: 1, hostID: 100000, size: 65535 },
];

test('shiftId: each container id lands where its extent says; an id no extent covers is the overflow id', () => {
  const table: [number, number][] = [
    [0, 1000],
    [1, 100000],
    [1000, 100999],
    [65535, 165534],
    [65536, 65534],
    [70000, 65534],
  ];
  for (const [inside, outside] of table) assert.equal(shiftId(SESSION, inside), outside, `container id ${inside}`);
});

test('unshiftId: the way back; a host id no extent covers is the overflow id', () => {
  const table: [number, number][] = [
    [1000, 0],
    [100000, 1],
    [165534, 65535],
    [165535, 65534],
    [0, 65534],
  ];
  for (const [outside, inside] of table) assert.equal(unshiftId(SESSION, outside), inside, `host id ${outside}`);
  for (let id = 0; id < 65536; id += 997) assert.equal(unshiftId(SESSION, shiftId(SESSION, id)), id);
});

test('shiftsIds: only maps that move some id; none at all is no shift', () => {
  assert.equal(shiftsIds({ uid: SESSION, gid: SESSION }), true);
  const identity = [{ containerID: 0, hostID: 0, size: 65536 }];
  assert.equal(shiftsIds({ uid: identity, gid: identity }), false);
  assert.equal(shiftsIds({ uid: identity, gid: SESSION }), true, 'gids count too');
  assert.equal(shiftsIds(undefined), false);
});

test('mapsHostId: whether a host id is reachable from inside', () => {
  assert.equal(mapsHostId(SESSION, 1000), true);
  assert.equal(mapsHostId(SESSION, 0), false, 'host root is not in this map');
  assert.equal(mapsHostId(SESSION, 165534), true);
  assert.equal(mapsHostId(SESSION, 165535), false);
});

test('toOci and fromOci are inverse', () => {
  assert.deepEqual(toOci(fromOci(SESSION)), SESSION);
});
