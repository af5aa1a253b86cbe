import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { fromOci, mountThroughSession, shiftId, type IdMap } from '../idmap/index.js';
import { findIdmapHelper, IDMAP_HELPER_STATUS, type IdmapHelper } from './idmap-helper.js';
import type { IdShift } from './overlay.js';
import {
  containerOverlay,
  imageRootOwner,
  lowerMountsDir,
  unmountRootfs,
  type RootfsRequest,
  type SnapshotContext,
  type Snapshotter,
} from './snapshotter.js';

/**
 * Rootless, zero copy and native I/O: each layer is shown to the container through an idmapped
 * mount, as root's idmapped snapshotter does, made by the setuid helper den-idmap (the kernel
 * refuses an unprivileged user idmapped mounts of ext4, xfs or btrfs). For each layer den runs
 *
 *   den-idmap-run den-idmap --uid-map M --gid-map M --source LAYER --read-only
 *       -- nsenter -t PAUSE -U -m -- den-idmap-run --attach containers/<id>/lower/<i>
 *
 * The helper checks that every id of the maps is the caller's (the layers are unpacked in the
 * session, so they are) and sends the detached mount back; the receiver enters the session and
 * attaches it, read-only, nosuid, nodev, and the container's kernel overlay goes over those, with
 * its native upper directory. The maps are in host ids on both sides (mountThroughSession): the
 * image's id k is on disk as the session's host id for k, and seen as the host id behind the
 * container's own k. Nothing is copied and nothing is left to collect.
 */
export const helperIdmappedSnapshotter: Snapshotter = {
  method: 'helper',
  async prepare() {},
  async mount(ctx, root) {
    const idMap = root.idMap;
    if (!idMap) throw new Error(`container ${root.id}: the helper snapshotter needs the container's id map`);
    const found = findIdmapHelper(ctx.idmapHelperDirs);
    if ('missing' in found) {
      throw new DenError('FailedPrecondition', 'DEN1601', `container ${root.name}: ${found.missing}`, {
        hint: 'run scripts/setup-host.sh as root, or DEN_SHIFT=fuse for containers created from now on',
      });
    }
    const maps = helperMaps(ctx, idMap);
    const dir = lowerMountsDir(ctx, root.id);
    const layers = root.layers.map((l) => ctx.layout.layerDir(l));
    const targets = layers.map((_, i) => join(dir, String(i)));
    for (const t of targets) mkdirSync(t, { recursive: true, mode: 0o700 });
    layers.forEach((layer, i) => attachLayer(ctx, root, found.found, maps, layer, targets[i]!));
    const owner = imageRootOwner(ctx, root.layers);
    return {
      // The session's root gives the upper directory the image root's owner as the container sees it.
      upperOwner: `${shiftId(idMap.uid, owner.uid)}:${shiftId(idMap.gid, owner.gid)}`,
      overlay: containerOverlay(ctx, root, targets.reverse()),
    };
  },
  release() {},
  collect: () => [],
  forgetLayer() {},
};

function helperMap(container: IdMap, session: IdMap): string {
  return mountThroughSession(container, session)
    .map((e) => `${e.onDisk}:${e.seen}:${e.size}`)
    .join(',');
}

/** den-idmap's --uid-map and --gid-map for a container's maps (session ids), in host ids. */
export function helperMaps(ctx: SnapshotContext, idMap: IdShift): { uid: string; gid: string } {
  const session = ctx.sessionIdMaps();
  return { uid: helperMap(fromOci(idMap.uid), session.uid), gid: helperMap(fromOci(idMap.gid), session.gid) };
}

/**
 * Rootless: `source` (a directory of the caller's, canonical owners as the session sees them)
 * attached at `target` in the session through an idmapped mount of the container's maps, made by
 * den-idmap; writable unless `readOnly`. Returns the helper's failure, or undefined.
 */
export function attachThroughHelper(
  ctx: SnapshotContext,
  bin: IdmapHelper,
  maps: { uid: string; gid: string },
  source: string,
  target: string,
  readOnly: boolean,
): { status: number; message: string } | undefined {
  const argv = [
    bin.runner,
    bin.helper,
    '--uid-map',
    maps.uid,
    '--gid-map',
    maps.gid,
    '--source',
    source,
    ...(readOnly ? ['--read-only'] : []),
    '--',
    ...ctx.ns.wrap([bin.runner, '--attach', target]),
  ];
  const r = runSync(argv, { env: { PATH: ctx.searchPath } });
  return r.status === 0
    ? undefined
    : { status: r.status ?? 1, message: r.stderr.trim() || `den-idmap failed with status ${r.status}` };
}

function attachLayer(
  ctx: SnapshotContext,
  root: RootfsRequest,
  bin: IdmapHelper,
  maps: { uid: string; gid: string },
  layer: string,
  target: string,
): void {
  const failed = attachThroughHelper(ctx, bin, maps, layer, target, true);
  if (!failed) return;
  unmountRootfs(ctx, root.id);
  throw new DenError(
    'FailedPrecondition',
    'DEN1602',
    `container ${root.name}: cannot idmap its layers: ${failed.message}`,
    {
      hint:
        failed.status === IDMAP_HELPER_STATUS.notIdmappable
          ? 'run `den system check`; keep the data directory (DEN_DATA_DIR) on ext4, xfs or btrfs, or set DEN_SHIFT=fuse'
          : 'run `den system check` (idmap-helper), or set DEN_SHIFT=fuse for containers created from now on',
    },
  );
}
