import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { unavailable } from '../common/errors.js';
import { ensureDataDir } from '../common/paths.js';
import { MIGRATIONS } from './migrations.js';
import { storageFailure } from './storage-errors.js';

export type Db = Database.Database;

/**
 * Opens den's state database. Every den process opens it on its own (there is no daemon), so:
 * WAL lets readers go on while one writer commits, busy_timeout makes a second writer wait rather
 * than fail, and writers use BEGIN IMMEDIATE (see `writeTransaction`) so two processes never both
 * read-then-write and lose an update.
 *
 * The native addon is loaded from next to the bundle when den runs from dist/ (DEN_SQLITE_ADDON is
 * set by the build's entry point), from node_modules otherwise.
 */
export function openDatabase(dataDir: string): Db {
  const file = join(dataDir, 'den.db');
  let db: Db;
  try {
    ensureDataDir(dataDir);
    // The database holds every container's environment: it is made 0600 before SQLite opens it,
    // and SQLite gives its -wal and -shm files the database's own mode.
    closeSync(openSync(file, 'a', 0o600));
    const addon = process.env.DEN_SQLITE_ADDON;
    db = new Database(file, addon ? { nativeBinding: addon } : {});
    // Even a reader writes here (WAL's shared memory, the migrations): an unwritable directory
    // or a full disk is said now, with the path, rather than as SQLite's bare words later.
    db.pragma('journal_mode = WAL');
  } catch (e) {
    throw (
      storageFailure(e, dataDir) ??
      unavailable('DEN0801', `state database ${file}: cannot open: ${(e as Error).message}`, { cause: e })
    );
  }
  db.pragma('busy_timeout = 30000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw storageFailure(e, dataDir) ?? e;
  }
  return db;
}

/** Runs fn in a write transaction taken up front (BEGIN IMMEDIATE), so it serialises with other den processes. */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= MIGRATIONS.length) return;
  writeTransaction(db, () => {
    // Re-read inside the lock: another process may have migrated while we waited.
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
}
