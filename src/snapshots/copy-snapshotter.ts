import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { unavailable } from '../common/errors.js';
import { readdirOrEmpty } from '../common/fs.js';
import { runWorker } from '../session/index.js';
import type { IdShift } from './overlay.js';
import { shiftId } from '../idmap/index.js';
import type { ShiftCopyStats } from './shifted-copy.js';
import {
  containerOverlay,
  imageRootOwner,
  type RootfsRequest,
  type ShiftProgress,
  type SnapshotContext,
  type Snapshotter,
} from './snapshotter.js';
import { ownerTag, removeTree, withLayerLock } from './store-lock.js';

/**
 * Rootless, native I/O: each layer copied once per mapping with its owners shifted
 * (shifted-copy.ts, run inside the session by den's `__shift` worker), and the copies serve every
 * container with that mapping. On a file system with reflinks the copy shares the data and costs
 * only metadata; elsewhere it costs the image's size again and a few seconds the first time.
 *
 * Copies live under shifted/<key>/<layer>, the key a digest of the maps (`shiftKey`): an `auto`
 * container's copies are its own (its id is in the key) and go with it; keep-id and explicit
 * mappings share theirs until garbage collection finds them unused.
 */
export const copySnapshotter: Snapshotter = {
  method: 'copy',
  async prepare(ctx, root, onProgress) {
    await ensureCopies(ctx, root, onProgress);
  },
  async mount(ctx, root) {
    // Made at create time; made again if they went since (removed by hand): a no-op otherwise.
    const lowerDirs = await ensureCopies(ctx, root);
    const idMap = requireMap(root);
    const owner = imageRootOwner(ctx, root.layers);
    return {
      upperOwner: `${shiftId(idMap.uid, owner.uid)}:${shiftId(idMap.gid, owner.gid)}`,
      overlay: containerOverlay(ctx, root, lowerDirs),
    };
  },
  release(ctx, root) {
    if (root.shiftKey && root.privateCopies) removeTree(ctx, ctx.layout.shiftedMapDir(root.shiftKey));
  },
  collect(ctx, inUse, old, dryRun) {
    const used = new Map<string, Set<string>>();
    for (const root of inUse) {
      if (!root.shiftKey) continue;
      const layers = used.get(root.shiftKey) ?? new Set<string>();
      for (const l of root.layers) layers.add(l);
      used.set(root.shiftKey, layers);
    }
    // A mapping no container uses goes whole; of one in use, the layers its containers no longer use.
    // `old`: a container being created touches its mapping's directory before it copies or uses a layer.
    const doomed: string[] = [];
    for (const key of readdirOrEmpty(ctx.layout.shiftedDir)) {
      const mapDir = ctx.layout.shiftedMapDir(key);
      if (!old(mapDir)) continue;
      const layers = used.get(key);
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
  },
  forgetLayer(ctx, chainHex) {
    for (const key of readdirOrEmpty(ctx.layout.shiftedDir)) {
      removeTree(ctx, ctx.layout.shiftedLayerDir(key, chainHex));
    }
  },
};

/** The name of a mapping's copies: a digest of the maps, and of the owning container for `auto`. */
export function shiftKey(idMap: IdShift, owner?: string): string {
  const flat = (m: IdShift['uid']) => m.map((e) => [e.containerID, e.hostID, e.size]);
  const text = JSON.stringify({ uid: flat(idMap.uid), gid: flat(idMap.gid), ...(owner ? { owner } : {}) });
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/**
 * Makes sure the container's layers exist shifted for its mapping, copying those that do not (in
 * parallel, each under a lock, so two dens never copy one layer twice), and returns the overlay's
 * lower directories, topmost first. Other den commands are not held up: only the locks of the
 * layers being copied are taken.
 */
async function ensureCopies(
  ctx: SnapshotContext,
  root: RootfsRequest,
  onProgress?: (p: ShiftProgress) => void,
): Promise<string[]> {
  const idMap = requireMap(root);
  const key = root.shiftKey;
  if (!key) throw new Error(`container ${root.id}: no shifted copy is recorded`);
  const mapDir = ctx.layout.shiftedMapDir(key);
  mkdirSync(mapDir, { recursive: true, mode: 0o700 });
  const now = new Date();
  utimesSync(mapDir, now, now); // last use, for garbage collection's grace period
  // Every copy is waited for, even after one failed: a create that fails removes the container's
  // private copies, and a copy still running would put its finished layer back behind it.
  const copies = await Promise.allSettled(
    root.layers.map((hex) => {
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
  for (const copy of copies) if (copy.status === 'rejected') throw copy.reason;
  return root.layers.map((hex) => ctx.layout.shiftedLayerDir(key, hex)).reverse();
}

/**
 * Copies one layer inside the session (`den __shift`): into a temporary directory named after
 * this den (swept when it is gone, see store-lock's `abandoned`), then renamed into place.
 */
async function copyInSession(
  ctx: SnapshotContext,
  key: string,
  hex: string,
  idMap: IdShift,
  onProgress: (s: ShiftCopyStats, done: boolean) => void,
): Promise<void> {
  const dest = ctx.layout.shiftedLayerDir(key, hex);
  const tmp = join(ctx.layout.shiftedMapDir(key), `.tmp-${ownerTag()}-${hex.slice(0, 12)}`);
  const shift = JSON.stringify({ uid: idMap.uid, gid: idMap.gid });
  onProgress({ entries: 0, bytes: 0 }, false);
  const stats = await runWorker<ShiftCopyStats, ShiftCopyStats>(
    ctx.ns,
    ctx.self,
    '__shift',
    [ctx.layout.layerDir(hex), tmp, dest, shift],
    {
      onProgress: (s) => onProgress(s, false),
      noAnswer: (status) =>
        unavailable(
          'DEN0688',
          `cannot copy layer ${hex.slice(0, 12)} with shifted owners: the copier exited with status ${status}`,
          {
            hint: 'check the free space where den keeps its data (df), or set DEN_SHIFT=fuse to shift ids without copying',
          },
        ),
    },
  );
  onProgress(stats, true);
}

function requireMap(root: RootfsRequest): IdShift {
  if (!root.idMap) throw new Error(`container ${root.id}: the copy snapshotter needs the container's id map`);
  return root.idMap;
}
