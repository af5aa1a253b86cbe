/**
 * A directory tree into a TarWriter, as `den cp` sends it: entries in depth-first order with each
 * directory's names sorted bytewise (as Go's filepath.Walk gives them, so docker's order), the top
 * entry named as the caller says, files that share an inode as one file and hardlinks to it,
 * `security.capability` kept (the one extended attribute docker copies), sockets left out (tar has no
 * type for them). Paths are latin1 strings (one char per byte), so a name that is not UTF-8 is
 * archived as it is.
 *
 * How a path is reached is the caller's choice, and is its security:
 *
 *   confined   the process has entered the tree's root (libc `enterRoot`), so the kernel keeps
 *              every lookup inside it whatever the tree's symlinks say: paths are plain
 *   anchored   each directory is opened (O_NOFOLLOW) and its entries reached through the open
 *              descriptor (/proc/self/fd/N/name, which is openat), so a directory that a running
 *              container swaps for a symlink meanwhile is never followed out of the tree
 *
 * A file that disappears while the tree is read (a running container removed it) is left out.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../common/errors.js';
import { lgetxattr } from '../common/libc.js';
import type { TarEntryType } from './tar-reader.js';
import type { TarHeader, TarWriter } from './tar-writer.js';

export type TreeAccess = 'confined' | 'anchored';

export interface PackOptions {
  access: TreeAccess;
  /** The owner a file is archived with, from its owner on disk; as on disk by default. */
  owner?: (uid: number, gid: number) => { uid: number; gid: number };
}

/** The capability xattr: the one docker keeps in copies and layers. */
const CAPABILITY_XATTR = 'security.capability';
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const OPEN_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** An open directory: `path` names it for listing and for reaching its entries. */
export interface DirHandle {
  path: string;
  close(): void;
}

export class TreePacker {
  /** "dev:ino" of files with several links, to the name they were first archived under. */
  private readonly linked = new Map<string, string>();

  constructor(
    readonly writer: TarWriter,
    readonly options: PackOptions,
  ) {}

  /**
   * Archives `path` (a latin1 string) as `name`, and everything under it when it is a directory;
   * returns false when `path` does not exist.
   */
  async addTree(path: string, name: string): Promise<boolean> {
    const st = lstatOrUndefined(path);
    if (st === undefined) return false;
    await this.addEntry(path, st, name);
    if (st.isDirectory()) await this.addChildren(path, name === '.' ? '.' : name);
    return true;
  }

  private async addChildren(path: string, name: string): Promise<void> {
    const dir = openDir(path, this.options.access);
    if (!dir) return;
    try {
      for (const child of listDir(dir)) {
        const childPath = `${dir.path}/${child}`;
        const st = lstatOrUndefined(childPath);
        if (st === undefined) continue;
        const childName = name === '.' ? `./${child}` : `${name.replace(/\/+$/, '')}/${child}`;
        await this.addEntry(childPath, st, childName);
        if (st.isDirectory()) await this.addChildren(childPath, childName);
      }
    } finally {
      dir.close();
    }
  }

  /**
   * Archives one file system object (not what is under it) as `name`, with `header` changes
   * (a layer's whiteouts are written as other entries than what is on disk).
   */
  async addEntry(path: string, st: BigIntStats, name: string, changes: Partial<TarHeader> = {}): Promise<void> {
    const type = changes.type ?? typeOf(st);
    if (type === undefined) return; // a socket
    const owner = this.options.owner?.(Number(st.uid), Number(st.gid)) ?? { uid: Number(st.uid), gid: Number(st.gid) };
    const h: TarHeader = {
      name: type === 'dir' && !name.endsWith('/') ? `${name}/` : name,
      type,
      mode: Number(st.mode) & 0o7777,
      uid: owner.uid,
      gid: owner.gid,
      mtime: Number(st.mtimeMs / 1000n),
      ...changes,
    };
    const bytes = Buffer.from(path, 'latin1');
    if (type !== 'dir' && type !== 'symlink' && st.nlink > 1n && changes.type === undefined) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.linked.get(key);
      if (first !== undefined) {
        await this.writer.add({ ...h, type: 'link', linkname: first, size: 0 });
        return;
      }
      this.linked.set(key, h.name);
    }
    if (h.type === 'symlink') h.linkname = readlinkSync(bytes, { encoding: 'buffer' }).toString('latin1');
    if (h.type === 'char' || h.type === 'block') {
      h.devmajor = Number((st.rdev >> 8n) & 0xfffn) | Number((st.rdev >> 32n) & ~0xfffn);
      h.devminor = Number(st.rdev & 0xffn) | Number((st.rdev >> 12n) & ~0xffn);
    }
    if (h.type === 'file' || h.type === 'dir') {
      const cap = capabilityOf(bytes);
      if (cap) h.xattrs = new Map([[CAPABILITY_XATTR, cap]]);
    }
    if (h.type !== 'file' || (h.size ?? Number(st.size)) === 0) {
      await this.writer.add({ ...h, size: 0 });
      return;
    }
    let fd: number;
    try {
      fd = openSync(bytes, OPEN_FILE);
    } catch (e) {
      if (MISSING.has(errnoCode(e) ?? '') || errnoCode(e) === 'ELOOP') return; // gone, or swapped for a symlink
      throw e;
    }
    try {
      await this.writer.add({ ...h, size: Number(st.size) }, { fd });
    } finally {
      closeSync(fd);
    }
  }
}

/** Opens a directory for reaching its entries, as `access` says; undefined when it is gone (or no longer a directory). */
export function openDir(path: string, access: TreeAccess): DirHandle | undefined {
  if (access === 'confined') return { path, close: () => {} };
  let fd: number;
  try {
    fd = openSync(Buffer.from(path, 'latin1'), OPEN_DIR);
  } catch (e) {
    // Gone, or no longer a directory (ELOOP: swapped for a symlink, which is not followed).
    if (MISSING.has(errnoCode(e) ?? '') || errnoCode(e) === 'ELOOP') return undefined;
    throw e;
  }
  return { path: `/proc/self/fd/${fd}`, close: () => closeSync(fd) };
}

/** The names in a directory, sorted bytewise (latin1 strings). */
export function listDir(dir: DirHandle): string[] {
  let names: Buffer[];
  try {
    names = readdirSync(Buffer.from(dir.path, 'latin1'), { encoding: 'buffer' });
  } catch (e) {
    if (MISSING.has(errnoCode(e) ?? '')) return [];
    throw e;
  }
  return names.sort(Buffer.compare).map((n) => n.toString('latin1'));
}

export function lstatOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(Buffer.from(path, 'latin1'), { bigint: true });
  } catch (e) {
    if (MISSING.has(errnoCode(e) ?? '')) return undefined;
    throw e;
  }
}

function typeOf(st: BigIntStats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined;
}

function capabilityOf(path: Buffer): Buffer | undefined {
  try {
    return lgetxattr(path, CAPABILITY_XATTR);
  } catch {
    return undefined; // no xattrs here (ENOTSUP), or not ours to read
  }
}
