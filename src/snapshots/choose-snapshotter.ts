import { accessSync, constants, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition } from '../common/errors.js';
import { findExecutable } from '../common/exec.js';
import { copySnapshotter } from './copy-snapshotter.js';
import { fuseSnapshotter } from './fuse-snapshotter.js';
import { helperIdmappedSnapshotter } from './helper-idmapped-snapshotter.js';
import { findIdmapHelper, probeIdmapHelper } from './idmap-helper.js';
import { idmappedSnapshotter } from './idmapped-snapshotter.js';
import { shiftsIds } from '../idmap/index.js';
import type { IdShift } from './overlay.js';
import { plainSnapshotter } from './plain-snapshotter.js';
import type { ShiftMethod, Snapshotter } from './snapshotter.js';
import { ownerTag } from './store-lock.js';

const BY_METHOD: Record<ShiftMethod, Snapshotter> = {
  none: plainSnapshotter,
  idmapped: idmappedSnapshotter,
  fuse: fuseSnapshotter,
  copy: copySnapshotter,
  helper: helperIdmappedSnapshotter,
};

/** Every snapshotter, for what concerns them all (garbage collection, a layer's removal). */
export const SNAPSHOTTERS: readonly Snapshotter[] = Object.values(BY_METHOD);

/**
 * The snapshotter of a container, from what it recorded at create: the one place that reads the
 * recorded method. Maps that do not shift ids need none; as root, shifting maps are idmapped; a
 * rootless record made before there was a choice has no method, and means fuse.
 */
export function snapshotterFor(
  rootless: boolean,
  idMap: IdShift | undefined,
  recorded?: RootlessShiftMethod,
): Snapshotter {
  if (!idMap || !shiftsIds(idMap)) return plainSnapshotter;
  if (!rootless) return idmappedSnapshotter;
  return BY_METHOD[recorded ?? 'fuse'];
}

/** The ways a rootless container's ids are shifted. */
export type RootlessShiftMethod = 'fuse' | 'copy' | 'helper';

/** The rootless choice between the ways of shifting ids, and what a new mapping costs. */
export interface ShiftChoice {
  method: RootlessShiftMethod;
  /** What a container with a mapping not seen before costs. */
  newMapping: 'nothing' | 'metadata' | 'full copy';
  why: string;
}

/**
 * Rootless, a container whose ids differ from the session's needs the image shown with shifted
 * owners, and the kernel refuses an unprivileged user idmapped mounts of ext4, xfs or btrfs. The
 * choice (DEN_SHIFT, `preference`, overrides it): helper where den-idmap is installed and makes an
 * idmapped mount of the store for the caller (probed: nothing copied, native reads, as root's
 * idmapped snapshotter); else copy where the store's file system has reflinks (the copy shares
 * data and reads at native speed), else fuse where fuse-overlayfs works (nothing copied, reads
 * through FUSE), else copy. `den system check` says which and why.
 */
export function chooseShift(options: {
  dataDir: string;
  searchPath: string;
  preference: 'auto' | RootlessShiftMethod;
  /** Where den-idmap is looked for. */
  idmapHelperDirs: readonly string[];
  /** The caller's ids, for the helper's probe. */
  ids: { uid: number; gid: number };
}): ShiftChoice {
  const asked = options.preference;
  if (asked === 'helper') {
    const helper = findIdmapHelper(options.idmapHelperDirs);
    if ('missing' in helper) {
      throw failedPrecondition('DEN1603', `DEN_SHIFT=helper, but ${helper.missing}`, {
        hint: 'run scripts/setup-host.sh as root, or unset DEN_SHIFT to let den choose',
      });
    }
    return { method: 'helper', newMapping: 'nothing', why: 'DEN_SHIFT=helper' };
  }
  if (asked === 'copy') {
    return {
      method: 'copy',
      newMapping: hasReflinks(options.dataDir) ? 'metadata' : 'full copy',
      why: 'DEN_SHIFT=copy',
    };
  }
  if (asked === 'fuse') {
    const fuse = fuseShift(options.searchPath);
    if (!fuse.ok) {
      throw failedPrecondition('DEN0686', `DEN_SHIFT=fuse, but ${fuse.why}`, {
        hint: `${fuse.fix}, or unset DEN_SHIFT to let den choose`,
      });
    }
    return { method: 'fuse', newMapping: 'nothing', why: 'DEN_SHIFT=fuse' };
  }
  const helper = findIdmapHelper(options.idmapHelperDirs);
  if ('found' in helper) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const probe = probeIdmapHelper(helper.found, options.dataDir, options.ids);
    if (probe.ok) {
      return {
        method: 'helper',
        newMapping: 'nothing',
        why: `${helper.found.helper} makes idmapped mounts of the layers for you: nothing copied, native reads (probed)`,
      };
    }
  }
  if (hasReflinks(options.dataDir)) {
    return {
      method: 'copy',
      newMapping: 'metadata',
      why: "the store's file system has reflinks: a shifted copy shares the image's data, costs only metadata, and reads at native speed",
    };
  }
  const fuse = fuseShift(options.searchPath);
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
function hasReflinks(dataDir: string): boolean {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const probe = join(dataDir, `.reflink-probe-${ownerTag()}`);
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
