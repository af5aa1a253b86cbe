import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, runSync } from '../common/exec.js';
import { RELEASE_NETWORK } from '../network/index.js';
import type { WorkerProgram } from '../session/index.js';
import type { IdMap } from '../idmap/index.js';
import type { OverlayMount, IdShift } from './overlay.js';
import type { StoreAccess } from './store-lock.js';

/**
 * A snapshotter makes a container's root file system out of the image's layers, with the image's
 * owners shown through the container's id map. Vocabulary:
 *
 *   layer      a chain id (hex), unpacked once under layers/<hex> with the owners the image gave
 *              (canonical form); a container's layers are listed bottom first
 *   id map     the container's uid and gid maps (container id -> id where the runtime runs);
 *              none when it shares the session's ids (rootless) or maps one to one (root)
 *   rootfs     an overlay of the layers (lower, read-only) and the container's own upper directory
 *   mounts     what the snapshotter hands back: an overlay, and before it, where needed, a FUSE
 *              view of the layers and the owner the upper directory must be given; the engine
 *              performs them inside the storage namespaces, the snapshotter never runs them itself
 *
 * Five implementations, one per way of shifting ids (the `method` a container records at create):
 *
 *   none      the layers as they are: rootless containers in the session's mapping, root's 1:1
 *   idmapped  root: each layer bind-mounted through an idmapped mount (zero copy, native I/O)
 *   fuse      rootless: a read-only fuse-overlayfs view of the layers with uidmapping= (zero copy)
 *   copy      rootless: each layer copied once per mapping with owners shifted (native I/O)
 *   helper    rootless: idmapped mounts of each layer made by the setuid den-idmap (zero copy, native I/O)
 *
 * A container's life, as the engine drives it:
 *
 *   const s = snapshotterFor(ctx.paths.rootless, record.config);
 *   await s.prepare(ctx, root, onProgress);   // at create: the slow, once-only part (copies)
 *   const mounts = await s.mount(ctx, root);  // at every start; then MOUNT_ROOTFS in the namespaces
 *   unmountRootfs(ctx, root.id);              // after it exits (the runtime's poststop hook,
 *                                             // rootfsCleanupHook, has usually done it)
 *   s.release(ctx, root);                     // when it is removed
 *   s.collect(ctx, inUse, old, dryRun);       // garbage collection of what no container uses
 */
export interface Snapshotter {
  readonly method: ShiftMethod;
  /** Makes what every start will need and that may take long (shifted copies). Idempotent. */
  prepare(ctx: SnapshotContext, root: RootfsRequest, onProgress?: (p: ShiftProgress) => void): Promise<void>;
  /**
   * At a start: makes what must be made from den's own process (idmapped binds) and returns the
   * mounts to make inside the namespaces. Undone by `unmountRootfs`.
   */
  mount(ctx: SnapshotContext, root: RootfsRequest): Promise<RootfsMounts>;
  /** The container is gone: frees what was its own (an auto container's copies). */
  release(ctx: SnapshotContext, root: RootfsRequest): void;
  /**
   * Removes what this snapshotter made that no container in `inUse` needs and `old` says is past
   * its grace period; returns the paths removed (or that would be, with dryRun).
   */
  collect(
    ctx: SnapshotContext,
    inUse: readonly RootfsRequest[],
    old: (path: string) => boolean,
    dryRun: boolean,
  ): string[];
  /** A layer is being removed from the store: its derived forms go with it. */
  forgetLayer(ctx: SnapshotContext, chainHex: string): void;
}

/** The ways of shifting ids; stored with each container (see `snapshotterFor`). */
export type ShiftMethod = 'none' | 'idmapped' | 'fuse' | 'copy' | 'helper';

/** What snapshotters work with: the store, the namespaces, and where to find programs. */
export interface SnapshotContext extends StoreAccess {
  readonly rootless: boolean;
  /** PATH's form: where fuse-overlayfs and unshare are found. */
  readonly searchPath: string;
  /** den itself, for the copier worker in the session. */
  readonly self: WorkerProgram;
  /** The id a file owned by host id `id` has where the runtime runs (the session's ids rootless). */
  sessionId(kind: 'uid' | 'gid', id: number): number | undefined;
  /** Where den-idmap is looked for (the helper snapshotter's). */
  readonly idmapHelperDirs: readonly string[];
  /** Rootless: the session's maps (session id -> host id). */
  sessionIdMaps(): { uid: IdMap; gid: IdMap };
}

/** One container's root file system, as snapshotters see it. */
export interface RootfsRequest {
  /** The container's id: names its directory, its upper and work directories and its mounts. */
  id: string;
  /** Its name, for messages. */
  name: string;
  /** Chain ids (hex) of the layers, bottom first. */
  layers: readonly string[];
  /** The container's maps, when they shift ids; undefined when the image is used as it is. */
  idMap?: IdShift;
  /** copy: the name of the mapping's copies under shifted/ (see shiftKey). */
  shiftKey?: string;
  /** copy: the copies are this container's alone (an auto range's), and go when it is removed. */
  privateCopies?: boolean;
  /** Skip syncing the upper directory on unmount: the container is removed when it exits. */
  volatile: boolean;
}

/** What the engine mounts inside the namespaces, in this order, to make the root file system. */
export interface RootfsMounts {
  /** fuse: a read-only view of the layers with shifted owners, mounted at `target` (the overlay's lower). */
  fuse?: { options: string; target: string };
  /** `uid:gid` the upper directory is given before mounting, where den cannot from outside the session. */
  upperOwner?: string;
  overlay: OverlayMount;
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

/** The lower directories of a container's layers as they are on disk, topmost first (overlayfs's order). */
export function layerDirsTopFirst(ctx: SnapshotContext, root: RootfsRequest): string[] {
  return root.layers.map((l) => ctx.layout.layerDir(l)).reverse();
}

/** The overlay over `lowerDirs` with the container's own upper and work directories. */
export function containerOverlay(ctx: SnapshotContext, root: RootfsRequest, lowerDirs: string[]): OverlayMount {
  const b = ctx.layout.bundle(root.id);
  return { lowerDirs, upperDir: b.upper, workDir: b.work, target: b.rootfs, volatile: root.volatile };
}

/**
 * Mode and owner of the image's root directory (the top layer's), which the overlay's root takes
 * from its upper directory. Owners are the image's own ids: rootless, the layer was unpacked in the
 * session, so den sees them as host ids and asks the session's map which ids they are.
 */
export function imageRootOwner(
  ctx: SnapshotContext,
  layers: readonly string[],
): { mode: number; uid: number; gid: number } {
  const top = layers[layers.length - 1];
  const st = top ? statSync(ctx.layout.layerDir(top)) : undefined;
  if (!st) return { mode: 0o755, uid: 0, gid: 0 };
  const overflow = 65534;
  return {
    mode: st.mode & 0o7777,
    uid: ctx.sessionId('uid', st.uid) ?? overflow,
    gid: ctx.sessionId('gid', st.gid) ?? overflow,
  };
}

/**
 * Mounts a container's root file system, as a shell snippet that runs inside the namespaces with
 * its arguments in $1..$9 (`rootfsMountArgs`) and fails when a mount does:
 *
 *   MOUNT_ROOTFS FUSE_OPTIONS FUSE_TARGET UPPER_OWNER UPPER OVERLAY_OPTIONS TARGET BUNDLE_GROUP BUNDLE MOUNTS
 *
 * MOUNTS is shell, possibly empty, for the container's other mounts that only the namespaces can
 * make (the engine's: a volume's --opt mount, rootless binds under the container's lower/).
 *
 * BUNDLE_GROUP, when given, opens the container's directory to its root's group alone (0710), for
 * a root that is a stranger to the store's owner: the runtime passes through it as that root to
 * reach the root file system and the /etc files (docs/permissions.md). Rootless, only the session
 * can give a directory a subordinate group, so it is done here, where den already is, by one
 * program (install -d sets an existing directory's group and mode), and only at the first start:
 * `rootfsMountArgs` leaves it out once the directory has them.
 */
export const MOUNT_ROOTFS = `{ { [ -z "$7" ] || install -d -g "$7" -m 0710 "$8"; } && { [ -z "$1" ] || fuse-overlayfs -o "$1" "$2"; } && { [ -z "$3" ] || chown "$3" "$4"; } && mount -t overlay -o "$5" overlay "$6" && { [ -z "$9" ] || eval "$9"; }; }`;

/** How many arguments MOUNT_ROOTFS takes. */
export const MOUNT_ROOTFS_ARGC = 9;

/** Where a container's lower mounts (idmapped binds, the FUSE view) live. */
export function lowerMountsDir(ctx: SnapshotContext | StoreAccess, id: string): string {
  return join(ctx.layout.containerDir(id), 'lower');
}

/**
 * Stops the container's network helper (network's RELEASE_NETWORK), then unmounts the container's
 * overlay ($1) and its lower mounts (under $2, with its network namespace), whichever are mounted.
 * umount is simply tried (lazily when busy): asking mountpoint first would cost an exec per mount.
 */
export const UNMOUNT_ROOTFS = `${RELEASE_NETWORK}; for m in "$1" "$2"/*; do [ -e "$m" ] && { umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null; }; done; true`;

/** An OCI runtime hook: a program the runtime runs at a point of the container's life. */
export interface RuntimeHook {
  path: string;
  args: string[];
  env: string[];
}

/**
 * The runtime's poststop hook of a container: as the runtime removes the container after it
 * exited, it unmounts the root file system (UNMOUNT_ROOTFS), and for a container removed when it
 * exits (`removeFiles`) deletes its upper and work directories, which hold files of the container's
 * ids that only the namespaces can delete. The runtime runs the hook in its own namespaces, the
 * storage's, so that den then has nothing to do there: no nsenter, no shell started from Node.
 * It prints nothing and always succeeds; whatever it leaves (it does not run when the runtime
 * failed before the container started) `unmountRootfs` and `removeRootfs` still find and undo.
 */
export function rootfsCleanupHook(ctx: SnapshotContext, id: string, removeFiles: boolean): RuntimeHook {
  const b = ctx.layout.bundle(id);
  const remove = removeFiles ? '; rm -rf --one-file-system "$3" "$4"' : '';
  return {
    path: findExecutable('sh', ctx.searchPath) ?? '/bin/sh',
    args: [
      'sh',
      '-c',
      `exec > /dev/null 2>&1; ${UNMOUNT_ROOTFS}${remove}; true`,
      'den-poststop',
      b.rootfs,
      lowerMountsDir(ctx, id),
      b.upper,
      b.work,
    ],
    env: [`PATH=${ctx.searchPath}`],
  };
}

/**
 * Whether anything is mounted at or below `dir` in the storage's namespaces: read from their mount
 * table, so that finding nothing costs no process.
 */
function mountedUnder(ctx: StoreAccess, dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false; // no directory, nothing mounted on it
  }
  return ctx.ns.mounts().some((m) => m.mountPoint === real || m.mountPoint.startsWith(`${real}/`));
}

/** Undoes `mount` and MOUNT_ROOTFS, whatever part of them is still there. */
export function unmountRootfs(ctx: StoreAccess, id: string): void {
  if (!mountedUnder(ctx, ctx.layout.containerDir(id))) return;
  runSync(
    ctx.ns.wrap(['sh', '-c', UNMOUNT_ROOTFS, 'den-umount', ctx.layout.bundle(id).rootfs, lowerMountsDir(ctx, id)]),
  );
}

/**
 * Unmounts the container's root file system (if mounted) and deletes its directory. The upper and
 * work directories hold files of the container's ids that only the namespaces can remove, so while
 * they exist, or anything is mounted, it is done there. Rootless, once they are gone (the runtime's
 * poststop hook removed them) what is left is den's own, and den removes it itself: the session's
 * mounts are not in den's mount namespace, so a recursive removal from outside never enters one.
 */
export function removeRootfs(ctx: StoreAccess, id: string): void {
  const b = ctx.layout.bundle(id);
  if (ctx.ns.rootless && !existsSync(b.upper) && !existsSync(b.work) && !mountedUnder(ctx, b.dir)) {
    try {
      rmSync(b.dir, { recursive: true, force: true });
      return;
    } catch {
      // something den cannot remove: the namespaces can
    }
  }
  runSync(
    ctx.ns.wrap([
      'sh',
      '-c',
      `${UNMOUNT_ROOTFS}; rm -rf --one-file-system "$3"`,
      'den-rm',
      b.rootfs,
      lowerMountsDir(ctx, id),
      b.dir,
    ]),
  );
}
