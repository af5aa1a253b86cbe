import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DenError } from '../common/errors.js';
import { openDatabase, type Db } from '../state/index.js';
import { ContainerStore } from './container-store.js';
import type { ContainerRecord, HealthConfig, HealthProbe, HealthState } from './container.js';
import { describeStatus } from './container.js';
import {
  activeHealthcheck,
  goDuration,
  healthFilter,
  probeArgv,
  probeOutput,
  recordProbe,
  startingHealth,
} from './health.js';

const STARTED = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(STARTED) + seconds * 1000).toISOString();
const probe = (seconds: number, exitCode: number): HealthProbe => ({
  start: at(seconds),
  end: at(seconds + 0.1),
  exitCode,
  output: '',
});
const check = (retries: number, startPeriodSeconds = 0) => ({ retries, startPeriod: startPeriodSeconds * 1e9 });

/** Feeds probes (seconds after the start, exit code) to a starting container; the statuses after each. */
function run(rules: { retries: number; startPeriod: number }, probes: [number, number][]): string[] {
  let h: HealthState | null = startingHealth(null);
  return probes.map(([s, code]) => {
    h = recordProbe(h, probe(s, code), rules, STARTED);
    return `${h.status}/${h.failingStreak}`;
  });
}

describe('health: one probe at a time, as docker counts them', () => {
  // [what, retries, start period (s), probes as [seconds after start, exit code], statuses after each]
  const table: [string, number, number, [number, number][], string[]][] = [
    ['a success makes a starting container healthy', 3, 0, [[1, 0]], ['healthy/0']],
    [
      'failures stay starting until retries in a row, then unhealthy',
      2,
      0,
      [
        [1, 1],
        [2, 1],
        [3, 1],
      ],
      ['starting/1', 'unhealthy/2', 'unhealthy/3'],
    ],
    [
      'a healthy container stays healthy below retries, and a success clears the streak',
      3,
      0,
      [
        [1, 0],
        [2, 1],
        [3, 1],
        [4, 0],
        [5, 1],
      ],
      ['healthy/0', 'healthy/1', 'healthy/2', 'healthy/0', 'healthy/1'],
    ],
    [
      'unhealthy until the next success',
      1,
      0,
      [
        [1, 1],
        [2, 0],
      ],
      ['unhealthy/1', 'healthy/0'],
    ],
    [
      'failures that start within the start period do not count',
      1,
      5,
      [
        [1, 1],
        [4.9, 1],
        [5, 1],
      ],
      ['starting/0', 'starting/0', 'unhealthy/1'],
    ],
    [
      'a success within the start period makes it healthy, and later failures count at once',
      1,
      60,
      [
        [1, 0],
        [2, 1],
      ],
      ['healthy/0', 'unhealthy/1'],
    ],
    [
      'a timeout (-1) and any other status are failures',
      2,
      0,
      [
        [1, -1],
        [2, 2],
      ],
      ['starting/1', 'unhealthy/2'],
    ],
  ];
  for (const [what, retries, period, probes, expected] of table) {
    test(what, () => assert.deepEqual(run(check(retries, period), probes), expected));
  }

  test('the log keeps the last five probes, oldest first, across a restart', () => {
    let h: HealthState | null = null;
    for (let i = 1; i <= 7; i++) h = recordProbe(h, probe(i, i), check(3), STARTED);
    assert.deepEqual(
      h!.log.map((p) => p.exitCode),
      [3, 4, 5, 6, 7],
    );
    const restarted = startingHealth(h);
    assert.equal(restarted.status, 'starting');
    assert.equal(restarted.failingStreak, 0);
    assert.equal(restarted.log.length, 5);
  });
});

describe('health: the check as it runs', () => {
  test("docker's defaults fill zeros; NONE, an empty test and no check are none", () => {
    const zeros: HealthConfig = { test: ['CMD', 'true'], interval: 0, timeout: 0, startPeriod: 0, retries: 0 };
    assert.deepEqual(activeHealthcheck(zeros), { ...zeros, interval: 30e9, timeout: 30e9, retries: 3 });
    const given = { test: ['CMD-SHELL', 'x'], interval: 1e9, timeout: 2e9, startPeriod: 3e9, retries: 4 };
    assert.deepEqual(activeHealthcheck(given), given);
    assert.equal(activeHealthcheck({ ...zeros, test: ['NONE'] }), undefined);
    assert.equal(activeHealthcheck({ ...zeros, test: [] }), undefined);
    assert.equal(activeHealthcheck(undefined), undefined);
  });

  test('CMD runs its argv, CMD-SHELL runs /bin/sh -c, anything else nothing', () => {
    assert.deepEqual(probeArgv(['CMD', 'pg_isready', '-q']), ['pg_isready', '-q']);
    assert.deepEqual(probeArgv(['CMD-SHELL', 'curl -f x || exit 1']), ['/bin/sh', '-c', 'curl -f x || exit 1']);
    assert.equal(probeArgv(['CMD']), undefined);
    assert.equal(probeArgv(['NONE']), undefined);
    assert.equal(probeArgv(['SHELL', 'x']), undefined);
  });

  test('output is kept to 4096 bytes, with "..." where it was cut', () => {
    assert.equal(probeOutput(Buffer.from('ok\n'), false), 'ok\n');
    const long = Buffer.alloc(5000, 'a');
    assert.equal(probeOutput(long, false), 'a'.repeat(4096) + '...');
    assert.equal(probeOutput(long.subarray(0, 4096), true), 'a'.repeat(4096) + '...');
  });

  test('durations print as Go prints them (the timeout message)', () => {
    for (const [ns, text] of [
      [0, '0s'],
      [1e9, '1s'],
      [1.5e9, '1.5s'],
      [30e9, '30s'],
      [90e9, '1m30s'],
      [3600e9, '1h0m0s'],
      [5e8, '500ms'],
      [1.5e6, '1.5ms'],
      [2000, '2µs'],
      [7, '7ns'],
    ] as [number, string][]) {
      assert.equal(goDuration(ns), text, String(ns));
    }
  });
});

describe('health: what ps shows and filters', () => {
  const record = (health: HealthState | null): ContainerRecord =>
    ({ status: 'running', startedAt: new Date().toISOString(), createdAt: STARTED, health }) as ContainerRecord;
  const h = (status: HealthState['status']): HealthState => ({ status, failingStreak: 0, log: [] });

  test('STATUS carries the health as docker words it', () => {
    assert.match(describeStatus(record(h('starting'))), /^Up .* \(health: starting\)$/);
    assert.match(describeStatus(record(h('healthy'))), /^Up .* \(healthy\)$/);
    assert.match(describeStatus(record(h('unhealthy'))), /^Up .* \(unhealthy\)$/);
    assert.doesNotMatch(describeStatus(record(null)), /\(/);
  });

  test('--filter health=: values are alternatives; none is a container without health', () => {
    const cs = [record(h('starting')), record(h('healthy')), record(h('unhealthy')), record(null)];
    const pick = (...values: string[]) => cs.map(healthFilter(values));
    assert.deepEqual(pick('healthy'), [false, true, false, false]);
    assert.deepEqual(pick('none'), [false, false, false, true]);
    assert.deepEqual(pick('starting', 'unhealthy'), [true, false, true, false]);
    assert.throws(
      () => healthFilter(['sick']),
      (e) => e instanceof DenError && e.code === 'DEN1133' && /health=sick/.test(e.message),
    );
  });
});

describe('ContainerStore.updateHealth: a probe lands only in the run it probed', () => {
  const IMAGE = 'sha256:' + '0'.repeat(64);
  let dir: string;
  let db: Db;
  let store: ContainerStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'den-health-'));
    db = openDatabase(dir);
    store = new ContainerStore(db);
    db.prepare(
      'INSERT INTO images (id, manifest_digest, config, layers, size, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(IMAGE, IMAGE, '{}', '[]', 0, new Date().toISOString());
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('applied to the health as it is now; refused once the run ended or another began', async () => {
    const c = store.insert({
      id: 'a'.repeat(64),
      name: 'probed',
      imageId: IMAGE,
      imageName: 'busybox',
      config: {} as ContainerRecord['config'],
      status: 'created',
      pid: null,
      pidStart: null,
      monitor: null,
      initPid: null,
      exitCode: null,
      restartCount: 0,
      stopRequested: false,
      health: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    });
    const rules = check(3);
    const fail = (h: HealthState | null) => recordProbe(h, probe(1, 1), rules, STARTED);
    assert.equal(store.updateHealth(c.id, 'never started', fail), undefined);
    const run1 = store.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'conmon' });
    store.setHealth(c.id, startingHealth(null));
    store.updateHealth(c.id, run1.startedAt!, fail);
    store.updateHealth(c.id, run1.startedAt!, fail);
    assert.deepEqual(
      [store.get(c.id)!.health!.failingStreak, store.get(c.id)!.health!.log.length],
      [2, 2],
      'the second probe saw the first',
    );
    store.transition(c.id, 'exit', { exitCode: 0 });
    assert.equal(store.updateHealth(c.id, run1.startedAt!, fail), undefined, 'the run ended');
    await new Promise((r) => setTimeout(r, 5));
    store.transition(c.id, 'start', { monitorPid: 2, monitorStart: '2', monitor: 'conmon' });
    assert.equal(store.updateHealth(c.id, run1.startedAt!, fail), undefined, 'a later run');
    assert.equal(store.get(c.id)!.health, null, 'a start clears the health');
  });
});
