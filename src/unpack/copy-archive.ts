/**
 * The container's half of `den cp`, as docker's daemon does it: archive a path of the container's
 * root file system, or unpack an archive into one. It runs in den's copier (`den __files`), which
 * has entered the container's root first (libc `enterRoot`): every path here, and every symlink in
 * the container however hostile (`/etc/x -> ../../../../host/path`, a directory swapped for a
 * symlink while the copy runs), resolves inside that root, because the kernel resolves it there.
 * That is why the copier confines itself rather than resolving paths itself: a resolver in user
 * space has to be right about every symlink, `..` and race; the kernel's root is right by
 * construction, for the tree walk, the file reads and the unpacker's writes alike.
 */
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { errnoCode, failedPrecondition, invalidArgument, notFound, type DenError } from '../common/errors.js';
import {
  containerPath,
  prepareArchiveCopy,
  rebaseName,
  renameTop,
  splitPathDirEntry,
  type CopyPlan,
  type CopySource,
  type DescribePath,
} from './copy-rules.js';
import { TreePacker } from './pack-tree.js';
import { unpackCopy, type CopyOptions, type UnpackStats } from './tar-unpacker.js';
import { TarWriter } from './tar-writer.js';

export interface ArchiveRequest {
  /** The path as given (`/etc/`, `etc/x`, `/var/log/.`). */
  path: string;
  /** -L: a symlink at the end of `path` is followed, and its entries keep the name asked for. */
  follow: boolean;
  /** The container's name, for messages. */
  container: string;
  /** The owner an entry is archived with, from its owner on disk (the container's ids). */
  owner?: (uid: number, gid: number) => { uid: number; gid: number };
}

/**
 * Archives a path of the container as docker's `GET /containers/ID/archive` does: a directory with
 * everything under it, named after the base of the path asked for (`.` for `dir/.`). `onSource`
 * hears what the source is before its first byte is written, which the local side needs to know
 * where the entries go.
 */
export async function archiveFromRoot(
  req: ArchiveRequest,
  out: Writable,
  onSource: (source: CopySource) => void,
): Promise<number> {
  let path = containerPath(req.path);
  let rebase: string | undefined;
  const asked = lookUp(path);
  if (req.follow && asked !== 'not-a-directory' && asked?.isSymbolicLink()) {
    // docker's client asks for the link's target instead, and names the entries after the link.
    const r = rebaseName(path, realpathIn(path, req));
    path = r.path;
    rebase = r.rebaseName;
  }
  const st = lookUp(path);
  if (st === undefined) throw notInContainer(req.path, req.container);
  if (st === 'not-a-directory') throw invalidArgument('DEN0666', `not a directory: ${req.container}:${req.path}`);
  const [, base] = splitPathDirEntry(path);
  const name = st.isDirectory() && (base === '/' || base === '.') ? '.' : base;
  onSource({ path, isDir: st.isDirectory(), ...(rebase !== undefined ? { rebaseName: rebase } : {}) });
  const writer = new TarWriter(out);
  const packer = new TreePacker(writer, { access: 'confined', ...(req.owner ? { owner: req.owner } : {}) });
  await packer.addTree(latin1(stripSlash(resolveParent(path))), latin1(name));
  await writer.finish();
  return writer.written;
}

export interface ExtractRequest {
  /** The destination as given. */
  path: string;
  container: string;
  /** What the local side archived; undefined for an archive from standard input (`den cp - c:/dir`). */
  source?: CopySource;
  /** The container's root file system is read-only (--read-only). */
  readOnly: boolean;
  unpack: Omit<CopyOptions, 'rename'>;
}

/** Symlinks followed at the end of a destination, at most (docker's limit). */
const MAX_DESTINATION_LINKS = 10;

/**
 * Unpacks an archive into the container as docker's `PUT /containers/ID/archive` does, after its
 * client decided where: the destination is looked at (symlinks at its end followed, inside the
 * container), docker's rules give the directory to unpack into and the name the top entry takes,
 * and that directory (symlinks followed) must exist. Nothing is read from `input` before all that
 * is settled.
 */
export async function extractIntoRoot(req: ExtractRequest, input: NodeJS.ReadableStream): Promise<UnpackStats> {
  const describe: DescribePath = (p) => `${req.container}:${p}`;
  let dstPath = containerPath(req.path);
  let st = lookUp(dstPath);
  for (let n = 0; st !== undefined && st !== 'not-a-directory' && st.isSymbolicLink(); n++) {
    if (n >= MAX_DESTINATION_LINKS) throw invalidArgument('DEN0666', `too many symlinks in ${describe(req.path)}`);
    const target = readlinkSync(stripSlash(resolveParent(dstPath)), 'utf8');
    dstPath = target.startsWith('/') ? posix.normalize(target) : posix.join(splitPathDirEntry(dstPath)[0], target);
    st = lookUp(dstPath);
  }
  const found = st === 'not-a-directory' ? undefined : st;
  if (found !== undefined && !found.isDirectory() && !found.isFile()) {
    throw invalidArgument('DEN0666', `destination "${describe(req.path)}" must be a directory or a regular file`);
  }
  let plan: CopyPlan;
  if (req.source === undefined) {
    if (!found?.isDirectory())
      throw invalidArgument('DEN0666', `destination "${describe(req.path)}" must be a directory`);
    plan = { dir: dstPath };
  } else {
    plan = prepareArchiveCopy(
      req.source,
      { path: dstPath, exists: found !== undefined, isDir: found?.isDirectory() ?? false },
      describe,
    );
  }
  if (req.readOnly) {
    throw failedPrecondition('DEN0667', `container ${req.container}: its root file system is read-only (--read-only)`);
  }
  const dir = realpathIn(plan.dir, { path: plan.dir, container: req.container });
  if (!lstatSync(dir).isDirectory()) {
    throw invalidArgument('DEN0666', `extraction point is not a directory: ${describe(plan.dir)}`);
  }
  const rename = plan.rename ? renameTop(plan.rename.from, plan.rename.to) : undefined;
  return unpackCopy(input, dir, { ...req.unpack, ...(rename ? { rename } : {}) });
}

/**
 * docker's ResolvePath: an absolute container path with its directory's symlinks followed and its
 * last component not (a symlink there is the thing itself), a trailing `/` kept. Throws as
 * realpath does when the directory is missing.
 */
function resolveParent(abs: string): string {
  const [dir, base] = splitPathDirEntry(abs);
  if (base === '/') return '/';
  if (base === '.') return realpathSync.native(dir);
  const realDir = realpathSync.native(dir);
  return `${realDir === '/' ? '' : realDir}/${base}${abs.endsWith('/') ? '/' : ''}`;
}

/** What is at a container path as docker looks it up; undefined when nothing is. */
function lookUp(abs: string): Stats | 'not-a-directory' | undefined {
  try {
    // A trailing `/` asks for a directory, and follows a symlink to one, as the kernel does.
    return lstatSync(resolveParent(abs));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (errnoCode(e) === 'ENOTDIR') return abs.endsWith('/') ? 'not-a-directory' : undefined;
    throw e;
  }
}

function realpathIn(path: string, req: { path: string; container: string }): string {
  try {
    return realpathSync.native(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') throw notInContainer(req.path, req.container);
    throw e;
  }
}

/** Text as the latin1 string of its UTF-8 bytes: how archive names and the packer's paths are kept. */
const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

const stripSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** docker's words for a path the container does not have. */
export function notInContainer(path: string, container: string): DenError {
  return notFound('DEN0664', `Could not find the file ${path} in container ${container}`);
}
