import { chownSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { attachMount, cloneMount, idmapMount } from '../common/libc.js';
import { findExecutable } from '../common/exec.js';
import { withUnmappedUserns } from '../session/index.js';
import type { IdShift } from './overlay.js';
import { shiftId } from '../idmap/index.js';
import { containerOverlay, imageRootOwner, lowerMountsDir, unmountRootfs, type Snapshotter } from './snapshotter.js';

/**
 * Root mode's zero-copy id shift: each canonical layer is bind-mounted into the container's
 * directory through an idmapped mount (open_tree, mount_setattr(MOUNT_ATTR_IDMAP), move_mount)
 * whose maps are the container's, and the overlay is built over those. Files keep the owners the
 * image gave them on disk; the container sees them through its own range, and nothing is copied or
 * chowned, whatever the image's size. (Idmapping the overlay mount itself is refused by the kernel.)
 */
export const idmappedSnapshotter: Snapshotter = {
  method: 'idmapped',
  async prepare(ctx, root) {
    // The upper and work directories are the container's own: give them its root's ids (the
    // upper directory the image root's owner, which the overlay's root takes from it).
    const idMap = requireMap(root.id, root.idMap);
    const b = ctx.layout.bundle(root.id);
    const owner = imageRootOwner(ctx, root.layers);
    chownSync(b.upper, shiftId(idMap.uid, owner.uid), shiftId(idMap.gid, owner.gid));
    chownSync(b.work, shiftId(idMap.uid, 0), shiftId(idMap.gid, 0));
  },
  async mount(ctx, root) {
    const idMap = requireMap(root.id, root.idMap);
    const unshare = findExecutable('unshare', ctx.searchPath);
    if (!unshare)
      throw new DenError('FailedPrecondition', 'DEN0680', 'unshare not found in PATH', {
        hint: 'apt-get install util-linux',
      });
    const dir = lowerMountsDir(ctx, root.id);
    const layers = root.layers.map((l) => ctx.layout.layerDir(l));
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
        unmountRootfs(ctx, root.id);
        throw new DenError(
          'FailedPrecondition',
          'DEN0681',
          `container ${root.name}: cannot idmap its layers: ${(e as Error).message}`,
          {
            hint: 'run `den system check`: idmapped mounts need kernel 5.12+ and a store on ext4, xfs or btrfs',
            cause: e,
          },
        );
      } finally {
        closeSync(usernsFd);
      }
    });
    return { overlay: containerOverlay(ctx, root, targets.reverse()) };
  },
  release() {},
  collect: () => [],
  forgetLayer() {},
};

function requireMap(id: string, idMap: IdShift | undefined): IdShift {
  if (!idMap) throw new Error(`container ${id}: the idmapped snapshotter needs the container's id map`);
  return idMap;
}

function formatMap(map: IdShift['uid']): string {
  return map.map((e) => `${e.containerID} ${e.hostID} ${e.size}`).join('\n') + '\n';
}

/** One mount for `attachMounts`: `source` shown at `target`, through the maps or as it is. */
export interface AttachRequest {
  source: string;
  target: string;
  idmap: boolean;
}

/**
 * Root mode: attaches each source at its target (an existing empty directory or file) as a bind
 * mount of den's own making, idmapped through `idMap` where asked. Returns, for each request, the
 * error that made its idmap fail (the caller decides whether a plain mount will do), or undefined.
 * A plain request, or an idmapped one that failed when `fallback` allows, is attached as it is.
 */
export function attachMounts(
  searchPath: string,
  idMap: IdShift,
  requests: readonly AttachRequest[],
  fallback: (r: AttachRequest, e: Error) => boolean,
): void {
  const attach = (usernsFd: number | undefined) => {
    for (const r of requests) {
      const mountFd = cloneMount(r.source);
      try {
        if (r.idmap && usernsFd !== undefined) {
          try {
            idmapMount(mountFd, usernsFd);
          } catch (e) {
            if (!fallback(r, e as Error)) throw e;
          }
        }
        attachMount(mountFd, r.target);
      } finally {
        closeSync(mountFd);
      }
    }
  };
  if (!requests.some((r) => r.idmap)) return attach(undefined);
  const unshare = findExecutable('unshare', searchPath);
  if (!unshare)
    throw new DenError('FailedPrecondition', 'DEN0680', 'unshare not found in PATH', {
      hint: 'apt-get install util-linux',
    });
  withUnmappedUserns(unshare, (pid) => {
    writeFileSync(`/proc/${pid}/uid_map`, formatMap(idMap.uid));
    writeFileSync(`/proc/${pid}/gid_map`, formatMap(idMap.gid));
    const usernsFd = openSync(`/proc/${pid}/ns/user`, 'r');
    try {
      attach(usernsFd);
    } finally {
      closeSync(usernsFd);
    }
  });
}
