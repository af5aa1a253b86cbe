import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DenError, errnoCode, failedPrecondition, unavailable } from '../common/errors.js';

/**
 * What den says when the disk under its data directory refuses a write, wherever the write was:
 * the database (SQLite's own codes) or a file of the store (Node's errno). The person learns the
 * path, the cause and what to do, instead of "attempt to write a readonly database" or
 * "database or disk is full" with no path at all. Undefined when `e` is not such a failure.
 */
export function storageFailure(e: unknown, dataDir: string): DenError | undefined {
  // A DenError already says what failed; only a full disk under it (a layer that could not be
  // written, reported as an archive that could not be read) is worth saying instead.
  if (e instanceof DenError) return causes(e).some(isDiskFull) ? diskFull(dataDir, e) : undefined;
  const code = errnoCode(e) ?? '';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return diskFull(dataDir, e);
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return notWritable(dataDir, e);
  if (code === 'SQLITE_CANTOPEN' || ((code === 'EACCES' || code === 'EPERM') && mentions(e, dataDir))) {
    return notWritable(dataDir, e);
  }
  return undefined;
}

function isDiskFull(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOSPC' || code === 'SQLITE_FULL';
}

/** An error and the errors it wraps (`cause`), innermost last. */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && out.length < 10; c = (c as { cause?: unknown }).cause) {
    out.push(c);
  }
  return out;
}

function mentions(e: unknown, dataDir: string): boolean {
  return e instanceof Error && e.message.includes(dataDir);
}

export function diskFull(dataDir: string, cause: unknown): DenError {
  return unavailable('DEN0803', `the disk that holds den's data directory ${dataDir} is full`, {
    hint: `free space there (den image prune -a, den system df; df -h ${dataDir}) and run the command again`,
    cause,
    reason: 'disk-full',
  });
}

/** Why den cannot write in its data directory, from the first directory on its way that refuses. */
export function notWritable(dataDir: string, cause: unknown): DenError {
  const why = whyNotWritable(dataDir);
  return failedPrecondition('DEN0802', `den cannot write in its data directory ${dataDir}: ${why}`, {
    hint: `make it writable for you, or point den elsewhere with DEN_DATA_DIR (or XDG_DATA_HOME)`,
    cause,
    reason: 'not-writable',
  });
}

function whyNotWritable(dataDir: string): string {
  for (let dir = dataDir; ; dir = dirname(dir)) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      if (dir === dirname(dir)) return 'it cannot be created';
      continue; // not there yet: is its parent writable?
    }
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      if (errnoCode(e) === 'EROFS') return `${dir} is on a read-only file system`;
      return `${dir} is not writable for you (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`;
    }
    return dir === dataDir
      ? 'a file in it is not writable for you'
      : `it does not exist and ${dir} lets you create it, yet creating it failed`;
  }
}
