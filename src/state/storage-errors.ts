import { accessSync, constants, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DenError, errnoCode, failedPrecondition, unavailable } from '../common/errors.js';
import { mountOf, parseMountinfo, type MountEntry } from '../common/mountinfo.js';
import { humanSize } from '../common/sizes.js';

/**
 * What den says when the disk under its data directory refuses a write, wherever the write was:
 * the database (SQLite's own codes) or a file of the store (Node's errno). The person learns the
 * path, the cause and what to do, instead of "attempt to write a readonly database" or
 * "database or disk is full" with no path at all. Undefined when `e` is not such a failure.
 */
export function storageFailure(e: unknown, dataDir: string): DenError | undefined {
  // A DenError already says what failed; only a full disk under it (a layer that could not be
  // written, reported as an archive that could not be read) is worth saying instead, unless it is
  // already said (with what the command needed: spaceNeeded).
  if (e instanceof DenError) {
    if (e.reason === 'disk-full' || e.reason === 'not-writable') return undefined;
    return causes(e).some(isDiskFull) ? diskFull(dataDir, e) : undefined;
  }
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

/**
 * What a command needed room for, to say how much a full disk lacked: bytes of blobs it was storing
 * (compressed layers as pulled, an archive, a tarball), which it also unpacks into files that
 * take about as much again, or more when the blobs are compressed.
 *   { what: 'pulling 127.0.0.1:5000/big:latest', blobBytes: 31_400_000 }
 */
export interface SpaceNeeded {
  what: string;
  blobBytes: number;
}

/**
 * The disk under the data directory is full: where (the directory, and the file system's mount
 * point with its free space, measured after the command removed what it had half-written), and,
 * when the command knows, how much it needed.
 */
export function diskFull(dataDir: string, cause: unknown, need?: SpaceNeeded): DenError {
  const room = roomAt(dataDir);
  const where = room ? ` (${room.mountPoint}: ${humanSize(room.free)} free of ${humanSize(room.size)})` : '';
  // At least the blobs twice; where that much is free now (the command gave back what it wrote),
  // the files unpacked took more than the rest: compressed blobs (zeros, text) unpack to much more.
  const atLeast = need ? 2 * need.blobBytes : 0;
  const needs = !need
    ? ''
    : room && atLeast <= room.free
      ? `: ${need.what} needs more than the ${humanSize(room.free)} free there, ${humanSize(need.blobBytes)} of blobs and their files unpacked, which take the rest`
      : `: ${need.what} needs at least ${humanSize(atLeast)} there, ${humanSize(need.blobBytes)} of blobs and their files unpacked, which take as much or more`;
  return unavailable('DEN0803', `the disk that holds den's data directory ${dataDir} is full${where}${needs}`, {
    hint: `free space there (den image prune -a, den system df; df -h ${dataDir}) and run the command again`,
    cause,
    reason: 'disk-full',
  });
}

/**
 * `e` as a full disk with what the command needed, when the disk under the data directory refused
 * its write for lack of space (wherever in `e`'s causes it said so); else `e` unchanged.
 */
export function spaceNeeded(e: unknown, dataDir: string, need: SpaceNeeded): unknown {
  if (e instanceof DenError && e.reason === 'disk-full') return diskFull(dataDir, e.cause ?? e, need);
  return causes(e).some(isDiskFull) ? diskFull(dataDir, e, need) : e;
}

/** The file system that holds `path`: its mount point, size and space free for an unprivileged user. */
function roomAt(path: string): { mountPoint: string; size: number; free: number } | undefined {
  try {
    const fs = statfsSync(path);
    let mounts: MountEntry[] = [];
    try {
      mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    } catch {
      // no /proc: the size and free space still say enough
    }
    const mountPoint = mountOf(mounts, path)?.mountPoint ?? path;
    return { mountPoint, size: fs.blocks * fs.bsize, free: fs.bavail * fs.bsize };
  } catch {
    return undefined;
  }
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
