import type { ContainerRecord } from '../../containers/index.js';
import {
  overlayMountOptions,
  snapshotterFor,
  SNAPSHOTTERS,
  type RootfsRequest,
  type ShiftProgress,
  type Snapshotter,
} from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';

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
  return [
    mounts.fuse?.options ?? '',
    mounts.fuse?.target ?? '',
    mounts.upperOwner ?? '',
    b.upper,
    overlayMountOptions(mounts.overlay),
    mounts.overlay.target,
  ];
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
