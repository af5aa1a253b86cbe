import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DenError } from '../common/errors.js';
import { openDatabase, type Db } from '../state/index.js';
import type { ContainerRecord } from './container.js';
import { ContainerStore } from './container-store.js';
import { canTransition, type ContainerStatus, type LifecycleEvent } from './lifecycle.js';

const IMAGE = 'sha256:' + '0'.repeat(64);
const STATUSES: ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'exited', 'removing'];

describe('the lifecycle: which events each status allows', () => {
  // Rows: status; columns: the events. The whole table, so a new edge is a decision.
  const table: Record<ContainerStatus, Record<LifecycleEvent, boolean>> = {
    created: {
      start: true,
      restart: false,
      exit: false,
      fail: true,
      pause: false,
      unpause: false,
      backoff: false,
      remove: true,
    },
    running: {
      start: false,
      restart: false,
      exit: true,
      fail: true,
      pause: true,
      unpause: false,
      backoff: true,
      remove: false,
    },
    paused: {
      start: false,
      restart: false,
      exit: true,
      fail: false,
      pause: false,
      unpause: true,
      backoff: false,
      remove: false,
    },
    restarting: {
      start: true,
      restart: true,
      exit: true,
      fail: true,
      pause: false,
      unpause: false,
      backoff: false,
      remove: false,
    },
    exited: {
      start: true,
      restart: false,
      exit: false,
      fail: true,
      pause: false,
      unpause: false,
      backoff: false,
      remove: true,
    },
    removing: {
      start: false,
      restart: false,
      exit: false,
      fail: false,
      pause: false,
      unpause: false,
      backoff: false,
      remove: true,
    },
  };
  for (const status of STATUSES) {
    for (const [event, allowed] of Object.entries(table[status]) as [LifecycleEvent, boolean][]) {
      test(`${status} ${allowed ? 'allows' : 'refuses'} ${event}`, () => {
        assert.equal(canTransition(status, event), allowed);
      });
    }
  }
});

describe('ContainerStore.transition: compare-and-set in the database', () => {
  let dir: string;
  let db: Db;
  let store: ContainerStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'den-lifecycle-'));
    db = openDatabase(dir);
    store = new ContainerStore(db);
    // Containers refer to their image.
    db.prepare(
      'INSERT INTO images (id, manifest_digest, config, layers, size, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(IMAGE, IMAGE, '{}', '[]', 0, new Date().toISOString());
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const record = (): ContainerRecord => {
    n++;
    return store.insert({
      id: n.toString(16).padStart(64, '0'),
      name: `c${n}`,
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
  };

  test('start records the monitor and clears the last exit code; exit records the code and forgets the monitor', () => {
    const c = record();
    const running = store.transition(c.id, 'start', { monitorPid: 4242, monitorStart: '99', monitor: 'conmon' });
    assert.equal(running.status, 'running');
    assert.equal(running.pid, 4242);
    assert.equal(running.pidStart, '99');
    assert.equal(running.exitCode, null);
    assert.ok(running.startedAt);
    const exited = store.transition(c.id, 'exit', { exitCode: 3 });
    assert.deepEqual([exited.status, exited.pid, exited.exitCode], ['exited', null, 3]);
    assert.ok(exited.finishedAt);
    const again = store.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'attached' });
    assert.deepEqual([again.status, again.exitCode], ['running', null]);
  });

  test("a restart policy's start counts and keeps a requested stop; a user's start resets both", () => {
    const c = record();
    store.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'conmon' });
    const waiting = store.transition(c.id, 'backoff', { exitCode: 2, monitorPid: 9, monitorStart: '9' });
    assert.deepEqual([waiting.status, waiting.exitCode, waiting.pid, waiting.monitor], ['restarting', 2, 9, null]);
    store.markStopRequested(c.id);
    const restarted = store.transition(c.id, 'start', { monitorPid: 2, monitorStart: '2', monitor: 'conmon' });
    assert.deepEqual([restarted.restartCount, restarted.stopRequested], [1, true]);
    store.transition(c.id, 'exit', { exitCode: 0 });
    const byUser = store.transition(c.id, 'start', {
      monitorPid: 3,
      monitorStart: '3',
      monitor: 'conmon',
      initPid: 77,
    });
    assert.deepEqual([byUser.restartCount, byUser.stopRequested, byUser.initPid], [0, false, 77]);
  });

  test('pause and unpause keep the monitor; a paused container cannot be removed', () => {
    const c = record();
    store.transition(c.id, 'start', { monitorPid: 5, monitorStart: '5', monitor: 'conmon' });
    assert.equal(store.transition(c.id, 'pause').status, 'paused');
    assert.throws(() => store.transition(c.id, 'remove'), /container is paused/);
    const resumed = store.transition(c.id, 'unpause');
    assert.deepEqual([resumed.status, resumed.pid], ['running', 5]);
  });

  test('of two dens starting one container, one wins and the other gets a Conflict naming the status', () => {
    const c = record();
    const other = new ContainerStore(openDatabase(dir)); // a second den: its own connection
    other.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'attached' });
    assert.throws(
      () => store.transition(c.id, 'start', { monitorPid: 2, monitorStart: '2', monitor: 'attached' }),
      (e: unknown) =>
        e instanceof DenError &&
        e.kind === 'Conflict' &&
        e.reason === 'lifecycle' &&
        /cannot start container "\/c\d+": container is already running \(status running\)/.test(e.message),
    );
    assert.equal(store.get(c.id)?.pid, 1, 'the loser changed nothing');
  });

  test('a running container cannot be marked for removal; a removing one cannot be started', () => {
    const c = record();
    store.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'attached' });
    assert.throws(() => store.transition(c.id, 'remove'), /container is running/);
    store.transition(c.id, 'exit', { exitCode: 0 });
    assert.equal(store.transition(c.id, 'remove').status, 'removing');
    assert.equal(store.transition(c.id, 'remove').status, 'removing', 'a crashed rm is finished by the next');
    assert.throws(
      () => store.transition(c.id, 'start', { monitorPid: 1, monitorStart: '1', monitor: 'attached' }),
      /being removed/,
    );
  });

  test('an event on a record another den deleted says it is gone', () => {
    const c = record();
    store.delete(c.id);
    assert.throws(() => store.transition(c.id, 'remove'), /is gone: another den removed it/);
  });
});
