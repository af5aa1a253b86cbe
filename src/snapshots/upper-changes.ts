/**
 * What a container changed, read from its overlay's upper directory against the image's layers:
 * the list `den diff` prints, and the OCI layer `den commit` stores.
 *
 * In the upper directory (overlayfs mounted with `userxattr`):
 *   a character device 0/0               a whiteout: the name was deleted        D
 *   a directory with user.overlay.opaque  its lower content was replaced          C (A when new)
 *   anything else                         added (A), or changed (C) when a layer had the name
 * A directory that a layer has too is reported changed only when its mode or owner differ or
 * something under it is reported: overlayfs copies a directory up (with new times) for any change
 * beneath it. Mount points the runtime made for the container (/etc/hostname, /proc where the image
 * has none, a bind mount's target and the directories made for it) are the engine's, not the
 * container's: the mount point itself is never reported, a directory made for one only when
 * something else is under it. docker keeps these out the same way (in its init layer).
 *
 * Order: depth-first, each directory's names sorted bytewise, a directory before what is under it,
 * as docker walks (Go's filepath.Walk).
 *
 * The container may run while this reads its upper directory, and may swap a directory for a
 * symlink to anywhere meanwhile: the walk reaches every entry through its directory's open
 * descriptor (pack-tree's `anchored` access), so no symlink there is ever followed. The layers are
 * den's own, written once and never changed, so they are looked up by path, one real directory at a
 * time.
 *
 *   const changes = upperChanges(req);             // [{ kind: 'C', path: '/etc' }, ...]
 *   await upperLayer(req, writer);                 // the same changes as an OCI layer tar
 */
import type { BigIntStats } from 'node:fs';
import { lgetxattr } from '../common/libc.js';
import { unshiftId } from '../idmap/index.js';
import {
  listDir,
  lstatOrUndefined,
  OPAQUE_XATTR,
  openDir,
  TreePacker,
  type DirHandle,
  type TarWriter,
} from '../unpack/index.js';
import type { IdShift } from './overlay.js';

export type ChangeKind = 'A' | 'C' | 'D';

export interface Change {
  kind: ChangeKind;
  /** Absolute, as the container sees it (text). */
  path: string;
}

export interface UpperRequest {
  /** The container's upper directory. */
  upper: string;
  /** The image's layer directories as unpacked (the image's own ids), topmost first. */
  layers: readonly string[];
  /** The container's maps, which the upper directory's owners went through; none when ids are as on disk. */
  idMap?: IdShift;
  /** Where the runtime mounts things into the container (absolute container paths). */
  mountPoints: readonly string[];
}

/** One entry of the upper directory that is reported, or has something reported under it. */
interface Node {
  /** latin1 string of the name's bytes. */
  name: string;
  kind: ChangeKind | undefined;
  whiteout: boolean;
  opaque: boolean;
  children: Node[];
}

/** The changes as `den diff` lists them. */
export function upperChanges(req: UpperRequest): Change[] {
  const out: Change[] = [];
  const emit = (nodes: Node[], dir: string) => {
    for (const n of nodes) {
      const path = `${dir}/${n.name}`;
      if (n.kind) out.push({ kind: n.kind, path: Buffer.from(path, 'latin1').toString('utf8') });
      emit(n.children, path);
    }
  };
  emit(changedTree(req), '');
  return out;
}

/**
 * The changes as an OCI layer, into `writer` (not finished): whiteouts as `.wh.NAME` files, an
 * opaque directory followed by its `.wh..wh..opq`, owners as the container sees them (the upper
 * directory holds them shifted by the container's maps). The tree of changes is found first, then
 * read again to be written, each entry as it is then (a running container may have moved on).
 */
export async function upperLayer(req: UpperRequest, writer: TarWriter): Promise<void> {
  const map = req.idMap;
  const packer = new TreePacker(writer, {
    access: 'anchored',
    ...(map ? { owner: (uid, gid) => ({ uid: unshiftId(map.uid, uid), gid: unshiftId(map.gid, gid) }) } : {}),
  });
  const add = async (dir: DirHandle, nodes: Node[], prefix: string): Promise<void> => {
    for (const n of nodes) {
      const path = `${dir.path}/${n.name}`;
      const st = lstatOrUndefined(path);
      if (st === undefined) continue;
      const name = `${prefix}${n.name}`;
      if (n.whiteout) {
        await packer.addEntry(path, st, `${prefix}.wh.${n.name}`, WHITEOUT_FILE);
        continue;
      }
      await packer.addEntry(path, st, name);
      if (!st.isDirectory()) continue;
      if (n.opaque) await packer.addEntry(path, st, `${name}/.wh..wh..opq`, WHITEOUT_FILE);
      if (n.children.length === 0) continue;
      const child = openDir(path, 'anchored');
      if (!child) continue;
      try {
        await add(child, n.children, `${name}/`);
      } finally {
        child.close();
      }
    }
  };
  const nodes = changedTree(req);
  const top = openDir(latin1(req.upper), 'anchored');
  if (!top) return;
  try {
    await add(top, nodes, '');
  } finally {
    top.close();
  }
}

/** How a whiteout or an opaque marker is written: an empty file (OCI image spec, layer changesets). */
const WHITEOUT_FILE = { type: 'file', mode: 0o600, size: 0 } as const;

/** The layer directories in which a directory of the upper directory is looked up, topmost first. */
type LowerDirs = (string | undefined)[];

interface WalkState {
  req: UpperRequest;
  mountPoints: ReadonlySet<string>;
  /** The mount points and every directory above one. */
  mountPaths: ReadonlySet<string>;
}

/** The upper directory's changes as a tree: what is reported, and the directories on the way to it. */
function changedTree(req: UpperRequest): Node[] {
  const mountPoints = new Set(req.mountPoints.map((p) => latin1(p.replace(/\/+$/, ''))));
  const mountPaths = new Set<string>();
  for (const p of mountPoints) {
    for (let d = p; d !== '' && d !== '/'; d = d.slice(0, d.lastIndexOf('/'))) mountPaths.add(d);
  }
  const top = openDir(latin1(req.upper), 'anchored');
  if (!top) return [];
  try {
    return readDir({ req, mountPoints, mountPaths }, top, '', req.layers.map(latin1));
  } finally {
    top.close();
  }
}

/**
 * The entries of one directory of the upper directory (`dir`, its container path with a leading
 * `/`, '' for the root) that are reported or lead to something reported, with their kinds.
 */
function readDir(state: WalkState, handle: DirHandle, dir: string, lowers: LowerDirs): Node[] {
  const nodes: Node[] = [];
  for (const name of listDir(handle)) {
    const path = `${handle.path}/${name}`;
    const st = lstatOrUndefined(path);
    if (st === undefined) continue; // removed while we looked
    const containerPath = `${dir}/${name}`;
    const node: Node = { name, kind: undefined, whiteout: false, opaque: false, children: [] };
    const below = findBelow(lowers, name);
    if (st.isCharacterDevice() && st.rdev === 0n) {
      node.whiteout = true;
      node.kind = 'D';
    } else if (st.isDirectory()) {
      node.opaque = isOpaque(path);
      const child = openDir(path, 'anchored');
      if (child) {
        try {
          node.children = readDir(state, child, containerPath, node.opaque ? [] : lowersOf(lowers, name));
        } finally {
          child.close();
        }
      }
      const under = node.children.length > 0;
      if (below === undefined) {
        // New, unless the runtime made it for a mount point and nothing else is under it.
        node.kind = state.mountPaths.has(containerPath) && !under ? undefined : 'A';
      } else {
        node.kind = node.opaque || under || !sameDirectory(state.req, st, below) ? 'C' : undefined;
      }
    } else if (below === undefined) {
      // A mount point for a file is made empty; the container cannot write to it past the mount.
      node.kind = state.mountPoints.has(containerPath) && st.size === 0n ? undefined : 'A';
    } else {
      node.kind = 'C';
    }
    if (node.kind !== undefined || node.children.length > 0) nodes.push(node);
  }
  return nodes;
}

/** The topmost layer entry a name has in this directory (a whiteout there means none). */
function findBelow(lowers: LowerDirs, name: string): BigIntStats | undefined {
  for (const dir of lowers) {
    if (dir === undefined) continue;
    const st = lstatOrUndefined(`${dir}/${name}`);
    if (st === undefined) continue;
    if (st.isCharacterDevice() && st.rdev === 0n) return undefined; // deleted by a layer
    return st;
  }
  return undefined;
}

/**
 * Where the layers have directory `name` of this directory: a layer whose entry is not a directory,
 * or is an opaque one, hides those below it.
 */
function lowersOf(lowers: LowerDirs, name: string): LowerDirs {
  const out: LowerDirs = lowers.map(() => undefined);
  for (let i = 0; i < lowers.length; i++) {
    const dir = lowers[i];
    if (dir === undefined) continue;
    const path = `${dir}/${name}`;
    const st = lstatOrUndefined(path);
    if (st === undefined) continue;
    if (!st.isDirectory()) break;
    out[i] = path;
    if (isOpaque(path)) break;
  }
  return out;
}

/** Whether a directory's mode and owner (as the container sees them) are the layer's. */
function sameDirectory(req: UpperRequest, upper: BigIntStats, layer: BigIntStats): boolean {
  const uid = req.idMap ? unshiftId(req.idMap.uid, Number(upper.uid)) : Number(upper.uid);
  const gid = req.idMap ? unshiftId(req.idMap.gid, Number(upper.gid)) : Number(upper.gid);
  return upper.mode === layer.mode && uid === Number(layer.uid) && gid === Number(layer.gid);
}

function isOpaque(path: string): boolean {
  try {
    return lgetxattr(Buffer.from(path, 'latin1'), OPAQUE_XATTR)?.toString() === 'y';
  } catch {
    return false;
  }
}

const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
