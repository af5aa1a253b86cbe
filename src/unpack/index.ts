/**
 * Tar archives in and out of directories. Mostly layer unpacking: an OCI layer blob (tar, tar+gzip or tar+zstd) becomes a directory that
 * overlayfs (mounted with `userxattr`) can use as a lower layer. Whiteouts become 0/0 character
 * devices, opaque markers the xattr `user.overlay.opaque=y`; owners are the archive's own ids, so
 * the caller runs this as root or inside the rootless session's user namespace.
 *
 *   const tar = decompressor({ layer: digest, mediaType });  // sniffs gzip / zstd / plain
 *   blobStream.on('error', (e) => tar.destroy(e)).pipe(tar);
 *   const stats = await unpackLayer(tar, tmpDir, { canMknod: !rootless, onWarning: log });
 *   // on success rename tmpDir into place; on a DenError remove tmpDir
 *
 * The decompression runs beside the unpacking (igzip or zstd as a child process, or zlib on the
 * thread pool),
 * so that parsing and file creation keep one core to themselves.
 *
 * Hostile archives (escaping names, symlinks or hardlinks, absurd sizes, corrupt headers or
 * compressed streams) end in a DenError (DEN0301-DEN0326) with nothing written outside the
 * directory, and no child process left behind.
 */
export { unpackLayer, unpackCopy, DEFAULT_LIMITS, OPAQUE_XATTR } from './tar-unpacker.js';
export type { CopyOptions, UnpackOptions, UnpackStats, UnpackLimits } from './tar-unpacker.js';
/** den's tar writer, and a directory tree into it (den cp, den commit). */
export { TarWriter, type TarHeader } from './tar-writer.js';
/** docker's `cp`: its path rules, and the container's half of a copy (run confined to the container's root). */
export {
  assertsDirectory,
  containerPath,
  destinationInfo,
  prepareArchiveCopy,
  renameTop,
  sourceInfo,
  splitPathDirEntry,
  type CopyDestination,
  type CopyPlan,
  type CopySource,
  type DescribePath,
} from './copy-rules.js';
export {
  archiveFromRoot,
  extractIntoRoot,
  notInContainer,
  type ArchiveRequest,
  type ExtractRequest,
} from './copy-archive.js';
export {
  listDir,
  lstatOrUndefined,
  openDir,
  TreePacker,
  type DirHandle,
  type PackOptions,
  type TreeAccess,
} from './pack-tree.js';
export { decompressor, compressionOf, sniffCompression } from './decompress.js';
export { gzipFile, type CompressOptions } from './compress.js';
export type { Compression, DecompressOptions, Decompressor } from './decompress.js';
/** The tar reader itself, for tar files that are not layers (den load's archives). */
export { TarReader, type TarEntry } from './tar-reader.js';
export { streamChunks } from './stream-chunks.js';
export type { UnpackFailure } from './unpack-errors.js';
