import { conflict, notFound } from '../common/errors.js';
import type { Db } from '../state/index.js';
import { writeTransaction } from '../state/index.js';
import type { ContainerConfig, ContainerRecord, HealthState, MonitorKind } from './container.js';
import { TRANSITIONS, transitionRefused, type ContainerStatus, type LifecycleEvent } from './lifecycle.js';

interface Row {
  id: string;
  name: string;
  image_id: string;
  image_name: string;
  spec: string;
  status: ContainerStatus;
  pid: number | null;
  pid_start: string | null;
  monitor: MonitorKind | null;
  init_pid: number | null;
  exit_code: number | null;
  restart_count: number;
  stop_requested: number;
  health: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const toRecord = (r: Row): ContainerRecord => ({
  id: r.id,
  name: r.name,
  imageId: r.image_id,
  imageName: r.image_name,
  config: JSON.parse(r.spec) as ContainerConfig,
  status: r.status,
  pid: r.pid,
  pidStart: r.pid_start,
  monitor: r.monitor,
  initPid: r.init_pid,
  exitCode: r.exit_code,
  restartCount: r.restart_count,
  stopRequested: r.stop_requested !== 0,
  health: r.health === null ? null : (JSON.parse(r.health) as HealthState),
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** What a start records: who watches the container, and its init when already known. */
export interface StartFields {
  monitorPid: number;
  monitorStart: string;
  monitor: MonitorKind;
  initPid?: number;
}

interface TransitionFields extends Partial<StartFields> {
  exitCode?: number | null;
}

/**
 * A change to a container's record, told to the store's observer: the engine keeps its events
 * journal from these. A lifecycle event carries the status it left. Creations, renames and removals
 * are told once committed; a lifecycle transition inside its write transaction, just before the
 * commit, so that a den that waits for a status (den stop waiting for the exit) finds the event
 * of that status in the journal before it adds its own (docker's die, then stop).
 */
export type ContainerChange =
  | { kind: 'create' | 'destroy'; container: ContainerRecord }
  | { kind: 'transition'; event: LifecycleEvent; from: ContainerStatus | undefined; container: ContainerRecord }
  | { kind: 'rename'; oldName: string; container: ContainerRecord };

/**
 * Container records in the state database. Every change to a record passes through here, so the
 * observer hears of each exactly once: a lifecycle event only from the den whose compare-and-set won.
 */
export class ContainerStore {
  constructor(
    private readonly db: Db,
    private readonly observe: (change: ContainerChange) => void = () => {},
  ) {}

  /**
   * Records a new container. `within` runs in the same transaction after the insert (allocating
   * its id range), and may return a config to store instead: all of it commits or none does.
   */
  insert(c: ContainerRecord, within?: () => ContainerConfig | undefined): ContainerRecord {
    const inserted = writeTransaction(this.db, () => {
      const clash = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(c.name) as
        { id: string } | undefined;
      if (clash) {
        throw conflict(
          'DEN0602',
          `container name "/${c.name}" is already in use by container ${clash.id.slice(0, 12)}`,
          {
            hint: 'remove that container (den rm) or choose another --name',
          },
        );
      }
      this.db
        .prepare(
          `INSERT INTO containers (id, name, image_id, image_name, spec, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(c.id, c.name, c.imageId, c.imageName, JSON.stringify(c.config), c.status, c.createdAt);
      const config = within?.();
      if (!config) return c;
      this.db.prepare('UPDATE containers SET spec = ? WHERE id = ?').run(JSON.stringify(config), c.id);
      return { ...c, config };
    });
    this.observe({ kind: 'create', container: inserted });
    return inserted;
  }

  list(): ContainerRecord[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created_at DESC').all() as Row[]).map(toRecord);
  }

  get(id: string): ContainerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Finds a container by full id, name, or unambiguous id prefix, as docker does. */
  resolve(ref: string): ContainerRecord {
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const row =
      (this.db.prepare('SELECT * FROM containers WHERE id = ? OR name = ?').get(ref, name) as Row | undefined) ??
      this.byPrefix(ref);
    if (!row) throw notFound('DEN0603', `no such container: ${ref}`);
    return toRecord(row);
  }

  private byPrefix(prefix: string): Row | undefined {
    if (!/^[a-f0-9]+$/.test(prefix)) return undefined;
    const rows = this.db.prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(prefix) as Row[];
    if (rows.length > 1) {
      throw conflict('DEN0604', `container id prefix ${prefix} is ambiguous`, { hint: 'give more digits or the name' });
    }
    return rows[0];
  }

  /**
   * Moves a container along one edge of its lifecycle (containers/lifecycle.ts), compare-and-set:
   * the row changes only while its status is one the event may leave, so of two dens racing to
   * start, stop or remove it, one wins and the other gets a Conflict naming the status it found.
   * Returns the record as it is after the event.
   */
  transition(id: string, event: 'start' | 'restart', fields: StartFields): ContainerRecord;
  transition(id: string, event: 'exit' | 'fail', fields: { exitCode: number | null }): ContainerRecord;
  transition(
    id: string,
    event: 'backoff',
    fields: { exitCode: number | null; monitorPid: number; monitorStart: string },
  ): ContainerRecord;
  transition(id: string, event: 'remove' | 'pause' | 'unpause'): ContainerRecord;
  transition(id: string, event: LifecycleEvent, fields: TransitionFields = {}): ContainerRecord {
    const { from, to } = TRANSITIONS[event];
    const before = this.get(id)?.status;
    const now = new Date().toISOString();
    const set = (() => {
      switch (event) {
        case 'start':
        case 'restart':
          // A start from restarting is the restart policy's: it counts; any other start is a
          // user's, and clears a stop the user asked for earlier (docker's manual-stop flag).
          return {
            sql:
              'pid = ?, pid_start = ?, monitor = ?, init_pid = ?, started_at = ?, exit_code = NULL, ' +
              "restart_count = CASE status WHEN 'restarting' THEN restart_count + 1 ELSE 0 END, " +
              "stop_requested = CASE status WHEN 'restarting' THEN stop_requested ELSE 0 END, health = NULL",
            args: [fields.monitorPid, fields.monitorStart, fields.monitor, fields.initPid ?? null, now],
          };
        case 'exit':
        case 'fail':
          return {
            sql: 'pid = NULL, pid_start = NULL, monitor = NULL, init_pid = NULL, exit_code = ?, finished_at = ?',
            args: [fields.exitCode ?? null, now],
          };
        case 'backoff':
          // The monitor is gone; pid is now the den waiting out the delay to start it again.
          return {
            sql: 'pid = ?, pid_start = ?, monitor = NULL, init_pid = NULL, exit_code = ?, finished_at = ?',
            args: [fields.monitorPid, fields.monitorStart, fields.exitCode ?? null, now],
          };
        default:
          return { sql: 'pid = pid', args: [] };
      }
    })();
    return writeTransaction(this.db, () => {
      const changed = this.db
        .prepare(
          `UPDATE containers SET status = ?, ${set.sql} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
        )
        .run(to, ...set.args, id, ...from).changes;
      const after = this.get(id);
      if (changed === 0 || !after) throw transitionRefused(after?.name ?? id.slice(0, 12), after?.status, event);
      this.observe({ kind: 'transition', event, from: before, container: after });
      return after;
    });
  }

  /** den stop and kill: the container's restart policy is not to start it again. */
  markStopRequested(id: string): void {
    this.db.prepare('UPDATE containers SET stop_requested = 1 WHERE id = ?').run(id);
  }

  /** The container's init, once the runtime has made it (an attached run learns it after the start). */
  setInitPid(id: string, initPid: number): void {
    this.db.prepare("UPDATE containers SET init_pid = ? WHERE id = ? AND status = 'running'").run(initPid, id);
  }

  /** The latest health-check state, while the container runs (a later start clears it). */
  setHealth(id: string, health: HealthState): void {
    this.db
      .prepare("UPDATE containers SET health = ? WHERE id = ? AND status IN ('running', 'paused')")
      .run(JSON.stringify(health), id);
  }

  /**
   * Applies one health-check probe: `next` gets the health as it is now and returns the new one,
   * in one write transaction, so that two probes finishing at once (the scheduler's and a person's)
   * never lose each other's result. Nothing changes, and undefined is returned, unless the container
   * is still in the run that was probed (running or paused, started at `startedAt`).
   */
  updateHealth(
    id: string,
    startedAt: string,
    next: (health: HealthState | null) => HealthState,
  ): HealthState | undefined {
    return writeTransaction(this.db, () => {
      const row = this.db.prepare('SELECT status, started_at, health FROM containers WHERE id = ?').get(id) as
        Pick<Row, 'status' | 'started_at' | 'health'> | undefined;
      if (!row || (row.status !== 'running' && row.status !== 'paused') || row.started_at !== startedAt)
        return undefined;
      const health = next(row.health === null ? null : (JSON.parse(row.health) as HealthState));
      this.db.prepare('UPDATE containers SET health = ? WHERE id = ?').run(JSON.stringify(health), id);
      return health;
    });
  }

  /** `den rename`: names stay unique (the column is UNIQUE; the clash is told as docker tells it). */
  rename(id: string, name: string): ContainerRecord {
    const renamed = writeTransaction(this.db, () => {
      const clash = this.db.prepare('SELECT id FROM containers WHERE name = ? AND id != ?').get(name, id) as
        { id: string } | undefined;
      if (clash) {
        throw conflict('DEN0602', `container name "/${name}" is already in use by container ${clash.id.slice(0, 12)}`, {
          hint: 'remove that container (den rm) or choose another name',
        });
      }
      const old = this.get(id);
      if (!old) throw notFound('DEN0603', `no such container: ${id}`);
      this.db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
      return { old, now: { ...old, name } };
    });
    this.observe({ kind: 'rename', oldName: renamed.old.name, container: renamed.now });
    return renamed.now;
  }

  delete(id: string): void {
    const c = this.get(id);
    if (this.db.prepare('DELETE FROM containers WHERE id = ?').run(id).changes > 0 && c) {
      this.observe({ kind: 'destroy', container: c });
    }
  }

  countUsingImage(imageId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM containers WHERE image_id = ?').get(imageId) as { n: number }).n;
  }
}
