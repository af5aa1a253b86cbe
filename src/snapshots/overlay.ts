import type { OciIdMaps } from '../idmap/index.js';
/**
 * The mount that becomes a container's root file system: overlayfs with the image's layers as
 * lower directories (topmost first, as overlayfs wants them) and the container's own upper and work
 * directories. A currency type: the snapshot side produces it, the runtime side performs it, and
 * neither imports the other.
 *
 * `userxattr` is always set: it is required for overlay mounts made inside a user namespace, and den
 * writes the opaque-directory marker as user.overlay.opaque when unpacking, so root mode mounts the
 * same layers the same way.
 */
export interface OverlayMount {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  target: string;
  /**
   * Skip syncing the upper directory (overlayfs's `volatile`): for containers removed when they
   * exit. Unmounting an overlay otherwise syncs the whole file system under the upper directory,
   * which right after an import or pull means writing back every layer just unpacked (measured:
   * 160 ms on the first `run --rm` after an import of the Debian image, 3 ms after it).
   */
  volatile?: boolean;
}

/** Id triplets (on-disk id, id shown, count), as fuse-overlayfs's uidmapping= and the copier take them. */
export type IdShift = OciIdMaps;

/**
 * The options of a read-only fuse-overlayfs mount of the image's layers that shows every file's
 * owner shifted: on-disk id `containerID` appears as `hostID`. Nothing on disk changes, so one copy
 * of the image serves every mapping. The container's kernel overlay is stacked on it with a native
 * upper directory, so only reads of image files pass through FUSE; what the container writes does
 * not (measured: writes through fuse-overlayfs ran at about half the kernel overlay's speed).
 */
export function shiftedLowerOptions(lowerDirs: string[], shift: IdShift): string {
  checkPaths(lowerDirs);
  const fmt = (map: IdShift['uid']) => map.map((e) => `${e.containerID}:${e.hostID}:${e.size}`).join(':');
  return `lowerdir=${lowerDirs.join(':')},uidmapping=${fmt(shift.uid)},gidmapping=${fmt(shift.gid)},noacl,threaded=1`;
}

/** The option string of the overlay mount (lowerdir, upperdir, workdir, userxattr). */
export function overlayMountOptions(m: OverlayMount): string {
  checkPaths([...m.lowerDirs, m.upperDir, m.workDir]);
  const volatile = m.volatile ? ',volatile' : '';
  return `lowerdir=${m.lowerDirs.join(':')},upperdir=${m.upperDir},workdir=${m.workDir},userxattr${volatile}`;
}

function checkPaths(dirs: string[]): void {
  for (const dir of dirs) {
    // overlayfs splits lowerdir on ':' and options on ','; den's own paths never contain them
    // unless the data directory does, which is refused here rather than mounted wrongly.
    if (/[:,\\]/.test(dir)) throw new Error(`overlay: path ${dir} contains ':' ',' or '\\'`);
  }
}
