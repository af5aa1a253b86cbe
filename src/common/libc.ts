/**
 * The few libc calls Node.js lacks: mknod (fifos, device nodes, overlay whiteouts), the
 * non-following xattr calls (get, set, list), chroot (den's copier confined to a container's root), and the mount API that makes idmapped mounts (open_tree,
 * mount_setattr, move_mount; glibc 2.36+). None of them needs a single-threaded process. Paths and names are byte buffers, so a name that is not UTF-8 reaches
 * the kernel unchanged. Failures throw errors shaped like Node's own (`code`, `errno`, `syscall`).
 */
import type KoffiModule from 'koffi';
import { createRequire } from 'node:module';
import { constants } from 'node:os';

// Loaded on first use: a native module costs milliseconds to load, and most den commands
// (run, ps, rm) never unpack anything.
let koffiModule: typeof KoffiModule | undefined;
function koffi(): typeof KoffiModule {
  koffiModule ??= createRequire(import.meta.url)('koffi') as typeof KoffiModule;
  return koffiModule;
}

/**
 * libc through koffi, for the modules that declare calls of their own (unpack's pipes and
 * nanosecond times): one loader, loaded on first use. Throws when koffi cannot be loaded; callers
 * that have a fallback catch it.
 */
export function libcFunctions(): {
  func: (signature: string) => unknown;
  errno: () => number;
  /** Where a buffer's bytes are, for structures that point at other buffers (they must stay referenced). */
  address: (buffer: Buffer) => bigint;
} {
  const lib = koffi().load('libc.so.6');
  return {
    func: (signature) => lib.func(signature),
    errno: () => koffi().errno(),
    address: (buffer) => koffi().address(buffer),
  };
}

interface Libc {
  mknod(path: Buffer, mode: number, dev: bigint): number;
  openTree(dfd: number, path: Buffer, flags: number): number;
  mountSetattr(dfd: number, path: Buffer, flags: number, attr: Buffer, size: number): number;
  moveMount(fromDfd: number, fromPath: Buffer, toDfd: number, toPath: Buffer, flags: number): number;
  lsetxattr(path: Buffer, name: Buffer, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: Buffer, name: Buffer, value: Buffer, size: number): number | bigint;
  llistxattr(path: Buffer, list: Buffer, size: number): number | bigint;
  chroot(path: Buffer): number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const lib = koffi().load('libc.so.6');
  libc = {
    mknod: lib.func('int mknod(const uint8_t *path, uint32_t mode, uint64_t dev)'),
    openTree: lib.func('int open_tree(int dfd, const uint8_t *path, unsigned int flags)'),
    mountSetattr: lib.func(
      'int mount_setattr(int dfd, const uint8_t *path, unsigned int flags, void *attr, size_t size)',
    ),
    moveMount: lib.func(
      'int move_mount(int from_dfd, const uint8_t *from_path, int to_dfd, const uint8_t *to_path, unsigned int flags)',
    ),
    lsetxattr: lib.func(
      'int lsetxattr(const uint8_t *path, const uint8_t *name, const uint8_t *value, size_t size, int flags)',
    ),
    lgetxattr: lib.func(
      'intptr_t lgetxattr(const uint8_t *path, const uint8_t *name, _Out_ uint8_t *value, size_t size)',
    ),
    llistxattr: lib.func('intptr_t llistxattr(const uint8_t *path, _Out_ uint8_t *list, size_t size)'),
    chroot: lib.func('int chroot(const uint8_t *path)'),
  };
  return libc;
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

function failure(syscall: string, path: Buffer): NodeJS.ErrnoException {
  const errno = koffi().errno();
  const code = errnoNames.get(errno) ?? `E${errno}`;
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${path.toString('utf8')}'`);
  return Object.assign(e, { code, errno: -errno, syscall });
}

const cstr = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc(1)]);

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** glibc's makedev: the 64-bit dev_t layout of major and minor numbers. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function mknod(path: Buffer, mode: number, dev: bigint): void {
  if (load().mknod(cstr(path), mode, dev) !== 0) throw failure('mknod', path);
}

/** Sets an extended attribute on the path itself, never on what a symlink points to. */
export function lsetxattr(path: Buffer, name: string, value: Buffer): void {
  if (load().lsetxattr(cstr(path), cstr(Buffer.from(name, 'latin1')), value, value.length, 0) !== 0) {
    throw failure('lsetxattr', path);
  }
}

/** An extended attribute's value, or undefined when the path has no such attribute. */
export function lgetxattr(path: Buffer, name: string): Buffer | undefined {
  const value = Buffer.alloc(65536);
  const n = Number(load().lgetxattr(cstr(path), cstr(Buffer.from(name, 'latin1')), value, value.length));
  if (n >= 0) return value.subarray(0, n);
  const e = failure('lgetxattr', path);
  if (e.code === 'ENODATA') return undefined;
  throw e;
}

/**
 * The names of the path's own extended attributes (never a symlink target's), those this process
 * may see: a user namespace's root sees user.*, security.* and its own trusted.* ones.
 */
export function llistxattr(path: Buffer): string[] {
  const list = Buffer.alloc(65536);
  const n = Number(load().llistxattr(cstr(path), list, list.length));
  if (n < 0) {
    const e = failure('llistxattr', path);
    if (e.code === 'ENOTSUP') return [];
    throw e;
  }
  return list
    .subarray(0, n)
    .toString('latin1')
    .split('\0')
    .filter((name) => name !== '');
}

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOUNT_ATTR_IDMAP = 0x100000;

/**
 * A detached copy of the mount at `path` (open_tree with OPEN_TREE_CLONE): a file descriptor that
 * `idmapMount` can change and `attachMount` can put somewhere. Closing it unmounts it unless it
 * was attached.
 */
export function cloneMount(path: string): number {
  const p = Buffer.from(path);
  const fd = load().openTree(AT_FDCWD, cstr(p), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) throw failure('open_tree', p);
  return fd;
}

/** Makes a detached mount show file owners through the maps of the user namespace `usernsFd`. */
export function idmapMount(mountFd: number, usernsFd: number): void {
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
  attr.writeBigUInt64LE(BigInt(usernsFd), 24);
  if (load().mountSetattr(mountFd, cstr(Buffer.alloc(0)), AT_EMPTY_PATH | AT_RECURSIVE, attr, attr.length) !== 0) {
    throw failure('mount_setattr', Buffer.from(`fd ${mountFd}`));
  }
}

/** Attaches a detached mount at `target` (move_mount). */
export function attachMount(mountFd: number, target: string): void {
  const t = Buffer.from(target);
  if (load().moveMount(mountFd, cstr(Buffer.alloc(0)), AT_FDCWD, cstr(t), MOVE_MOUNT_F_EMPTY_PATH) !== 0) {
    throw failure('move_mount', t);
  }
}

/**
 * Makes `dir` this process's root and working directory, for every thread: from here on the kernel
 * resolves every path inside `dir` (an absolute symlink starts again at `dir`, `..` stops there),
 * whatever the tree holds. Nothing outside can be opened by name afterwards, so whatever the process
 * still needs from outside (koffi, which this call loads) must be loaded before.
 */
export function enterRoot(dir: string): void {
  const p = Buffer.from(dir);
  if (load().chroot(cstr(p)) !== 0) throw failure('chroot', p);
  process.chdir('/');
}
