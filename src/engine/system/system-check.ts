import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../../common/errors.js';
import { nearestExisting } from '../../common/fs.js';
import { fail, LiveHost, ok, warn, type CheckResult, type Finding, type Host } from '../../common/host-check.js';
import { checkPasta, checkSlirp4netns, checkTunDevice } from '../../network/index.js';
import { checkSessionMaps, checkSetuidHelper, checkUserNamespaces, type SessionMaps } from '../../session/index.js';
import { chooseRootlessShift } from '../containers/userns.js';
import { defaultUserns, ROOT_POOL_USER } from '../containers/userns.js';
import { fallbackRuntimeDir } from '../../common/paths.js';
import { checkSubordinateIds, newIdMapArgs, readSubordinateRanges, sessionMap } from '../../idmap/index.js';
import { checkCgroups, checkCrun, checkRunc, checkSeccompProfile } from '../../runtime/index.js';
import { checkFuseDevice, checkFuseOverlayfs, checkIdmappedMounts, checkOverlay } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';

export type { CheckResult } from '../../common/host-check.js';

export interface CheckOptions {
  /**
   * The caller's environment, whose PATH, XDG_RUNTIME_DIR and DEN_RUNTIME_DIR are checked and which the
   * probes run with; by default only the engine's search path.
   */
  env?: NodeJS.ProcessEnv;
  /** The subordinate id files, /etc/subuid and /etc/subgid by default. */
  subuidFile?: string;
  subgidFile?: string;
}

/**
 * Tells what this host supports for den and how to fix what is missing. Probes for real where a
 * probe is cheap and leaves nothing behind (user namespaces, overlay, idmapped mounts as root, the
 * devices); where it cannot, the detail says the answer was inferred.
 *
 * Nothing outside a temporary directory is written, and that directory is removed again; the data
 * and runtime directories are not created.
 */
export function checkSystem(ctx: EngineContext, options: CheckOptions = {}): CheckResult[] {
  const h = new LiveHost({
    rootless: ctx.paths.rootless,
    uid: ctx.uid,
    gid: ctx.gid,
    userName: ctx.config.user.name,
    env: options.env ?? { PATH: ctx.config.searchPath },
    dataDir: ctx.paths.dataDir,
    runtimeDir: ctx.paths.runtimeDir,
    subuidFile: options.subuidFile ?? '/etc/subuid',
    subgidFile: options.subgidFile ?? '/etc/subgid',
  });
  const results: CheckResult[] = [];
  const add = (id: string, title: string, check: () => Finding) => {
    let r: Finding;
    try {
      r = check();
    } catch (e) {
      // A check that breaks is itself a finding; it must not hide the checks after it.
      r = { status: 'fail', detail: `the check itself failed: ${(e as Error).message}` };
    }
    results.push({ id, title, ...r });
    return results[results.length - 1]!;
  };

  const uidHelper = add('newuidmap', 'newuidmap setuid helper', () => checkSetuidHelper(h, 'newuidmap'));
  const gidHelper = add('newgidmap', 'newgidmap setuid helper', () => checkSetuidHelper(h, 'newgidmap'));
  const subuid = add('subuid', 'subordinate uids', () => checkSubordinateIds(h, 'uid', ROOT_POOL_USER));
  const subgid = add('subgid', 'subordinate gids', () => checkSubordinateIds(h, 'gid', ROOT_POOL_USER));
  add('session-maps', 'rootless session maps', () => {
    if (!h.rootless) return ok('root mode: not needed');
    const missing = [uidHelper, gidHelper, subuid, subgid].filter((r) => r.status === 'fail').map((r) => r.id);
    if (missing.length > 0) return { status: 'fail', detail: `not probed: needs ${missing.join(', ')} (see above)` };
    return checkSessionMaps(h, () => sessionMapsFrom(h));
  });
  add('userns', 'user namespaces', () => checkUserNamespaces(h));
  add('overlay', 'overlay in a user namespace', () => checkOverlay(h));
  add('idmapped-mounts', 'idmapped mounts', () => checkIdmappedMounts(h));
  add('crun', 'OCI runtime crun (default)', () => checkCrun(h));
  add('runc', 'OCI runtime runc (optional)', () => checkRunc(h));
  add('cgroups', 'cgroup layout', () => checkCgroups(h));
  add('pasta', 'pasta (rootless networking)', () => checkPasta(h));
  add('slirp4netns', 'slirp4netns (rootless networking fallback)', () => checkSlirp4netns(h));
  add('tun', '/dev/net/tun (pasta, slirp4netns)', () => checkTunDevice(h));
  add('fuse', '/dev/fuse (fuse-overlayfs)', () => checkFuseDevice(h));
  add('runtime-dir', 'runtime directory', () => checkRuntimeDir(h));
  add('seccomp', 'default seccomp profile', () => checkSeccompProfile());
  add('fuse-overlayfs', 'fuse-overlayfs (id shifting without copies, rootless)', () => checkFuseOverlayfs(h));
  add('userns-shift', 'how ids are shifted for containers of their own', () => {
    if (!h.rootless) return ok('idmapped mounts of the layers: nothing is copied');
    const s = chooseRootlessShift(ctx);
    return ok(`${s.method} (${s.why})`);
  });
  add('userns-default', 'default --userns', () => {
    if (h.rootless && [subuid, subgid].some((r) => r.status === 'fail')) {
      return warn('default --userns: host (no subordinate ids for ranges of their own: see subuid, subgid above)');
    }
    // Either default is sound: this reports which one applies here and why, not a fault.
    const d = defaultUserns(ctx);
    return ok(`default --userns: ${d.mode} (${d.why})`);
  });
  return results;
}

/**
 * The session's maps from the subordinate id files the check was given. idmap computes them and
 * the session's probe writes them; the two sit side by side, so only the engine joins them.
 */
function sessionMapsFrom(h: Host): SessionMaps {
  const user = { name: h.userName, uid: h.uid };
  return {
    uidArgs: newIdMapArgs(sessionMap(h.uid, readSubordinateRanges('uid', user, h.subuidFile))),
    gidArgs: newIdMapArgs(sessionMap(h.gid, readSubordinateRanges('gid', user, h.subgidFile))),
  };
}

// --- 10. runtime directory ------------------------------------------------------------------------

function checkRuntimeDir(h: Host): Finding {
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
