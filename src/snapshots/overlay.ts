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
}

/** Id triplets (on-disk id, id shown, count) for fuse-overlayfs's uidmapping= and gidmapping=. */
export interface IdShift {
  uid: { containerID: number; hostID: number; size: number }[];
  gid: { containerID: number; hostID: number; size: number }[];
}

/**
 * The options of a fuse-overlayfs mount of the same layers that shows every file's owner shifted:
 * on-disk id `containerID` appears as `hostID`. Nothing on disk changes, so one copy of the image
 * serves every mapping; the price is that file I/O goes through FUSE.
 */
export function fuseOverlayOptions(m: OverlayMount, shift: IdShift): string {
  checkPaths(m);
  const fmt = (map: IdShift['uid']) => map.map((e) => `${e.containerID}:${e.hostID}:${e.size}`).join(':');
  return `lowerdir=${m.lowerDirs.join(':')},upperdir=${m.upperDir},workdir=${m.workDir},uidmapping=${fmt(shift.uid)},gidmapping=${fmt(shift.gid)}`;
}

/** The option string of the overlay mount (lowerdir, upperdir, workdir, userxattr). */
export function overlayMountOptions(m: OverlayMount): string {
  checkPaths(m);
  return `lowerdir=${m.lowerDirs.join(':')},upperdir=${m.upperDir},workdir=${m.workDir},userxattr`;
}

function checkPaths(m: OverlayMount): void {
  for (const dir of [...m.lowerDirs, m.upperDir, m.workDir]) {
    // overlayfs splits lowerdir on ':' and options on ','; den's own paths never contain them
    // unless the data directory does, which is refused here rather than mounted wrongly.
    if (/[:,\\]/.test(dir)) throw new Error(`overlay: path ${dir} contains ':' ',' or '\\'`);
  }
}
