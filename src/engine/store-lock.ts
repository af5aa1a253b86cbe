import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { processStartTime } from '../session/index.js';
import type { EngineContext } from './context.js';

/** This process, as lock files and temporary names record it: pid and start time (pids are reused). */
export function ownerTag(): string {
  return `${process.pid}.${processStartTime(process.pid) ?? '0'}`;
}

/** True when the process a tag names is still the one that wrote it. */
function ownerAlive(tag: string): boolean {
  const [pid, start] = tag.split('.');
  if (!pid || !/^[0-9]+$/.test(pid)) return false;
  return processStartTime(Number(pid)) === start;
}

/**
 * Work on one layer that only one den process at a time may do (downloading and unpacking it),
 * across processes: a lock file created with O_EXCL under layers/.locks, holding its owner's tag. A
 * waiter polls until the lock is gone or its owner died (den killed with SIGKILL leaves the file;
 * the next den takes it over), then asks `done` again: a layer another den committed meanwhile is
 * not fetched twice. Returns what `work` returned, or undefined when `done` said so first.
 */
export async function withLayerLock<T>(
  ctx: EngineContext,
  chainHex: string,
  done: () => boolean,
  work: () => Promise<T>,
  onWait?: () => void,
): Promise<T | undefined> {
  const dir = join(ctx.layout.layersDir, '.locks');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, chainHex);
  let told = false;
  for (;;) {
    if (done()) return undefined;
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
      const owner = readOwner(path);
      if (owner !== undefined && !ownerAlive(owner)) {
        // Its owner died: take the layer over. Two waiters doing this at once may both end up
        // working on the layer; the store stays consistent (the second rename keeps the first copy).
        rmSync(path, { force: true });
        continue;
      }
      if (!told) onWait?.();
      told = true;
      await sleep(100);
      continue;
    }
    try {
      writeSync(fd, ownerTag());
      closeSync(fd);
      if (done()) return undefined; // committed between our check and the lock
      return await work();
    } finally {
      rmSync(path, { force: true });
    }
  }
}

function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes what dead den processes left half-done: temporary layer directories (`.tmp-OWNER-...`)
 * and ingest files (`OWNER-...`) whose owner is gone, and lock files of dead owners. Resumable
 * downloads (`ingest/<digest>.partial`) stay: the next pull of that blob continues them.
 */
export function sweepAbandoned(ctx: EngineContext): void {
  const entries = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const name of entries(ctx.layout.layersDir)) {
    const m = /^\.tmp-([0-9]+\.[0-9]+)-/.exec(name);
    if (m && !ownerAlive(m[1]!)) removeTree(ctx, join(ctx.layout.layersDir, name));
  }
  const ingest = join(ctx.layout.contentDir, 'ingest');
  for (const name of entries(ingest)) {
    const m = /^([0-9]+\.[0-9]+)-/.exec(name);
    if (m && !ownerAlive(m[1]!)) rmSync(join(ingest, name), { force: true });
  }
  const locks = join(ctx.layout.layersDir, '.locks');
  for (const name of entries(locks)) {
    const owner = readOwner(join(locks, name));
    if (owner !== undefined && !ownerAlive(owner)) rmSync(join(locks, name), { force: true });
  }
}

/** Removes a store directory whose files may belong to subordinate ids: from inside the session. */
export function removeTree(ctx: EngineContext, dir: string): void {
  if (!existsSync(dir)) return;
  runSync(ctx.ns.wrap(['rm', '-rf', '--one-file-system', dir]));
}
