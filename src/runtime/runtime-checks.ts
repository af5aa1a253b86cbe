/**
 * `den system check`'s probes for what the OCI runtime needs: crun (den's default) or runc, a cgroup
 * layout crun accepts, and the default seccomp profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../common/errors.js';
import { checkTool, fail, ok, SETUP_SCRIPT, warn, type Finding, type Host } from '../common/host-check.js';
import type { MountEntry } from '../common/mountinfo.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp.js';

/** crun, den's default runtime: without it no container runs. */
export function checkCrun(h: Host): Finding {
  return checkTool(h, 'crun', 'fail', 'apt-get install crun');
}

/** runc, which a container gets with --runtime runc (or DEN_RUNTIME=runc). */
export function checkRunc(h: Host): Finding {
  return checkTool(h, 'runc', 'warn', 'apt-get install runc');
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

/** The cgroup layout of this host, from its mount table. */
export function checkCgroups(h: Host): Finding {
  const read = (dir: string) => {
    try {
      return readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
    } catch {
      return undefined;
    }
  };
  return describeCgroups(h.mounts, read, h.rootless);
}

/** The default seccomp profile: there, valid JSON, with a default action. */
export function checkSeccompProfile(): Finding {
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
