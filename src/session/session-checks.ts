/**
 * `den system check`'s probes for what the rootless session needs: the setuid helpers that write
 * its maps, user namespaces, and a dry run of writing the maps themselves.
 */
import { readFileSync, statSync } from 'node:fs';
import { runSync } from '../common/exec.js';
import {
  describeMissingTool,
  fail,
  locateTool,
  missingUnshare,
  ok,
  SETUP_SCRIPT,
  warn,
  type Finding,
  type Host,
} from '../common/host-check.js';
import type { SessionMaps } from './session.js';
import { withUnmappedUserns } from './userns-process.js';

/** newuidmap or newgidmap: in PATH and setuid root, which is how they may write a user's maps. */
export function checkSetuidHelper(h: Host, name: 'newuidmap' | 'newgidmap'): Finding {
  const where = locateTool(h, name);
  if (!where.path) {
    const missing = describeMissingTool(name, where, 'apt-get install uidmap');
    // Root mode writes id maps itself (through the OCI runtime); only rootless callers need the helper.
    return h.rootless
      ? fail(missing.detail, missing.fix)
      : warn(`${missing.detail}; root mode does not need it, rootless users do`, missing.fix);
  }
  const st = statSync(where.path);
  if (st.uid !== 0 || (st.mode & 0o4000) === 0) {
    const detail = `${where.path} is not setuid root (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`;
    const fix = 'apt-get install --reinstall uidmap';
    return h.rootless ? fail(detail, fix) : warn(`${detail}; root mode does not need it, rootless users do`, fix);
  }
  return ok(`${where.path} is setuid root`);
}

/**
 * Rootless: have newuidmap and newgidmap write the session's maps (own id to 0, then every
 * subordinate range) into a throwaway user namespace. They re-check /etc/subuid themselves, so
 * this is the test that the session will start. `maps` is called once unshare is found, as
 * RootlessSession computes its maps only when it creates the session.
 */
export function checkSessionMaps(h: Host, maps: () => SessionMaps): Finding {
  const unshare = h.find('unshare');
  if (!unshare) return missingUnshare(h, 'not probed: ');
  const { uidArgs, gidArgs } = maps();
  return withUnmappedUserns(unshare, (pid) => {
    for (const [helper, args] of [
      ['newuidmap', uidArgs],
      ['newgidmap', gidArgs],
    ] as const) {
      const r = runSync([h.find(helper) ?? helper, String(pid), ...args], { env: h.env });
      if (r.status !== 0) {
        return fail(
          `${helper} refused the map ${args.join(' ')}: ${r.stderr.trim() || `status ${r.status}`}`,
          `check the lines for ${h.userName} in /etc/sub${helper === 'newuidmap' ? 'uid' : 'gid'}, or run ${SETUP_SCRIPT} as root`,
        );
      }
    }
    const extents = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').length;
    return ok(`newuidmap and newgidmap wrote the session maps (${extents} extents, own uid to 0) to a test namespace`);
  });
}

/**
 * Whether this caller may create a user namespace: the sysctls that switch them off, then a real
 * `unshare --user --map-root-user true`, which also catches AppArmor's restriction.
 */
export function checkUserNamespaces(h: Host): Finding {
  const max = readNumber('/proc/sys/user/max_user_namespaces');
  if (max === 0) {
    return fail(
      'user.max_user_namespaces is 0: user namespaces are disabled',
      'sysctl -w user.max_user_namespaces=15000',
    );
  }
  if (h.rootless && readNumber('/proc/sys/kernel/unprivileged_userns_clone') === 0) {
    return fail(
      'kernel.unprivileged_userns_clone is 0: unprivileged users cannot create user namespaces',
      `sysctl -w kernel.unprivileged_userns_clone=1 (or run ${SETUP_SCRIPT} as root)`,
    );
  }
  const unshare = h.find('unshare');
  if (!unshare) return missingUnshare(h, '');
  const r = runSync([unshare, '--user', '--map-root-user', 'true'], { env: h.env });
  if (r.status !== 0) {
    const restricted = readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === 1;
    return fail(
      `unshare --user --map-root-user true failed: ${r.stderr.trim() || `status ${r.status}`}`,
      restricted ? 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0' : undefined,
    );
  }
  return ok(`unshare --user --map-root-user works (max_user_namespaces ${max ?? 'unknown'})`);
}

/** A sysctl's number; undefined when the file is missing (the kernel lacks that switch) or not a number. */
function readNumber(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}
