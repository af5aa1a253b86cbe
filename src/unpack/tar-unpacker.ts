/**
 * Unpacks one OCI layer (an uncompressed tar stream) into a new directory, in the form overlayfs
 * mounted with `userxattr` reads as a lower layer:
 *
 *   dir/.wh.name      ->  dir/name, a character device 0/0 (the overlay whiteout)
 *   dir/.wh..wh..opq  ->  xattr user.overlay.opaque=y on dir
 *
 * A layer is hostile input. Names are cleaned and refused when they leave the root, parents are
 * resolved inside the root by LayerRoot, and the last component is never followed: files are
 * opened O_EXCL|O_NOFOLLOW, owners set with lchown/fchown, times with lutimes/futimes, and an
 * existing non-directory is removed before its replacement is created. Nothing outside `dest` is
 * written. On error the caller removes `dest`; this module never leaves it for reuse.
 *
 * File system calls are synchronous and made from this thread: each is a few microseconds of
 * kernel work, cheaper than a round trip through libuv's thread pool, and the reader lets the event
 * loop turn every half millisecond so that input and decompression keep flowing meanwhile. Handing
 * file data to the thread pool, or to a writer thread of its own through shared memory, was
 * measured and lost: file creation on ext4 hardly scales across cores (two `tar -x` side by side
 * take 1.8 times as long as one), so the second core is left to decompression. A file costs four
 * calls (open with its final mode, write, futimens, close) when its owner is the unpacker's and its
 * mode needs no setuid, setgid or sticky bit; tar makes six.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { errnoCode, isDenError, type DenError } from '../common/errors.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, lgetxattr, lsetxattr, makedev, mknod } from '../common/libc.js';
import { LayerRoot, joinReal, nameComponents, type ResolveErrors } from './layer-root.js';
import { streamChunks } from './stream-chunks.js';
import { TarReader, type TarEntry } from './tar-reader.js';
import { setFileTimes, setPathTimes, type Timespec } from '../common/timestamps.js';
import {
  asCopyError,
  destinationExists,
  destinationFailed,
  display,
  escapesRoot,
  fileTooLarge,
  hardlinkEscape,
  hardlinkTargetMissing,
  invalidName,
  invalidOwner,
  overwriteDirectory,
  overwriteNonDirectory,
  symlinkEscape,
  tooManyBytes,
  tooManyEntries,
  unmappedOwner,
  unpackBug,
  whiteoutEscape,
  writeFailed,
  xattrFailed,
} from './unpack-errors.js';

export interface UnpackLimits {
  maxEntries?: number;
  maxTotalBytes?: number;
  maxFileBytes?: number;
}

export interface UnpackOptions {
  /** false inside a rootless session: device nodes (other than overlay whiteouts) are skipped, each with a warning. */
  canMknod: boolean;
  onWarning?: (message: string) => void;
  limits?: UnpackLimits;
}

/**
 * An archive that is not a layer (`den cp`), unpacked into a directory that exists, as docker
 * extracts a copy: `.wh.` names are files like any other and extended attributes are set as named;
 * a directory is never replaced by a non-directory nor the other way round (DEN0327); an entry
 * naming the destination itself changes nothing.
 */
export interface CopyOptions extends UnpackOptions {
  /**
   * The owner an entry gets, from its owner in the archive (undefined: an id the destination cannot
   * hold, DEN0318); without, entries keep the unpacker's own.
   */
  owner?: (uid: number, gid: number) => { uid: number | undefined; gid: number | undefined };
  /** Where an entry goes (a name, or a hardlink's target, rebased); undefined leaves it out. */
  rename?: (name: string) => string | undefined;
}

export interface UnpackStats {
  /** Archive entries applied, whiteouts included. */
  entries: number;
  /** File data bytes written. */
  bytes: number;
  /** Highest owner ids given to anything unpacked: the id range a container of this layer needs. */
  maxUid: number;
  maxGid: number;
}

export const DEFAULT_LIMITS: Required<UnpackLimits> = {
  maxEntries: 1_000_000,
  maxTotalBytes: 64 * 2 ** 30,
  maxFileBytes: 64 * 2 ** 30,
};

export const OPAQUE_XATTR = 'user.overlay.opaque';
/** Overlay's own xattrs from an image are data, not instructions to our mount: the kernel's escape. */
const OVERLAY_XATTR_PREFIX = 'user.overlay.';
const ESCAPED_OVERLAY_XATTR_PREFIX = 'user.overlay.overlay.';
const DEFAULT_ACL_XATTR = 'system.posix_acl_default';
/** How the kernel says an xattr namespace is closed to us (ENOTSUP and EOPNOTSUPP are one number). */
const XATTR_REFUSALS = new Set(['EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP']);
/** Zero blocks and record padding after the end marker: GNU tar pads to 10 KiB, `-b` to more. */
const TRAILER_SLACK = 1 << 20;
/** chown(2) reads -1 as "leave unchanged", so the highest usable id is one below. */
const MAX_ID = 0xfffffffe;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** dest must not exist; it is created (mode 0755). On any error it throws a DenError and the caller removes dest. */
export async function unpackLayer(
  input: NodeJS.ReadableStream,
  dest: string,
  options: UnpackOptions,
): Promise<UnpackStats> {
  try {
    mkdirSync(dest, 0o755);
    chmodSync(dest, 0o755); // the umask may have taken bits away
  } catch (e) {
    throw errnoCode(e) === 'EEXIST' ? destinationExists(dest, e) : destinationFailed(dest, e);
  }
  return unpack(input, new Unpacker(new LayerRoot(dest), options, undefined));
}

/**
 * Unpacks an archive that is not a layer into `dest`, a directory that exists (CopyOptions). Errors
 * name the entry as an archive entry; what was written before one stays, as with docker.
 */
export async function unpackCopy(
  input: NodeJS.ReadableStream,
  dest: string,
  options: CopyOptions,
): Promise<UnpackStats> {
  try {
    return await unpack(input, new Unpacker(new LayerRoot(dest), options, options));
  } catch (e) {
    throw isDenError(e) ? asCopyError(e) : e;
  }
}

async function unpack(input: NodeJS.ReadableStream, unpacker: Unpacker): Promise<UnpackStats> {
  const reader = new TarReader(streamChunks(input));
  try {
    for (let entry = await reader.next(); entry !== null; entry = await reader.next()) {
      await unpacker.apply(entry, reader);
    }
    // What follows the end marker is read too (for the digest upstream), within the byte budget
    // and a little more for the zero blocks that pad archives to whole records.
    await reader.drain(Math.max(0, unpacker.limits.maxTotalBytes - unpacker.stats.bytes) + TRAILER_SLACK);
    unpacker.finish();
  } catch (e) {
    await reader.close().catch(() => undefined);
    throw isDenError(e) ? e : unpackBug(e);
  }
  return unpacker.stats;
}

class Unpacker {
  readonly stats: UnpackStats = { entries: 0, bytes: 0, maxUid: 0, maxGid: 0 };
  readonly limits: Required<UnpackLimits>;
  /** Directory times wait for the end: creating a child would change them again. */
  private readonly dirTimes = new Map<string, [atime: Timespec, mtime: Timespec]>();
  /** What a new file gets unasked, so that fchown and fchmod can be skipped when they would change nothing. */
  private readonly creator = { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1, umask: readUmask() };
  /** Directories with the setgid bit: their new files take the directory's group, not ours. */
  private readonly setgidDirs = new Set<string>();
  /** A default ACL, not the umask, decides the mode of files created under it. */
  private defaultAcl: boolean;

  constructor(
    private readonly root: LayerRoot,
    private readonly options: UnpackOptions,
    /** Set for an archive that is not a layer. */
    private readonly copy: CopyOptions | undefined,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.defaultAcl = hasDefaultAcl(root.abs(''));
  }

  async apply(archived: TarEntry, reader: TarReader): Promise<void> {
    const e = this.copy ? this.copied(archived) : archived;
    if (e === undefined) return;
    if (++this.stats.entries > this.limits.maxEntries) throw tooManyEntries(this.limits.maxEntries);
    if (e.size > this.limits.maxFileBytes) throw fileTooLarge(e.name, e.size, this.limits.maxFileBytes);
    this.stats.bytes += dataBytes(e);
    if (this.stats.bytes > this.limits.maxTotalBytes) throw tooManyBytes(e.name, this.limits.maxTotalBytes);
    if (e.uid > MAX_ID) throw invalidOwner(e.name, 'uid', e.uid);
    if (e.gid > MAX_ID) throw invalidOwner(e.name, 'gid', e.gid);
    const parts = nameComponents(e.name);
    try {
      await this.place(e, parts, reader);
    } catch (err) {
      throw isDenError(err) ? err : writeFailed(e.name, err);
    }
  }

  /** A copy's entry as it is placed: renamed, its hardlink target too, and owned as the caller says. */
  private copied(e: TarEntry): TarEntry | undefined {
    const rename = this.copy?.rename;
    const name = rename ? rename(e.name) : e.name;
    if (name === undefined) return undefined;
    const linkname = e.type === 'link' && rename ? (rename(e.linkname) ?? e.linkname) : e.linkname;
    const owner = this.copy?.owner?.(e.uid, e.gid);
    if (owner?.uid === undefined && owner) throw invalidOwner(name, 'uid', e.uid);
    if (owner?.gid === undefined && owner) throw invalidOwner(name, 'gid', e.gid);
    return { ...e, name, linkname, ...(owner ? { uid: owner.uid!, gid: owner.gid! } : {}) };
  }

  finish(): void {
    for (const [real, [atime, mtime]] of this.dirTimes) {
      try {
        setPathTimes(this.root.absZ(real), atime, mtime);
      } catch (err) {
        throw writeFailed(real === '' ? '.' : real, err);
      }
    }
  }

  private async place(e: TarEntry, parts: string[], reader: TarReader): Promise<void> {
    const base = parts[parts.length - 1];
    if (base === undefined) {
      if (this.copy) {
        // docker leaves the directory it extracts into as it is.
        if (e.type !== 'dir') throw overwriteDirectory(e.name);
        return;
      }
      if (e.type !== 'dir') throw invalidName(e.name, `a ${e.type} cannot replace the layer root`);
      return this.directory(e, '', undefined);
    }
    if (base.startsWith('.wh.') && !this.copy) return this.whiteout(e, parts, base);
    const errors: ResolveErrors = {
      escape: (link) => (link === undefined ? escapesRoot(e.name) : symlinkEscape(e.name, link)),
    };
    const parent = this.root.resolveDir(e.name, parts.slice(0, -1), errors);
    const real = joinReal(parent, base);
    switch (e.type) {
      case 'file':
        return this.file(e, real, reader, parent);
      case 'dir':
        return this.directory(e, real, parent);
      case 'symlink':
        return this.symlink(e, real, parent);
      case 'link':
        return this.hardlink(e, real);
      case 'char':
      case 'block':
      case 'fifo':
        return this.special(e, real);
    }
  }

  private async file(e: TarEntry, real: string, reader: TarReader, parent: string): Promise<void> {
    const path = this.root.abs(real);
    // Most files are root's and 0644 or 0755: created so, they need neither fchown nor fchmod,
    // two of the six calls a file could cost. The fd is writable whatever the mode says.
    const fd = this.create(real, () => openSync(path, CREATE_FLAGS, e.mode & 0o777));
    try {
      await reader.readData((chunk, position) => writeAll(fd, chunk, position));
      // Holes at the end of a sparse file are not written: the size says where it ends.
      if (e.sparse) ftruncateSync(fd, e.size);
      this.chown(e, this.createdOwned(e, parent) ? undefined : () => fchownSync(fd, e.uid, e.gid));
      this.setXattrs(e, path); // after the data and chown, which both clear security.capability
      if (!this.createdWithMode(e.mode)) fchmodSync(fd, e.mode); // after chown, which clears setuid and setgid
      setFileTimes(fd, atimeOf(e), e.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private directory(e: TarEntry, real: string, parent: string | undefined): void {
    const path = this.root.abs(real);
    // Made with its mode and owned as the archive says, a new directory needs no lchown or chmod.
    let fresh = false;
    if (parent !== undefined) {
      try {
        mkdirSync(path, e.mode & 0o777);
        fresh = true;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
        const st = lstat(path);
        if (st !== undefined && !st.isDirectory()) {
          if (this.copy) throw overwriteNonDirectory(e.name);
          // A directory where this layer put a whiteout: the lower one is gone, so this one is opaque.
          const replacesWhiteout = isWhiteout(st);
          this.remove(real, st);
          mkdirSync(path, e.mode & 0o777);
          fresh = true;
          if (replacesWhiteout) this.setOpaque(e, real);
        }
      }
      this.root.learnDirectory(real);
    }
    const owned = fresh && this.createdOwned(e, parent as string);
    this.chown(e, owned ? undefined : () => lchownSync(path, e.uid, e.gid));
    this.setXattrs(e, path);
    // A directory: chmod cannot be led through a symlink here. A setgid parent passes its bit on.
    if (!owned || !this.createdWithMode(e.mode)) chmodSync(path, e.mode);
    this.dirTimes.set(real, [atimeOf(e), e.mtime]);
    if (e.mode & 0o2000) this.setgidDirs.add(real);
    else this.setgidDirs.delete(real);
  }

  private symlink(e: TarEntry, real: string, parent: string): void {
    if (e.linkname === '') throw invalidName(e.name, 'symlink with an empty target');
    if (e.linkname.includes('\0')) throw invalidName(e.name, 'symlink target contains a NUL byte');
    const path = this.root.abs(real);
    // The target is stored, never followed by us: it may point anywhere, as in any root file system.
    this.create(real, () => symlinkSync(Buffer.from(e.linkname, 'latin1'), path));
    this.chown(e, this.createdOwned(e, parent) ? undefined : () => lchownSync(path, e.uid, e.gid));
    this.setXattrs(e, path);
    setPathTimes(this.root.absZ(real), atimeOf(e), e.mtime);
  }

  private hardlink(e: TarEntry, real: string): void {
    const escape = (): DenError => hardlinkEscape(e.name, e.linkname);
    const missing = (): DenError => hardlinkTargetMissing(e.name, e.linkname, 'does not exist');
    const parts = nameComponents(e.linkname, escape, escape);
    const base = parts[parts.length - 1];
    if (base === undefined) throw hardlinkTargetMissing(e.name, e.linkname, 'is the layer root');
    const target = joinReal(this.root.resolveDir(e.name, parts.slice(0, -1), { escape, missing }), base);
    const st = lstat(this.root.abs(target));
    if (st === undefined) throw missing();
    if (st.isDirectory()) throw hardlinkTargetMissing(e.name, e.linkname, 'is a directory');
    if (target === real) return;
    const path = this.root.abs(real);
    try {
      linkSync(this.root.abs(target), path);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const existing = lstat(path);
      if (existing !== undefined && existing.ino === st.ino && existing.dev === st.dev) return;
      if (existing?.isDirectory() && this.copy) throw overwriteDirectory(e.name);
      if (existing !== undefined) this.remove(real, existing);
      linkSync(this.root.abs(target), path);
    }
  }

  /** Fifos, device nodes, and whiteouts that arrive already in overlay form (a 0/0 char device). */
  private special(e: TarEntry, real: string): void {
    const whiteoutForm = e.type === 'char' && e.devmajor === 0 && e.devminor === 0;
    if (e.type !== 'fifo' && !whiteoutForm && !this.options.canMknod) {
      this.warn(`layer entry ${display(e.name)}: ${e.type} device skipped: device nodes cannot be created here`);
      return;
    }
    const format = e.type === 'fifo' ? S_IFIFO : e.type === 'char' ? S_IFCHR : S_IFBLK;
    const path = this.root.abs(real);
    this.create(real, () => mknod(path, format | 0o600, makedev(e.devmajor, e.devminor)));
    this.chown(e, () => lchownSync(path, e.uid, e.gid));
    this.setXattrs(e, path);
    chmodSync(path, e.mode); // just made by mknod, so not a symlink; chmod(2) does not open it
    setPathTimes(this.root.absZ(real), atimeOf(e), e.mtime);
  }

  private whiteout(e: TarEntry, parts: string[], base: string): void {
    // The directory may exist only in a lower layer; overlay needs it here to hold the whiteout.
    const dir = this.root.resolveDir(e.name, parts.slice(0, -1), { escape: () => whiteoutEscape(e.name) });
    if (base === '.wh..wh..opq') return this.setOpaque(e, dir);
    if (base.startsWith('.wh..wh.')) {
      this.warn(`layer entry ${display(e.name)}: aufs metadata skipped`);
      return;
    }
    const name = base.slice(4);
    if (name === '' || name === '.' || name === '..') throw whiteoutEscape(e.name);
    const real = joinReal(dir, name);
    const st = lstat(this.root.abs(real));
    if (st === undefined) {
      mknod(this.root.abs(real), S_IFCHR, makedev(0, 0));
    } else if (st.isDirectory()) {
      // This layer made the directory too; whiteouts apply only to lower layers, so the lower one
      // disappears and this one stays: exactly an opaque directory.
      this.setOpaque(e, real);
    }
    // Otherwise this layer's own file already hides the lower one; it must stay visible.
  }

  /** Runs a create; if the name is taken, removes what is there (later entries win) and runs it again. */
  private create<T>(real: string, op: () => T): T {
    try {
      return op();
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const st = lstat(this.root.abs(real));
      if (st?.isDirectory() && this.copy) throw overwriteDirectory(real);
      if (st !== undefined) this.remove(real, st);
      return op();
    }
  }

  private remove(real: string, st: Stats): void {
    const path = this.root.abs(real);
    if (st.isDirectory()) {
      rmSync(path, { recursive: true }); // does not follow symlinks inside
      for (const dir of this.dirTimes.keys()) {
        if (dir === real || dir.startsWith(`${real}/`)) this.dirTimes.delete(dir);
      }
      for (const dir of this.setgidDirs) {
        if (dir === real || dir.startsWith(`${real}/`)) this.setgidDirs.delete(dir);
      }
    } else {
      unlinkSync(path);
    }
    if (st.isDirectory() || st.isSymbolicLink()) this.root.forget();
  }

  /** Sets the owner with `op`, or records it as already right when `op` is undefined. */
  private chown(e: TarEntry, op: (() => void) | undefined): void {
    if (this.copy && !this.copy.owner) return; // files stay the unpacker's, as docker's client leaves them
    try {
      op?.();
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL') throw err;
      throw idMapped('uid', e.uid)
        ? unmappedOwner(e.name, 'gid', e.gid, err)
        : unmappedOwner(e.name, 'uid', e.uid, err);
    }
    if (e.uid > this.stats.maxUid) this.stats.maxUid = e.uid;
    if (e.gid > this.stats.maxGid) this.stats.maxGid = e.gid;
  }

  private setXattrs(e: TarEntry, path: Buffer): void {
    for (const [name, value] of e.xattrs) {
      const stored =
        name.startsWith(OVERLAY_XATTR_PREFIX) && !this.copy
          ? ESCAPED_OVERLAY_XATTR_PREFIX + name.slice(OVERLAY_XATTR_PREFIX.length)
          : name;
      try {
        if (name === DEFAULT_ACL_XATTR) this.defaultAcl = true;
        lsetxattr(path, stored, value);
      } catch (err) {
        const code = errnoCode(err);
        // Namespaces the kernel keeps from us (trusted.* in a user namespace, user.* on a symlink)
        // cost the image an attribute, not its files; anything else is a real failure.
        if (!XATTR_REFUSALS.has(code ?? '')) throw xattrFailed(e.name, name, err);
        this.warn(`layer entry ${display(e.name)}: extended attribute ${display(name)} not kept: ${code}`);
      }
    }
  }

  private setOpaque(e: TarEntry, real: string): void {
    try {
      lsetxattr(this.root.abs(real), OPAQUE_XATTR, Buffer.from('y'));
    } catch (err) {
      throw xattrFailed(e.name, OPAQUE_XATTR, err);
    }
  }

  /** Whether what was just made in `parent` already has the owner the archive gives it. */
  private createdOwned(e: TarEntry, parent: string): boolean {
    return e.uid === this.creator.uid && e.gid === this.creator.gid && !this.setgidDirs.has(parent);
  }

  /** Whether open(2) with `mode & 0o777` already gave a file exactly `mode`. */
  private createdWithMode(mode: number): boolean {
    const { umask } = this.creator;
    return (mode & 0o7000) === 0 && umask >= 0 && (mode & umask) === 0 && !this.defaultAcl;
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }
}

function writeAll(fd: number, chunk: Buffer, position: number): void {
  for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off, position + off);
}

/** The bytes an entry brings: a sparse file's holes cost nothing. */
function dataBytes(e: TarEntry): number {
  if (!e.sparse) return e.size;
  let n = 0;
  for (const r of e.sparse) n += r.length;
  return n;
}

function lstat(path: Buffer): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

/** Without a PAX atime, the access time is the modification time: the same layer, the same tree. */
const atimeOf = (e: TarEntry): Timespec => e.atime ?? e.mtime;

/** Whether a directory has a default ACL (inherited by dest from the store, say); no ACLs, no default. */
function hasDefaultAcl(dir: Buffer): boolean {
  try {
    return lgetxattr(dir, DEFAULT_ACL_XATTR) !== undefined;
  } catch {
    return false;
  }
}

/** The process umask, read without changing it (process.umask() would, for a moment); -1 if unknown. */
function readUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] === undefined ? -1 : parseInt(m[1], 8);
  } catch {
    return -1;
  }
}

/** Whether this process's user namespace maps a uid (kind 'uid') or gid: to name the unmapped one. */
function idMapped(kind: 'uid' | 'gid', id: number): boolean {
  try {
    return readFileSync(`/proc/self/${kind}_map`, 'utf8')
      .split('\n')
      .some((line) => {
        const [inside, , count] = line.trim().split(/\s+/).map(Number);
        return inside !== undefined && count !== undefined && id >= inside && id < inside + count;
      });
  } catch {
    return true;
  }
}
