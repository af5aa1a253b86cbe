/**
 * The directory a layer is unpacked into, and the rules for reaching paths inside it.
 *
 * Vocabulary: a *name* is an archive member name (bytes, as a latin1 string); its *components*
 * are what is left after dropping empty and `.` parts and applying `..` lexically; a *real path*
 * is a path relative to the root whose every component is a real directory (no symlinks), so the
 * kernel cannot be led anywhere else by it. Parents are resolved to real paths by walking one
 * component at a time with lstat, following symlinks ourselves, inside the root: a symlink's
 * absolute target starts again at the root, and a `..` that would leave the root is an error, not
 * clamped, because such a layer was made to attack whoever unpacks it.
 *
 * The tree under the root is private to the unpacker while it runs, so what lstat saw stays true
 * until the unpacker itself changes it (and then calls `forget`).
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import type { DenError } from '../common/errors.js';
import { absoluteName, escapesRoot, invalidName, notADirectory, symlinkLoop } from './unpack-errors.js';

/** Linux gives up after 40 symlinks in one lookup; so do we. */
const MAX_SYMLINKS = 40;

/** How a failure is reported depends on who asked: an entry, a hardlink target, a whiteout. */
export interface ResolveErrors {
  /** A `..` or a symlink took the walk out of the root; `link` is the symlink, if any. */
  escape(link: string | undefined): DenError;
  /** Given only when nothing may be created: a component does not exist. Otherwise it is made. */
  missing?: (component: string) => DenError;
}

/**
 * Splits a member name into components. Absolute names, empty names, NUL bytes and `..` that
 * climbs above the root are refused; `a/../b` is `b`, as Go's filepath.Clean (which made most
 * layers) would have it.
 */
export function nameComponents(
  name: string,
  onEscape: () => DenError = () => escapesRoot(name),
  onAbsolute: () => DenError = () => absoluteName(name),
): string[] {
  if (name === '') throw invalidName(name, 'empty');
  if (name.includes('\0')) throw invalidName(name, 'contains a NUL byte');
  if (name.startsWith('/')) throw onAbsolute();
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.pop() === undefined) throw onEscape();
  }
  return out;
}

export const joinReal = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

export class LayerRoot {
  /** Real directory + component -> real path it leads to, for every step already walked. */
  private readonly steps = new Map<string, string>();
  /** The root as bytes, so that `abs` is one concatenation. */
  private readonly rootBytes: string;

  constructor(readonly root: string) {
    this.rootBytes = Buffer.from(root, 'utf8').toString('latin1');
  }

  /** The host path of a real path, as bytes for the fs call. */
  abs(real: string): Buffer {
    return Buffer.from(real === '' ? this.rootBytes : `${this.rootBytes}/${real}`, 'latin1');
  }

  /** The host path of a real path, NUL-terminated, for a libc call. */
  absZ(real: string): Buffer {
    return Buffer.from(real === '' ? `${this.rootBytes}\0` : `${this.rootBytes}/${real}\0`, 'latin1');
  }

  /**
   * Resolves components that must name a directory to its real path, creating missing
   * directories (0755, owned by the unpacker) unless `errors.missing` is given.
   */
  resolveDir(entry: string, components: readonly string[], errors: ResolveErrors): string {
    const budget = { symlinks: MAX_SYMLINKS };
    let real = '';
    for (const c of components) real = this.step(entry, real, c, errors, budget);
    return real;
  }

  /** Records a real directory the unpacker has just made, which spares the lstat of the next walk. */
  learnDirectory(real: string): void {
    this.steps.set(real, real);
  }

  /** Drops what we learnt about the tree: the unpacker removed or replaced a directory or symlink. */
  forget(): void {
    this.steps.clear();
  }

  private step(
    entry: string,
    dir: string,
    component: string,
    errors: ResolveErrors,
    budget: { symlinks: number },
  ): string {
    const path = joinReal(dir, component);
    const known = this.steps.get(path);
    if (known !== undefined) return known;
    let real: string;
    const st = lstatSync(this.abs(path), { throwIfNoEntry: false });
    if (st === undefined) {
      if (errors.missing) throw errors.missing(path);
      mkdirSync(this.abs(path));
      // Not left to the umask: in an overlay the upper layer's directory mode is the one seen.
      chmodSync(this.abs(path), 0o755);
      real = path;
    } else if (st.isDirectory()) {
      real = path;
    } else if (st.isSymbolicLink()) {
      if (--budget.symlinks < 0) throw symlinkLoop(entry);
      const target = readlinkSync(this.abs(path), { encoding: 'buffer' }).toString('latin1');
      real = this.follow(entry, dir, path, target, errors, budget);
    } else {
      throw notADirectory(entry, path);
    }
    this.steps.set(path, real);
    return real;
  }

  /** Walks a symlink's target from the directory holding the link (or from the root, if absolute). */
  private follow(
    entry: string,
    dir: string,
    link: string,
    target: string,
    errors: ResolveErrors,
    budget: { symlinks: number },
  ): string {
    const stack = target.startsWith('/') || dir === '' ? [] : dir.split('/');
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.pop() === undefined) throw errors.escape(link);
        continue;
      }
      const real = this.step(entry, stack.join('/'), part, errors, budget);
      stack.length = 0;
      if (real !== '') stack.push(...real.split('/'));
    }
    return stack.join('/');
  }
}
