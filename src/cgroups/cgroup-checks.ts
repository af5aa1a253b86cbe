/**
 * `den system check`'s probes for cgroups: the layout (one crun accepts), and whether containers can
 * have resource limits here: as root, the controllers mounted; rootless, a delegated cgroup v2.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fail, ok, SETUP_SCRIPT, warn, type Finding, type Host } from '../common/host-check.js';
import type { MountEntry } from '../common/mountinfo.js';
import {
  CGROUP_ROOT,
  cgroupLayout,
  LIMIT_CONTROLLERS,
  ROOT_CGROUP_PARENT,
  rootControllers,
  unifiedCgroupOf,
  type CgroupLayout,
} from './cgroup-layout.js';
import { findDelegation, LiveCgroupTree, type CgroupTree } from './delegation.js';

/**
 * Describes the cgroup layout from the mount table. `readControllers` reads a cgroup2 hierarchy's
 * cgroup.controllers (undefined when unreadable). crun accepts a hybrid layout only while the
 * cgroup2 hierarchy at /sys/fs/cgroup/unified has no controllers; otherwise it refuses every
 * container with "cgroups in hybrid mode not supported".
 */
export function describeCgroups(
  mounts: readonly MountEntry[],
  readControllers: (dir: string) => string | undefined,
): Finding {
  const layout = cgroupLayout(mounts);
  const v1 = [...new Set(layout.v1.values())].map((m) => basename(m));
  switch (layout.version) {
    case 'none':
      return warn(`nothing is mounted at ${CGROUP_ROOT}`, `mount -t cgroup2 cgroup2 ${CGROUP_ROOT}`);
    case 'v2':
      return ok(
        `cgroup v2 (unified) at ${CGROUP_ROOT}; controllers: ${rootControllers(layout, readControllers).join(' ') || 'none'}`,
      );
    case 'v1':
      return ok(`cgroup v1 (legacy): ${v1.join(', ') || 'no hierarchies'}`);
    case 'hybrid': {
      const unified = layout.unified!;
      const controllers = words(readControllers(unified));
      if (controllers.length > 0) {
        const binds = controllers.map(
          (c) => `mkdir -p ${CGROUP_ROOT}/${c} && mount -t cgroup -o ${c} cgroup ${CGROUP_ROOT}/${c}`,
        );
        return fail(
          `hybrid: the cgroup2 hierarchy at ${unified} carries ${controllers.join(', ')}, so crun refuses every ` +
            `container ("cgroups in hybrid mode not supported")`,
          `${binds.join(' && ')} (or run ${SETUP_SCRIPT} as root)`,
        );
      }
      return ok(
        `hybrid: v1 hierarchies (${v1.join(', ')}) and a cgroup2 at ${unified} without controllers, which crun ` +
          `accepts as cgroup v1`,
      );
    }
  }
}

/** The cgroup layout of this host, from its mount table. */
export function checkCgroups(h: Host): Finding {
  return describeCgroups(h.mounts, readControllers);
}

/** What a rootless probe of limits reads: the tree of the cgroup2 hierarchy, and den's own cgroup. */
export interface LimitsProbe {
  tree: (mountPoint: string) => CgroupTree;
  ownCgroup: () => string | undefined;
  readControllers: (dir: string) => string | undefined;
}

const LIVE_PROBE: LimitsProbe = {
  tree: (mountPoint) => new LiveCgroupTree(mountPoint),
  ownCgroup: () => unifiedCgroupOf(readOrEmpty('/proc/self/cgroup')),
  readControllers,
};

/**
 * Whether containers can have resource limits (--memory, --cpus, --pids-limit ...): as root, which
 * of the controllers they use are there; rootless, whether a cgroup v2 is delegated to the caller
 * (DEN_CGROUP_PARENT, `explicitParent`, or found from den's own cgroup) and with which controllers.
 */
export function checkCgroupLimits(h: Host, explicitParent?: string, probe: LimitsProbe = LIVE_PROBE): Finding {
  const layout = cgroupLayout(h.mounts);
  if (layout.version === 'none') return warn(`no cgroups are mounted: containers cannot have resource limits`);
  if (!h.rootless) return describeRootLimits(layout, explicitParent ?? ROOT_CGROUP_PARENT, probe);
  if (layout.version !== 'v2') {
    return warn(
      `rootless: none: this host keeps its cgroup controllers on cgroup v1 (${layout.version} layout), where only root ` +
        `may make cgroups; rootless limits need a cgroup v2 delegated to ${h.userName}`,
      'boot with cgroup v2 only (systemd.unified_cgroup_hierarchy=1 on the kernel command line), then delegate a cgroup to the user, or run as root',
    );
  }
  const own = probe.ownCgroup();
  if (own === undefined) return warn('rootless: none: /proc/self/cgroup names no cgroup v2');
  const d = findDelegation(probe.tree(layout.unified!), {
    own,
    user: h.userName,
    ...(explicitParent !== undefined ? { explicit: explicitParent } : {}),
  });
  if ('missing' in d) return warn(`rootless: none: ${d.missing}`, d.fix);
  const { root, parent, controllers, foundBy } = d.delegated;
  const lacking = LIMIT_CONTROLLERS.filter((c) => !controllers.includes(c));
  const detail =
    `rootless: cgroup v2 delegated at ${root} (${foundBy}), controllers: ${controllers.join(' ')}; ` +
    `containers' cgroups under ${parent}`;
  return lacking.length > 0 ? warn(`${detail}; without ${lacking.join(', ')}`) : ok(detail);
}

function describeRootLimits(layout: CgroupLayout, parent: string, probe: LimitsProbe): Finding {
  const have = rootControllers(layout, probe.readControllers);
  const lacking = LIMIT_CONTROLLERS.filter((c) => !have.includes(c));
  const how = layout.version === 'v2' ? 'cgroup v2' : `cgroup v1 (${layout.version} layout)`;
  const detail = `as root: ${how}, controllers ${LIMIT_CONTROLLERS.filter((c) => have.includes(c)).join(' ') || 'none'}; containers' cgroups under ${parent}`;
  if (lacking.length === 0) return ok(detail);
  const fix =
    layout.version === 'v2'
      ? `echo '${lacking.map((c) => `+${c}`).join(' ')}' > ${CGROUP_ROOT}/cgroup.subtree_control`
      : lacking
          .map((c) => `mkdir -p ${CGROUP_ROOT}/${c} && mount -t cgroup -o ${c} cgroup ${CGROUP_ROOT}/${c}`)
          .join(' && ');
  return warn(`${detail}; without ${lacking.join(', ')} (their limits are refused)`, fix);
}

function readControllers(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
  } catch {
    return undefined;
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}
