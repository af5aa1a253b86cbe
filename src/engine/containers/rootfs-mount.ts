import { chmodSync, chownSync, statSync } from 'node:fs';
import { DenError } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import type { ContainerRecord } from '../../containers/index.js';
import { mapsHostId, shiftId } from '../../idmap/index.js';
import {
  MOUNT_ROOTFS,
  overlayMountOptions,
  snapshotterFor,
  SNAPSHOTTERS,
  unmountRootfs,
  type RootfsRequest,
  type ShiftProgress,
  type Snapshotter,
} from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { prepareMounts } from './container-mounts.js';

/** A container's root file system as snapshots/ sees it. */
export function rootfsOf(c: ContainerRecord, volatile = c.config.autoRemove): RootfsRequest {
  return {
    id: c.id,
    name: c.name,
    layers: c.config.layers,
    ...(c.config.idMap ? { idMap: c.config.idMap } : {}),
    ...(c.config.shiftKey ? { shiftKey: c.config.shiftKey } : {}),
    privateCopies: c.config.usernsMode === 'auto',
    volatile,
  };
}

/** The snapshotter that made (and mounts, and frees) a container's root file system. */
export function snapshotterOf(ctx: EngineContext, c: ContainerRecord): Snapshotter {
  return snapshotterFor(ctx.paths.rootless, c.config.idMap, c.config.shiftMethod);
}

/** At create: what the container's snapshotter makes once (rootless shifted copies). */
export async function prepareRootfs(
  ctx: EngineContext,
  c: ContainerRecord,
  onProgress?: (p: ShiftProgress) => void,
): Promise<void> {
  await snapshotterOf(ctx, c).prepare(ctx, rootfsOf(c), onProgress);
}

/**
 * The arguments of snapshots' MOUNT_ROOTFS for a container, in the namespaces: its snapshotter
 * makes what it makes from den's process (idmapped binds) and says what to mount there.
 */
export async function rootfsMountArgs(ctx: EngineContext, c: ContainerRecord, volatile: boolean): Promise<string[]> {
  const mounts = await snapshotterOf(ctx, c).mount(ctx, rootfsOf(c, volatile));
  const b = ctx.layout.bundle(c.id);
  let group = bundleGroup(c);
  if (group !== undefined) {
    const st = statSync(b.dir);
    if (ctx.sessionId('gid', st.gid) === group && (st.mode & 0o777) === 0o710) {
      group = undefined; // given at an earlier start: no process for it
    } else if (!ctx.paths.rootless) {
      // Root mode gives the group from here; rootless, MOUNT_ROOTFS does it in the session.
      chownSync(b.dir, 0, group);
      chmodSync(b.dir, 0o710);
      group = undefined;
    }
  }
  let others: string;
  try {
    others = prepareMounts(ctx, c);
  } catch (e) {
    unmountRootfs(ctx, c.id); // what the snapshotter (and the mounts before the failure) made
    throw e;
  }
  return [
    mounts.fuse?.options ?? '',
    mounts.fuse?.target ?? '',
    mounts.upperOwner ?? '',
    b.upper,
    overlayMountOptions(mounts.overlay),
    mounts.overlay.target,
    group === undefined ? '' : String(group),
    b.dir,
    others,
  ];
}

/**
 * The group a container's directory is opened to (0710) when its root is a stranger to the store's
 * owner (an auto, keep-id or explicit range: the runtime passes through the directory as that root):
 * that root's gid where the runtime runs. Undefined when its root is the store's owner, and the
 * directory stays 0700. See docs/permissions.md.
 */
export function bundleGroup(c: ContainerRecord): number | undefined {
  const idMap = c.config.idMap;
  if (!idMap || mapsHostId(idMap.uid, 0)) return undefined;
  return shiftId(idMap.gid, 0);
}

/**
 * Runs `use` with the container's root file system mounted, inside the namespaces, at the path it
 * is given: a running container's is mounted already (its runtime's overlay, left alone); a created
 * or exited one's is mounted for the time `use` takes and unmounted after, whatever happens. For
 * the commands that read or write a container's files from outside it (export, cp).
 */
export async function withRootfs<T>(
  ctx: EngineContext,
  c: ContainerRecord,
  use: (rootfs: string) => Promise<T>,
): Promise<T> {
  const rootfs = ctx.layout.bundle(c.id).rootfs;
  if (c.status === 'running' || c.status === 'paused') return use(rootfs);
  try {
    const r = runSync(ctx.ns.wrap(['sh', '-c', MOUNT_ROOTFS, 'den-mount', ...(await rootfsMountArgs(ctx, c, false))]));
    if (r.status !== 0) throw mountFailed(c, r.stderr.trim() || `status ${r.status}`);
    return await use(rootfs);
  } finally {
    unmountRootfs(ctx, c.id);
  }
}

/**
 * MOUNT_ROOTFS failed, saying `message`: a volume's --opt mount (container-mounts' line says which
 * volume) or the root file system itself.
 */
export function mountFailed(c: ContainerRecord, message: string): DenError {
  const volume = /den: volume (\S+): (.*)/.exec(message);
  if (volume) {
    return new DenError(
      'FailedPrecondition',
      'DEN1334',
      `container ${c.name}: cannot mount volume ${volume[1]}: ${message}`,
      {
        hint: `check its options (den volume inspect ${volume[1]}): rootless, only tmpfs and bind mounts are allowed`,
      },
    );
  }
  return new DenError(
    'FailedPrecondition',
    'DEN0651',
    `container ${c.name}: cannot mount its root file system: ${message}`,
    {
      hint: 'run `den system check` to see whether overlay mounts work here',
    },
  );
}

/** A layer leaves the store: every snapshotter drops what it derived from it (shifted copies). */
export function forgetLayer(ctx: EngineContext, chainHex: string): void {
  for (const s of SNAPSHOTTERS) s.forgetLayer(ctx, chainHex);
}

/** Garbage collection of what snapshotters derived and no container uses; returns the paths. */
export function collectSnapshots(ctx: EngineContext, old: (path: string) => boolean, dryRun: boolean): string[] {
  const inUse = ctx.containers.list().map((c) => rootfsOf(c));
  return SNAPSHOTTERS.flatMap((s) => s.collect(ctx, inUse, old, dryRun));
}
