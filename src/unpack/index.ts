/**
 * Layer unpacking: an uncompressed OCI layer tar stream becomes a directory that overlayfs
 * (mounted with `userxattr`) can use as a lower layer. Whiteouts become 0/0 character devices,
 * opaque markers the xattr `user.overlay.opaque=y`; owners are the archive's own ids, so the
 * caller runs this as root or inside the rootless session's user namespace.
 *
 *   const gunzip = createReadStream(blobPath).pipe(createGunzip());
 *   const stats = await unpackLayer(gunzip, tmpDir, { canMknod: !rootless, onWarning: log });
 *   // on success rename tmpDir into place; on a DenError remove tmpDir
 *
 * Hostile archives (escaping names, symlinks or hardlinks, absurd sizes, corrupt headers) end in
 * an InvalidArgument DenError (DEN0301-DEN0321) with nothing written outside the directory.
 */
export { unpackLayer, DEFAULT_LIMITS, OPAQUE_XATTR } from './tar-unpacker.js';
export type { UnpackOptions, UnpackStats, UnpackLimits } from './tar-unpacker.js';
