/**
 * docker's rules for `cp`: what a source and destination path mean, with their trailing `/` and
 * `/.`, and so which directory an archive of the source is unpacked into and how its top entry is
 * renamed on the way. Both sides of a copy use them: den on the local paths, den's copier inside
 * the container's root (where it has entered that root, so paths resolve there).
 *
 * Vocabulary, docker's:
 *   source       what is archived: its path, whether it is a directory, and the name its entries
 *                must carry when a symlink was followed to it (`rebaseName`)
 *   destination  what the copy lands on: its path, whether something is there, and whether that
 *                is a directory
 *
 * The rules (docker's documentation of `docker cp`):
 *   source a file:       destination missing -> the file is made there (its parent must exist);
 *                        missing and ending in `/` -> error; an existing file -> overwritten;
 *                        an existing directory -> the file goes into it under its own name
 *   source a directory:  destination missing -> made as a directory holding the source's content;
 *                        an existing file -> error; an existing directory -> the source goes into
 *                        it, or only its content when the source ends in `/.`
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { invalidArgument, type DenError } from '../common/errors.js';

export interface CopySource {
  path: string;
  isDir: boolean;
  /** The name the source's entries take instead of the base of `path` (a followed symlink's own name). */
  rebaseName?: string;
}

export interface CopyDestination {
  path: string;
  exists: boolean;
  isDir: boolean;
}

/** How a copy unpacks: into `dir`, with the archive's top name `from` renamed `to` when set. */
export interface CopyPlan {
  dir: string;
  rename?: { from: string; to: string };
}

/** How errors name a path of this side (`c1:/etc` inside a container, the path itself locally). */
export type DescribePath = (path: string) => string;

/** The path names the directory itself: `.` or ending in `/.`. */
export const specifiesCurrentDir = (p: string): boolean => p === '.' || p.endsWith('/.');
export const hasTrailingSeparator = (p: string): boolean => p.length > 1 && p.endsWith('/');
/** The path can only be a directory: it ends in `/` or `/.`. */
export const assertsDirectory = (p: string): boolean => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** `cleaned` with the trailing `/.` or `/` that `original` had and cleaning dropped. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (specifiesCurrentDir(original) && !specifiesCurrentDir(out)) out = out === '/' ? '/.' : `${out}/.`;
  if (hasTrailingSeparator(original) && !out.endsWith('/')) out += '/';
  return out;
}

/** The path cleaned and split into its directory and its base; a path naming `.` keeps it as base. */
export function splitPathDirEntry(path: string): [dir: string, base: string] {
  let cleaned = posix.normalize(path);
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '');
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(cleaned)) cleaned = cleaned === '/' ? '/.' : `${cleaned}/.`;
  return [posix.dirname(cleaned), posix.basename(cleaned) || '/'];
}

/**
 * A path inside a container as an absolute path, its trailing `/` or `/.` kept: docker takes
 * `c:etc/x` as `/etc/x`.
 */
export function containerPath(path: string): string {
  return preserveTrailingDotOrSeparator(posix.join('/', path), path);
}

/**
 * After a symlink at `path` was followed to `resolved`: `resolved` with the trailing `/.` or `/`
 * that `path` had, and the name the entries must take when the last component changed.
 */
export function rebaseName(path: string, resolved: string): { path: string; rebaseName?: string } {
  let out = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(out)) out += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(out)) out += '/';
  const base = (p: string) => posix.basename(p.replace(/\/+$/, '')) || '/';
  return base(path) !== base(out) ? { path: out, rebaseName: base(path) } : { path: out };
}

/**
 * Where the archive of `src` is unpacked so that it lands on `dst` as the rules say, and how its
 * top entry is renamed (docker's PrepareArchiveCopy).
 */
export function prepareArchiveCopy(src: CopySource, dst: CopyDestination, describe: DescribePath): CopyPlan {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  // The root directory is archived as `.`, as its content.
  const srcBase = src.rebaseName ?? splitPathDirEntry(src.path)[1].replace(/^\/$/, '.');
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists && src.isDir) {
    throw ruleError(`cannot copy directory: ${describe(dst.path)} exists and is not a directory`);
  }
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) {
    throw ruleError(
      `no such directory: ${describe(dst.path)}`,
      'a destination ending in / must be a directory that exists',
    );
  }
  return { dir: dstDir, rename: { from: srcBase, to: dstBase } };
}

/**
 * Renames an archive's top name: `from` (and what is under it) becomes `to`; `.` as `from` stands
 * for the archive's root entry (`./` and `./x`). Other names are left as they are. `from` and `to`
 * are text; the names, as the tar reader gives them, latin1 strings of their bytes.
 */
export function renameTop(fromText: string, toText: string): (name: string) => string {
  const from = Buffer.from(fromText, 'utf8').toString('latin1');
  const to = Buffer.from(toText, 'utf8').toString('latin1');
  return (name) => {
    if (from === '.') {
      if (name === '.' || name === './') return to;
      return `${to}/${name.startsWith('./') ? name.slice(2) : name}`;
    }
    const n = name.startsWith('./') ? name.slice(2) : name;
    if (n === from || n === `${from}/`) return to;
    if (n.startsWith(`${from}/`)) return `${to}/${n.slice(from.length + 1)}`;
    return name;
  };
}

/**
 * docker's CopyInfoSourcePath: a source as this process sees it. Without `follow` a symlink at the
 * end is the source itself, and only its directory's symlinks are followed; with `follow` the
 * whole path is followed and the entries keep the name asked for. Throws ENOENT as Node does.
 */
export function sourceInfo(path: string, follow: boolean): CopySource {
  let resolved: string;
  let rebase: string | undefined;
  if (follow) {
    const r = rebaseName(path, realpathSync.native(path));
    resolved = r.path;
    rebase = r.rebaseName;
  } else {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '.' : path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    const realDir = realpathSync.native(dir);
    resolved = `${realDir === '/' ? '' : realDir}/${base}`;
    if (hasTrailingSeparator(path) && posix.basename(path) !== posix.basename(resolved)) rebase = posix.basename(path);
  }
  const st = lstatSync(resolved);
  return { path: resolved, isDir: st.isDirectory(), ...(rebase !== undefined ? { rebaseName: rebase } : {}) };
}

/** Symlinks followed at the end of a destination path, at most (docker's limit). */
const MAX_DESTINATION_LINKS = 10;

/**
 * docker's CopyInfoDestinationPath: a destination as this process sees it, symlinks at its end
 * followed (a copy onto a symlink lands on its target). A destination that does not exist is fine
 * when its parent is a directory.
 */
export function destinationInfo(path: string, describe: DescribePath): CopyDestination {
  let p = path;
  for (let n = 0; ; n++) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) break;
    if (!st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory() };
    if (n >= MAX_DESTINATION_LINKS) throw ruleError(`too many symlinks in ${describe(path)}`);
    const target = readlinkSync(p);
    p = target.startsWith('/') ? target : posix.join(splitPathDirEntry(p)[0], target);
  }
  const [parent] = splitPathDirEntry(p);
  if (!statSync(parent).isDirectory()) throw ruleError(`not a directory: ${describe(parent)}`);
  return { path: p, exists: false, isDir: false };
}

function ruleError(message: string, hint?: string): DenError {
  return invalidArgument('DEN0666', message, hint ? { hint } : {});
}
