import { accessSync, constants, lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../../common/errors.js';
import { nearestExisting } from '../../common/fs.js';
import {
  checkDevice,
  checkTool,
  fail,
  LiveHost,
  ok,
  SETUP_SCRIPT,
  warn,
  type CheckResult,
  type Finding,
  type Host,
} from '../../common/host-check.js';
import type { MountEntry } from '../../common/mountinfo.js';
import { checkSessionMaps, checkSetuidHelper, checkUserNamespaces, type SessionMaps } from '../../session/index.js';
import { chooseRootlessShift } from '../containers/userns.js';
import { defaultUserns, ROOT_POOL_USER } from '../containers/userns.js';
import { fallbackRuntimeDir } from '../../common/paths.js';
import { checkSubordinateIds, newIdMapArgs, readSubordinateRanges, sessionMap } from '../../idmap/index.js';
import { DEFAULT_SECCOMP_PROFILE } from '../../runtime/index.js';
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
  add('crun', 'OCI runtime crun (default)', () => checkTool(h, 'crun', 'fail', 'apt-get install crun'));
  add('runc', 'OCI runtime runc (optional)', () => checkTool(h, 'runc', 'warn', 'apt-get install runc'));
  add('cgroups', 'cgroup layout', () => checkCgroups(h));
  const netFix = 'apt-get install passt slirp4netns';
  add('pasta', 'pasta (rootless networking)', () => checkTool(h, 'pasta', 'warn', netFix));
  add('slirp4netns', 'slirp4netns (rootless networking fallback)', () => checkTool(h, 'slirp4netns', 'warn', netFix));
  add('tun', '/dev/net/tun (pasta, slirp4netns)', () => checkDevice(h, '/dev/net/tun', 'tun'));
  add('fuse', '/dev/fuse (fuse-overlayfs)', () => checkFuseDevice(h));
  add('runtime-dir', 'runtime directory', () => checkRuntimeDir(h));
  add('seccomp', 'default seccomp profile', () => checkSeccomp());
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

/**
 * Classifies the cgroup layout from the mount table. `readControllers` reads a cgroup2 hierarchy's
 * cgroup.controllers (undefined when unreadable). crun accepts a hybrid layout only while the
 * cgroup2 hierarchy at /sys/fs/cgroup/unified has no controllers; otherwise it refuses every
 * container with "cgroups in hybrid mode not supported".
 */
export function describeCgroups(
  mounts: readonly MountEntry[],
  readControllers: (dir: string) => string | undefined,
  rootless: boolean,
): Finding {
  const root = '/sys/fs/cgroup';
  const top = mounts.filter((m) => m.mountPoint === root).at(-1);
  if (!top) return warn(`nothing is mounted at ${root}`, `mount -t cgroup2 cgroup2 ${root}`);
  if (top.fsType === 'cgroup2') {
    const controllers = (readControllers(root) ?? '').trim() || 'none';
    return ok(`cgroup v2 (unified) at ${root}; controllers: ${controllers}`);
  }
  const v1 = mounts
    .filter((m) => m.fsType === 'cgroup' && m.mountPoint.startsWith(`${root}/`))
    .map((m) => m.mountPoint.slice(root.length + 1));
  const unified = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint === `${root}/unified`);
  const noLimits = rootless ? '; rootless containers get no cgroup of their own there (no resource limits)' : '';
  if (!unified) return ok(`cgroup v1 (legacy): ${v1.join(', ') || 'no hierarchies'}${noLimits}`);
  const controllers = (readControllers(unified.mountPoint) ?? '').trim().split(/\s+/).filter(Boolean);
  if (controllers.length > 0) {
    const binds = controllers.map((c) => `mkdir -p ${root}/${c} && mount -t cgroup -o ${c} cgroup ${root}/${c}`);
    return fail(
      `hybrid: the cgroup2 hierarchy at ${unified.mountPoint} carries ${controllers.join(', ')}, so crun refuses every ` +
        `container ("cgroups in hybrid mode not supported")`,
      `${binds.join(' && ')} (or run ${SETUP_SCRIPT} as root)`,
    );
  }
  return ok(
    `hybrid: v1 hierarchies (${v1.join(', ')}) and a cgroup2 at ${unified.mountPoint} without controllers, which crun ` +
      `accepts as cgroup v1${noLimits}`,
  );
}

function checkCgroups(h: Host): Finding {
  const read = (dir: string) => {
    try {
      return readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
    } catch {
      return undefined;
    }
  };
  return describeCgroups(h.mounts, read, h.rootless);
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

// --- 11. seccomp --------------------------------------------------------------------------------

function checkSeccomp(): Finding {
  const file = DEFAULT_SECCOMP_PROFILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      return warn(
        `${file} is missing: containers run without a seccomp filter`,
        'apt-get install golang-github-containers-common',
      );
    }
    return fail(`${file}: cannot read: ${(e as Error).message}`);
  }
  let profile: { defaultAction?: unknown; syscalls?: unknown };
  try {
    profile = JSON.parse(text) as typeof profile;
  } catch (e) {
    return fail(
      `${file} is not valid JSON: ${(e as Error).message}`,
      'apt-get install --reinstall golang-github-containers-common',
    );
  }
  if (typeof profile.defaultAction !== 'string') {
    return fail(`${file} has no defaultAction`, 'apt-get install --reinstall golang-github-containers-common');
  }
  const rules = Array.isArray(profile.syscalls) ? profile.syscalls.length : 0;
  return ok(`${file}: default ${profile.defaultAction}, ${rules} rules`);
}
