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

/** The option string of the overlay mount (lowerdir, upperdir, workdir, userxattr). */
export function overlayMountOptions(m: OverlayMount): string {
  for (const dir of [...m.lowerDirs, m.upperDir, m.workDir]) {
    // overlayfs splits lowerdir on ':' and options on ','; den's own paths never contain them
    // unless the data directory does, which is refused here rather than mounted wrongly.
    if (/[:,\\]/.test(dir)) throw new Error(`overlay: path ${dir} contains ':' ',' or '\\'`);
  }
  return `lowerdir=${m.lowerDirs.join(':')},upperdir=${m.upperDir},workdir=${m.workDir},userxattr`;
}
