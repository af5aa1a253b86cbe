import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { fromOci, mountThroughSession, shiftId, type IdMap } from '../idmap/index.js';
import { findIdmapHelper, IDMAP_HELPER_STATUS } from './idmap-helper.js';
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
    const session = ctx.sessionIdMaps();
    const maps = {
      uid: helperMap(fromOci(idMap.uid), session.uid),
      gid: helperMap(fromOci(idMap.gid), session.gid),
    };
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

function attachLayer(
  ctx: SnapshotContext,
  root: RootfsRequest,
  bin: { helper: string; runner: string },
  maps: { uid: string; gid: string },
  layer: string,
  target: string,
): void {
  const argv = [
    bin.runner,
    bin.helper,
    '--uid-map',
    maps.uid,
    '--gid-map',
    maps.gid,
    '--source',
    layer,
    '--read-only',
    '--',
    ...ctx.ns.wrap([bin.runner, '--attach', target]),
  ];
  const r = runSync(argv, { env: { PATH: ctx.searchPath } });
  if (r.status === 0) return;
  unmountRootfs(ctx, root.id);
  throw new DenError(
    'FailedPrecondition',
    'DEN1602',
    `container ${root.name}: cannot idmap its layers: ${r.stderr.trim() || `den-idmap failed with status ${r.status}`}`,
    {
      hint:
        r.status === IDMAP_HELPER_STATUS.notIdmappable
          ? 'run `den system check`; keep the data directory (DEN_DATA_DIR) on ext4, xfs or btrfs, or set DEN_SHIFT=fuse'
          : 'run `den system check` (idmap-helper), or set DEN_SHIFT=fuse for containers created from now on',
    },
  );
}
