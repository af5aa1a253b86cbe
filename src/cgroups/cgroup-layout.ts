/**
 * How this host mounts its cgroups, and where a container's cgroup lives in them.
 *
 * Vocabulary: a *cgroup path* is a cgroup as /proc/PID/cgroup names it and as the OCI runtime takes
 * it in `linux.cgroupsPath` (`/den/<id>`): the same path in every hierarchy. A *hierarchy* is one
 * mounted cgroup tree: cgroup v2 has one, v1 one per controller (cpu and cpuacct may share one). The
 * *layout* is which of them the host has:
 *
 *   v2      /sys/fs/cgroup is cgroup2: every controller in one hierarchy
 *   hybrid  v1 hierarchies under /sys/fs/cgroup, plus a cgroup2 at /sys/fs/cgroup/unified; crun
 *           treats it as v1 (and refuses it while the cgroup2 carries a controller)
 *   v1      v1 hierarchies only
 *   none    nothing mounted at /sys/fs/cgroup
 *
 *   const layout = cgroupLayout(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')));
 *   cgroupDirs(layout, '/den/4f1c')  // v2: ['/sys/fs/cgroup/den/4f1c']
 *                                    // hybrid: ['/sys/fs/cgroup/cpu/den/4f1c', ..., '/sys/fs/cgroup/unified/den/4f1c']
 */
import type { MountEntry } from '../common/mountinfo.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where den puts containers' cgroups as root (`/den/<id>`, as docker's are `/docker/<id>`). */
export const ROOT_CGROUP_PARENT = '/den';

/** The controllers den's limits use: --memory*, --cpus and --cpu-shares, --cpuset-cpus, --pids-limit. */
export const LIMIT_CONTROLLERS = ['memory', 'cpu', 'cpuset', 'pids'] as const;
export type LimitController = (typeof LIMIT_CONTROLLERS)[number];

export type CgroupVersion = 'v2' | 'hybrid' | 'v1' | 'none';

export interface CgroupLayout {
  version: CgroupVersion;
  /** Where the cgroup2 hierarchy is mounted: /sys/fs/cgroup (v2), /sys/fs/cgroup/unified (hybrid). */
  unified?: string;
  /** v1: each controller's hierarchy (and name=systemd's), by controller name. */
  v1: ReadonlyMap<string, string>;
}

/** The kernel's cgroup v1 controllers, to tell them from a v1 mount's other options. */
const V1_CONTROLLERS = new Set([
  'blkio',
  'cpu',
  'cpuacct',
  'cpuset',
  'devices',
  'freezer',
  'hugetlb',
  'memory',
  'misc',
  'net_cls',
  'net_prio',
  'perf_event',
  'pids',
  'rdma',
]);

/** The layout from a mount table (this process's: the runtime sees the same, in or out of the session). */
export function cgroupLayout(mounts: readonly MountEntry[]): CgroupLayout {
  const top = mounts.filter((m) => m.mountPoint === CGROUP_ROOT).at(-1);
  if (!top) return { version: 'none', v1: new Map() };
  if (top.fsType === 'cgroup2') return { version: 'v2', unified: CGROUP_ROOT, v1: new Map() };
  const v1 = new Map<string, string>();
  for (const m of mounts) {
    if (m.fsType !== 'cgroup' || !m.mountPoint.startsWith(`${CGROUP_ROOT}/`)) continue;
    for (const option of m.superOptions.split(',')) {
      if (V1_CONTROLLERS.has(option) || option.startsWith('name=')) v1.set(option, m.mountPoint);
    }
  }
  const unified = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint === `${CGROUP_ROOT}/unified`);
  return unified ? { version: 'hybrid', unified: unified.mountPoint, v1 } : { version: 'v1', v1 };
}

/**
 * The directories of cgroup `path` in every hierarchy the runtime places a container in: v2's one,
 * or each v1 hierarchy's and (hybrid) the cgroup2's too.
 */
export function cgroupDirs(layout: CgroupLayout, path: string): string[] {
  const roots = new Set(layout.v1.values());
  if (layout.unified) roots.add(layout.unified);
  return [...roots].map((root) => `${root}${path}`);
}

/** The cgroup of the process whose /proc/PID/cgroup this is, in the cgroup2 hierarchy (its `0::` line). */
export function unifiedCgroupOf(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3).trim() || undefined;
}

/** The parent of a cgroup path: `/a/b` -> `/a`, `/a` -> `/`; `/` has none. */
export function parentCgroup(path: string): string | undefined {
  if (path === '/') return undefined;
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Joins a cgroup path and a name below it. */
export function childCgroup(path: string, name: string): string {
  return path === '/' ? `/${name}` : `${path}/${name}`;
}

/** True when `path` is `ancestor` or below it. */
export function isWithin(path: string, ancestor: string): boolean {
  return ancestor === '/' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * The controllers root can give a container: v2's root cgroup.controllers (`readControllers` reads
 * a hierarchy's), or the v1 hierarchies mounted (crun uses v1's in a hybrid layout).
 */
export function rootControllers(layout: CgroupLayout, readControllers: (dir: string) => string | undefined): string[] {
  if (layout.version === 'v2') return (readControllers(layout.unified!) ?? '').split(/\s+/).filter(Boolean);
  return [...layout.v1.keys()].filter((c) => !c.startsWith('name='));
}
