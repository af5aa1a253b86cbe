import { checkTool, LiveHost, ok, warn, type CheckResult, type Finding, type Host } from '../../common/host-check.js';
import { checkRuntimeDir } from '../../common/paths.js';
import { checkSubordinateIds, newIdMapArgs, readSubordinateRanges, sessionMap } from '../../idmap/index.js';
import { checkConmon } from '../../monitor/index.js';
import {
  checkDefaultNetwork,
  checkNetavark,
  checkPasta,
  checkSlirp4netns,
  checkTunDevice,
} from '../../network/index.js';
import { checkCgroupLimits, checkCgroups } from '../../cgroups/index.js';
import { checkCrun, checkRunc, checkSeccompProfile } from '../../runtime/index.js';
import { checkSessionMaps, checkSetuidHelper, checkUserNamespaces, type SessionMaps } from '../../session/index.js';
import {
  checkFuseDevice,
  checkFuseOverlayfs,
  checkIdmapHelper,
  checkIdmappedMounts,
  checkOverlay,
} from '../../snapshots/index.js';
import { defaultUserns, ROOT_POOL_USER } from '../containers/userns.js';
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
 *
 * Each probe lives with the module that owns the capability (session/session-checks.ts,
 * snapshots/snapshot-checks.ts ...). This is the composition: it builds the Host, names each
 * finding and keeps their order, and answers only what joins modules or the engine's own policy:
 * whether the session's maps can be probed at all, how ids are shifted and the default --userns.
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
  // Gated on the findings above (two modules'): a probe whose inputs failed would only repeat them.
  add('session-maps', 'rootless session maps', () => {
    if (!h.rootless) return ok('root mode: not needed');
    const missing = [uidHelper, gidHelper, subuid, subgid].filter((r) => r.status === 'fail').map((r) => r.id);
    if (missing.length > 0) return { status: 'fail', detail: `not probed: needs ${missing.join(', ')} (see above)` };
    return checkSessionMaps(h, () => sessionMapsFrom(h));
  });
  add('userns', 'user namespaces', () => checkUserNamespaces(h));
  add('overlay', 'overlay in a user namespace', () => checkOverlay(h));
  add('idmapped-mounts', 'idmapped mounts', () => checkIdmappedMounts(h));
  add('idmap-helper', 'den-idmap (idmapped mounts for rootless users)', () =>
    checkIdmapHelper(h, ctx.config.idmapHelperDirs),
  );
  add('crun', 'OCI runtime crun (default)', () => checkCrun(h));
  add('runc', 'OCI runtime runc (optional)', () => checkRunc(h));
  add('conmon', 'conmon (monitor of detached containers)', () => checkConmon(h));
  add('cgroups', 'cgroup layout', () => checkCgroups(h));
  add('cgroup-limits', 'resource limits (--memory, --cpus, --pids-limit)', () =>
    checkCgroupLimits(h, ctx.config.cgroupParent),
  );
  add('network', 'default network', () => checkDefaultNetwork(h));
  add('pasta', 'pasta (rootless networking)', () => checkPasta(h));
  add('slirp4netns', 'slirp4netns (rootless networking fallback)', () => checkSlirp4netns(h));
  add('tun', '/dev/net/tun (pasta, slirp4netns)', () => checkTunDevice(h));
  add('netavark', 'netavark and aardvark-dns (user-defined networks)', () => checkNetavark(h));
  add('fuse', '/dev/fuse (fuse-overlayfs)', () => checkFuseDevice(h));
  add('runtime-dir', 'runtime directory', () => checkRuntimeDir(h));
  add('seccomp', 'default seccomp profile', () => checkSeccompProfile());
  add('fuse-overlayfs', 'fuse-overlayfs (id shifting without copies, rootless)', () => checkFuseOverlayfs(h));
  add('gzip', 'gzip layer decompression', () => {
    const g = ctx.config.gzip;
    if (g.program !== undefined) return ok(`igzip (ISA-L) in a process of its own: ${g.program} (${g.why})`);
    return g.why.startsWith('DEN_GZIP')
      ? ok(`zlib (Node.js), ${g.why}`)
      : warn(`zlib (Node.js): ${g.why}`, 'apt-get install isal');
  });
  add('zstd', 'zstd layer decompression', () => checkTool(h, 'zstd', 'warn', 'apt-get install zstd'));
  // The engine's configuration (DEN_SHIFT) decides with snapshots' chooseShift, so the engine answers.
  add('userns-shift', 'how ids are shifted for containers of their own', () => {
    if (!h.rootless) return ok('idmapped mounts of the layers: nothing is copied');
    const s = ctx.rootlessShift();
    return ok(`${s.method} (${s.why})`);
  });
  add('userns-default', 'default --userns', () => {
    const configured = ctx.config.defaultUserns;
    if (configured !== undefined) return ok(`default --userns: ${configured} (set by ${ctx.config.defaultUsernsFrom})`);
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
