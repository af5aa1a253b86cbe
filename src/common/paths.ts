import { accessSync, constants, lstatSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode, failedPrecondition } from './errors.js';
import { nearestExisting } from './fs.js';
import { fail, ok, type Finding, type Host } from './host-check.js';

/** Where den keeps its store and runtime files for the calling user. */
export interface DenPaths {
  /** True when the caller is not root: den works through a rootless session. */
  rootless: boolean;
  /** Persistent data: the content store, layers, containers, the state database. */
  dataDir: string;
  /** Runtime files that die with the machine: session pid, the OCI runtime's state. */
  runtimeDir: string;
}

/**
 * Resolves den's directories. DEN_DATA_DIR and DEN_RUNTIME_DIR override everything (tests, CI).
 * Rootless: $XDG_DATA_HOME/den (default ~/.local/share/den) and $XDG_RUNTIME_DIR/den; where
 * XDG_RUNTIME_DIR is unset (no systemd session, as on these machines) a per-user directory in /tmp,
 * checked to be ours and private before use, because /tmp is shared with every other user.
 */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): DenPaths {
  const rootless = uid !== 0;
  if (!rootless) {
    return {
      rootless,
      dataDir: env.DEN_DATA_DIR || '/var/lib/den',
      runtimeDir: env.DEN_RUNTIME_DIR || '/run/den',
    };
  }
  const home = env.HOME || homedir();
  const dataDir = env.DEN_DATA_DIR || join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'den');
  let runtimeDir = env.DEN_RUNTIME_DIR;
  if (!runtimeDir) runtimeDir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'den') : fallbackRuntimeDir(uid);
  return { rootless, dataDir, runtimeDir };
}

/** The runtime directory used when XDG_RUNTIME_DIR is unset: /tmp/den-run-UID. */
export function fallbackRuntimeDir(uid: number): string {
  return `/tmp/den-run-${uid}`;
}

/**
 * Creates den's data directory, 0700 (docs/permissions.md). The directories above it are not den's
 * (~/.local/share): made where missing with the usual modes (the umask's), since a container whose
 * root is a stranger to the caller must pass through them, which `den create` checks.
 */
export function ensureDataDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Creates a private directory (0700) or checks an existing one: it must be a real directory, not a
 * symlink, owned by us and not open to others. Another user could otherwise plant it in /tmp first.
 */
export function ensurePrivateDir(path: string, uid = process.getuid?.() ?? 0): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw failedPrecondition('DEN0101', `runtime directory ${path}: cannot create: ${(e as Error).message}`, {
      hint: 'set XDG_RUNTIME_DIR to a private directory you own',
      cause: e,
    });
  }
  const st = lstatSync(path);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw failedPrecondition(
      'DEN0102',
      `runtime directory ${path}: not a private directory owned by uid ${uid} (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid})`,
      { hint: `remove it or set XDG_RUNTIME_DIR to a private directory you own` },
    );
  }
}

/**
 * `den system check`'s probe of the runtime directory: where it comes from (resolvePaths' order)
 * and whether ensurePrivateDir would accept it, without creating it. It lives here so that the
 * three change together.
 */
export function checkRuntimeDir(h: Host): Finding {
  const dir = h.runtimeDir;
  let source: string;
  if (h.env.DEN_RUNTIME_DIR) source = 'DEN_RUNTIME_DIR';
  else if (!h.rootless) source = 'root mode';
  else if (h.env.XDG_RUNTIME_DIR) source = 'XDG_RUNTIME_DIR';
  else source = 'XDG_RUNTIME_DIR is unset: the fallback';
  const problem = runtimeDirProblem(dir, h.uid);
  if (problem) {
    const fix =
      dir === fallbackRuntimeDir(h.uid)
        ? `remove ${dir} (as its owner or root), or set XDG_RUNTIME_DIR to a private directory you own`
        : 'set XDG_RUNTIME_DIR (or DEN_RUNTIME_DIR) to a private directory you own';
    return fail(`${dir} (${source}): ${problem}`, fix);
  }
  return ok(`${dir} (${source})${existsDir(dir) ? '' : ', created on first use'}`);
}

/** Why den would refuse `dir` as its runtime directory (see ensurePrivateDir), or undefined. */
function runtimeDirProblem(dir: string, uid: number): string | undefined {
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) return 'is a symbolic link';
    if (!st.isDirectory()) return 'is not a directory';
    if (st.uid !== uid) return `belongs to uid ${st.uid}, not ${uid}`;
    if ((st.mode & 0o077) !== 0) return `is open to others (mode ${(st.mode & 0o777).toString(8)})`;
    return undefined;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') return (e as Error).message;
  }
  const parent = nearestExisting(dirname(dir));
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
    return undefined;
  } catch {
    return `does not exist and ${parent} is not writable`;
  }
}

function existsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
