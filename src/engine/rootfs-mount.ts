import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from '../containers/index.js';
import { overlayMountOptions, shiftedLowerOptions } from '../snapshots/index.js';
import type { EngineContext } from './context.js';
import { rootOwner } from './create-container.js';
import { lowerMountsDir, mountIdmappedLayers } from './idmapped-layers.js';
import { shiftedLowerDirs } from './shifted-layers.js';
import { mapContainerId, shiftsIds } from './userns.js';

/**
 * Mounts a container's root file system, as a shell snippet that runs inside the namespaces with
 * its arguments in $1..$6 (see `args`) and fails when a mount does:
 *
 *   MOUNT_ROOTFS SHIFT_OPTIONS SHIFT_TARGET UPPER_OWNER UPPER OVERLAY_OPTIONS TARGET
 *
 * With SHIFT_OPTIONS, the layers are first mounted shifted by fuse-overlayfs at SHIFT_TARGET (the
 * overlay's lower directory then). With UPPER_OWNER, the upper directory is given to the
 * container's root, which den, outside the session, cannot do itself.
 */
export const MOUNT_ROOTFS = `{ { [ -z "$1" ] || fuse-overlayfs -o "$1" "$2"; } && { [ -z "$3" ] || chown "$3" "$4"; } && mount -t overlay -o "$5" overlay "$6"; }`;

/**
 * The arguments of MOUNT_ROOTFS for a container. As root, ids are shifted without copying by
 * idmapped bind mounts of the layers under the overlay (made here, before the snippet runs).
 * Rootless (the kernel refuses idmapped ext4 to a user), by the way chosen when the container was
 * created (engine/shifted-layers): a read-only fuse-overlayfs view of the layers with uidmapping=
 * under the kernel overlay, or the layers' shifted copies as its lower directories.
 */
export function rootfsMountArgs(ctx: EngineContext, c: ContainerRecord, volatile: boolean): string[] {
  const b = ctx.layout.bundle(c.id);
  const idMap = c.config.idMap && shiftsIds(c.config.idMap) ? c.config.idMap : undefined;
  const layers = c.config.layers.map((l) => ctx.layout.layerDir(l)).reverse();
  let shift = { options: '', target: '', upperOwner: '' };
  let lowerDirs = layers;
  if (idMap && ctx.paths.rootless && c.config.shiftMethod === 'copy') {
    const root = rootOwner(ctx, c.config.layers);
    shift.upperOwner = `${mapContainerId(idMap.uid, root.uid)}:${mapContainerId(idMap.gid, root.gid)}`;
    lowerDirs = shiftedLowerDirs(ctx, c);
  } else if (idMap && ctx.paths.rootless) {
    const target = join(lowerMountsDir(ctx, c.id), '0');
    mkdirSync(target, { recursive: true, mode: 0o700 });
    const root = rootOwner(ctx, c.config.layers);
    shift = {
      options: shiftedLowerOptions(layers, idMap),
      target,
      upperOwner: `${mapContainerId(idMap.uid, root.uid)}:${mapContainerId(idMap.gid, root.gid)}`,
    };
    lowerDirs = [target];
  } else if (idMap) {
    lowerDirs = mountIdmappedLayers(ctx, c, idMap);
  }
  const options = overlayMountOptions({ lowerDirs, upperDir: b.upper, workDir: b.work, target: b.rootfs, volatile });
  return [shift.options, shift.target, shift.upperOwner, b.upper, options, b.rootfs];
}
