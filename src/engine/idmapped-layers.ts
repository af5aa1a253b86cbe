import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { attachMount, cloneMount, idmapMount } from '../common/libc.js';
import type { ContainerIdMap, ContainerRecord } from '../containers/index.js';
import { withUnmappedUserns } from '../session/index.js';
import type { EngineContext } from './context.js';
import { findExecutable } from './runtimes.js';

/**
 * Root mode's zero-copy id shift: each canonical layer is bind-mounted into the container's
 * directory through an idmapped mount (open_tree, mount_setattr(MOUNT_ATTR_IDMAP), move_mount)
 * whose maps are the container's, and the overlay is built over those. Files keep the owners the
 * image gave them on disk; the container sees them through its own range, and nothing is copied or
 * chowned, whatever the image's size. (Idmapping the overlay mount itself is refused by the kernel.)
 *
 * Returns the lower directories for the overlay, topmost first.
 */
export function mountIdmappedLayers(ctx: EngineContext, c: ContainerRecord, idMap: ContainerIdMap): string[] {
  const unshare = findExecutable('unshare', ctx.config.searchPath);
  if (!unshare)
    throw new DenError('FailedPrecondition', 'DEN0680', 'unshare not found in PATH', {
      hint: 'apt-get install util-linux',
    });
  const dir = lowerMountsDir(ctx, c.id);
  const layers = c.config.layers.map((l) => ctx.layout.layerDir(l));
  const targets = layers.map((_, i) => join(dir, String(i)));
  for (const t of targets) mkdirSync(t, { recursive: true, mode: 0o700 });
  withUnmappedUserns(unshare, (pid) => {
    writeFileSync(`/proc/${pid}/uid_map`, formatMap(idMap.uid));
    writeFileSync(`/proc/${pid}/gid_map`, formatMap(idMap.gid));
    const usernsFd = openSync(`/proc/${pid}/ns/user`, 'r');
    try {
      layers.forEach((layer, i) => {
        const mountFd = cloneMount(layer);
        try {
          idmapMount(mountFd, usernsFd);
          attachMount(mountFd, targets[i]!);
        } finally {
          closeSync(mountFd);
        }
      });
    } catch (e) {
      unmountContainer(ctx, c.id);
      throw new DenError(
        'FailedPrecondition',
        'DEN0681',
        `container ${c.name}: cannot idmap its layers: ${(e as Error).message}`,
        {
          hint: 'run `den system check`: idmapped mounts need kernel 5.12+ and a store on ext4, xfs or btrfs',
          cause: e,
        },
      );
    } finally {
      closeSync(usernsFd);
    }
  });
  return targets.reverse();
}

export function lowerMountsDir(ctx: EngineContext, id: string): string {
  return join(ctx.layout.containerDir(id), 'lower');
}

/**
 * Unmounts the container's overlay ($1) and then its idmapped layers (under $2), whichever are
 * mounted. umount is simply tried (lazily when busy): asking mountpoint first would cost an exec
 * per mount on the --rm path, where the overlay is always mounted.
 */
export const UNMOUNT_CONTAINER =
  'for m in "$1" "$2"/*; do [ -e "$m" ] && { umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null; }; done; true';

export function unmountContainer(ctx: EngineContext, id: string): void {
  runSync(
    ctx.ns.wrap(['sh', '-c', UNMOUNT_CONTAINER, 'den-umount', ctx.layout.bundle(id).rootfs, lowerMountsDir(ctx, id)]),
  );
}

function formatMap(map: ContainerIdMap['uid']): string {
  return map.map((e) => `${e.containerID} ${e.hostID} ${e.size}`).join('\n') + '\n';
}
