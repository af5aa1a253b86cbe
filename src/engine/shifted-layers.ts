import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenError, failedPrecondition } from '../common/errors.js';
import { readdirOrEmpty } from '../common/fs.js';
import type { ContainerIdMap, ContainerRecord } from '../containers/index.js';
import type { ShiftCopyStats } from '../snapshots/index.js';
import type { EngineContext } from './context.js';
import { ownerTag, removeTree, withLayerLock } from './store-lock.js';
import { findExecutable } from './runtimes.js';

/**
 * Rootless, a container whose ids differ from the session's needs the image's files shown with
 * shifted owners (the kernel refuses an unprivileged user idmapped mounts of ext4, xfs or btrfs).
 * There are two ways, and each host gets the one that suits it:
 *
 *   fuse  fuse-overlayfs shows the layers shifted (uidmapping=) under the container's kernel
 *         overlay: nothing is copied, a new mapping costs nothing, but every read of an image file
 *         passes through FUSE (measured on ext4: reading the Debian image's /usr ran at about a
 *         quarter of the kernel's speed; writes go to the native upper directory).
 *   copy  each layer is copied once per mapping with its owners shifted (snapshots/shifted-copy),
 *         and the copy serves every container with that mapping: all file I/O is native. On a
 *         file system with reflinks the copy shares the data and costs only metadata; elsewhere
 *         it costs the image's size again and a few seconds the first time.
 *
 * The choice (DEN_SHIFT overrides it): copy where the store's file system has reflinks, else fuse
 * where fuse-overlayfs works, else copy. `den system check` says which and why.
 */
export type ShiftMethod = 'fuse' | 'copy';

export interface ShiftChoice {
  method: ShiftMethod;
  /** What a container with a mapping not seen before costs. */
  newMapping: 'nothing' | 'metadata' | 'full copy';
  why: string;
}

export function chooseShift(ctx: EngineContext): ShiftChoice {
  const asked = ctx.config.shift;
  if (asked === 'copy') {
    return { method: 'copy', newMapping: hasReflinks(ctx) ? 'metadata' : 'full copy', why: 'DEN_SHIFT=copy' };
  }
  if (asked === 'fuse') {
    const fuse = fuseShift(ctx.config.searchPath);
    if (!fuse.ok) {
      throw failedPrecondition('DEN0686', `DEN_SHIFT=fuse, but ${fuse.why}`, {
        hint: `${fuse.fix}, or unset DEN_SHIFT to let den choose`,
      });
    }
    return { method: 'fuse', newMapping: 'nothing', why: 'DEN_SHIFT=fuse' };
  }
  if (hasReflinks(ctx)) {
    return {
      method: 'copy',
      newMapping: 'metadata',
      why: "the store's file system has reflinks: a shifted copy shares the image's data, costs only metadata, and reads at native speed",
    };
  }
  const fuse = fuseShift(ctx.config.searchPath);
  if (fuse.ok) {
    return {
      method: 'fuse',
      newMapping: 'nothing',
      why: "no reflinks on the store's file system: fuse-overlayfs shows the layers shifted without copying (reads of image files pass through FUSE; DEN_SHIFT=copy trades disk for native reads)",
    };
  }
  return {
    method: 'copy',
    newMapping: 'full copy',
    why: `fuse-overlayfs cannot be used (${fuse.why}; ${fuse.fix}), so each new mapping costs a copy of the image`,
  };
}

/** Whether fuse-overlayfs can show layers shifted here: installed, and /dev/fuse open to the caller. */
export function fuseShift(searchPath: string): { ok: true } | { ok: false; why: string; fix: string } {
  if (!findExecutable('fuse-overlayfs', searchPath)) {
    return { ok: false, why: 'fuse-overlayfs is not installed', fix: 'apt-get install fuse-overlayfs' };
  }
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return {
      ok: false,
      why: '/dev/fuse is missing or not open to you',
      fix: 'run scripts/setup-host.sh as root (chmod 0666 /dev/fuse)',
    };
  }
  return { ok: true };
}

/**
 * True when files in den's data directory can share data (FICLONE): measured by cloning a small
 * file, which costs well under a millisecond.
 */
function hasReflinks(ctx: EngineContext): boolean {
  mkdirSync(ctx.paths.dataDir, { recursive: true, mode: 0o700 });
  const probe = join(ctx.paths.dataDir, `.reflink-probe-${ownerTag()}`);
  try {
    writeFileSync(probe, Buffer.alloc(4096, 1));
    copyFileSync(probe, `${probe}.clone`, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
    rmSync(`${probe}.clone`, { force: true });
  }
}

/**
 * The name of a mapping's copies: a digest of the maps. An `auto` container's copies are its own
 * (its container id is in the key), so removing it can remove them without racing a new container
 * that is given the freed range; keep-id and explicit mappings are shared and outlive containers
 * until `den image prune`.
 */
export function shiftKey(idMap: ContainerIdMap, owner?: string): string {
  const flat = (m: ContainerIdMap['uid']) => m.map((e) => [e.containerID, e.hostID, e.size]);
  const text = JSON.stringify({ uid: flat(idMap.uid), gid: flat(idMap.gid), ...(owner ? { owner } : {}) });
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

export interface ShiftProgress {
  /** The layer being copied (chain id hex). */
  layer: string;
  entries: number;
  /** The layer's entries as recorded when it was unpacked (about as many as the copy makes). */
  totalEntries: number;
  bytes: number;
  /** The layer's copy is complete. */
  done: boolean;
}

/**
 * Makes sure the container's layers exist shifted for its mapping, copying those that do not (in
 * parallel, each under a lock, so two dens never copy one layer twice), and returns the overlay's
 * lower directories, topmost first. Other den commands are not held up: only the locks of the
 * layers being copied are taken.
 */
export async function ensureShiftedLayers(
  ctx: EngineContext,
  c: ContainerRecord,
  onProgress?: (p: ShiftProgress) => void,
): Promise<string[]> {
  const key = c.config.shiftKey;
  const idMap = c.config.idMap;
  if (!key || !idMap) throw new Error(`container ${c.id}: no shifted copy is recorded`);
  const mapDir = ctx.layout.shiftedMapDir(key);
  mkdirSync(mapDir, { recursive: true, mode: 0o700 });
  const now = new Date();
  utimesSync(mapDir, now, now); // last use, for garbage collection's grace period
  await Promise.all(
    c.config.layers.map((hex) => {
      const dest = ctx.layout.shiftedLayerDir(key, hex);
      return withLayerLock(
        ctx,
        `shift-${key}-${hex}`,
        () => existsSync(dest),
        () =>
          copyInSession(ctx, key, hex, idMap, (s, done) =>
            onProgress?.({ layer: hex, ...s, totalEntries: ctx.layers.entries(`sha256:${hex}`), done }),
          ),
      );
    }),
  );
  return shiftedLowerDirs(ctx, c);
}

/** The lower directories of a container that uses shifted copies, topmost first. */
export function shiftedLowerDirs(ctx: EngineContext, c: ContainerRecord): string[] {
  const key = c.config.shiftKey ?? '';
  return c.config.layers.map((hex) => ctx.layout.shiftedLayerDir(key, hex)).reverse();
}

/**
 * Copies one layer inside the session (`den __shift`): into a temporary directory named after
 * this den (swept when it is gone, see store-lock's `abandoned`), then renamed into place.
 */
async function copyInSession(
  ctx: EngineContext,
  key: string,
  hex: string,
  idMap: ContainerIdMap,
  onProgress: (s: ShiftCopyStats, done: boolean) => void,
): Promise<void> {
  const self = ctx.config.self.script;
  if (!self) throw new Error('cannot find den entry script');
  const dest = ctx.layout.shiftedLayerDir(key, hex);
  const tmp = join(ctx.layout.shiftedMapDir(key), `.tmp-${ownerTag()}-${hex.slice(0, 12)}`);
  const shift = JSON.stringify({ uid: idMap.uid, gid: idMap.gid });
  const [file, ...args] = ctx.ns.wrap([
    ctx.config.self.node,
    self,
    '__shift',
    ctx.layout.layerDir(hex),
    tmp,
    dest,
    shift,
    String(process.pid),
  ]);
  onProgress({ entries: 0, bytes: 0 }, false);
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: { stats?: ShiftCopyStats; error?: { message: string } } | undefined;
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        const answer = JSON.parse(line) as {
          progress?: ShiftCopyStats;
          stats?: ShiftCopyStats;
          error?: { message: string };
        };
        if (answer.progress) onProgress(answer.progress, false);
        else last = answer;
      } catch {
        // not an answer line
      }
    }
  });
  const status = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  if (status === 0 && last?.stats) return onProgress(last.stats, true);
  const why = last?.error?.message ?? `the copier exited with status ${status}`;
  throw new DenError('Unavailable', 'DEN0688', `cannot copy layer ${hex.slice(0, 12)} with shifted owners: ${why}`, {
    hint: 'check the free space where den keeps its data (df), or set DEN_SHIFT=fuse to shift ids without copying',
  });
}

/**
 * After a container is removed: an `auto` container's copies are its own and go with it (no
 * other container can have its key). Shared copies stay for the next container with the mapping.
 */
export function releaseShiftedLayers(ctx: EngineContext, c: ContainerRecord): void {
  if (c.config.shiftMethod !== 'copy' || !c.config.shiftKey || c.config.usernsMode !== 'auto') return;
  removeTree(ctx, ctx.layout.shiftedMapDir(c.config.shiftKey));
}

/**
 * Garbage collection of shifted copies, of mappings not used for the grace period (`old`: a
 * container being created touches its mapping's directory before it copies or uses a layer): a
 * mapping no container uses goes whole; of one in use, the layers its containers no longer use.
 * Returns the directories removed (or that would be, with dryRun).
 */
export function collectShiftedCopies(ctx: EngineContext, old: (path: string) => boolean, dryRun: boolean): string[] {
  const inUse = new Map<string, Set<string>>();
  for (const c of ctx.containers.list()) {
    if (c.config.shiftMethod !== 'copy' || !c.config.shiftKey) continue;
    const layers = inUse.get(c.config.shiftKey) ?? new Set<string>();
    for (const l of c.config.layers) layers.add(l);
    inUse.set(c.config.shiftKey, layers);
  }
  const doomed: string[] = [];
  for (const key of readdirOrEmpty(ctx.layout.shiftedDir)) {
    const mapDir = ctx.layout.shiftedMapDir(key);
    if (!old(mapDir)) continue;
    const layers = inUse.get(key);
    if (!layers) {
      doomed.push(mapDir);
      continue;
    }
    for (const hex of readdirOrEmpty(mapDir)) {
      if (!hex.startsWith('.') && !layers.has(hex)) doomed.push(join(mapDir, hex));
    }
  }
  if (!dryRun) for (const dir of doomed) removeTree(ctx, dir);
  return doomed;
}

/** Removes a layer's copies under every mapping (the layer itself is going). */
export function removeShiftedCopiesOf(ctx: EngineContext, hex: string): void {
  for (const key of readdirOrEmpty(ctx.layout.shiftedDir)) removeTree(ctx, ctx.layout.shiftedLayerDir(key, hex));
}
