import type { CgroupTree } from './delegation.js';

/** One cgroup of a FakeCgroupTree: its files' contents, and whether the caller owns it. */
export interface FakeCgroup {
  controllers?: string;
  subtree?: string;
  procs?: string;
  owned?: boolean;
}

/**
 * An in-memory cgroup v2 hierarchy, for tests of the delegation rules. It stands in for the real
 * one because this development host cannot have one: its layout is hybrid, every controller is
 * bound to a v1 hierarchy (and memory's holds cgroups of its own, so it cannot move), and a
 * controller moved to the cgroup2 makes crun refuse every root container.
 */
export class FakeCgroupTree implements CgroupTree {
  constructor(
    readonly cgroups: Record<string, FakeCgroup>,
    readonly mountPoint = '/sys/fs/cgroup',
  ) {}

  read(path: string, file: string): string | undefined {
    const c = this.cgroups[path];
    if (!c) return undefined;
    if (file === 'cgroup.controllers') return c.controllers ?? '';
    if (file === 'cgroup.subtree_control') return c.subtree ?? '';
    if (file === 'cgroup.procs') return c.procs ?? '';
    return undefined;
  }

  writable(path: string, file: string): boolean {
    return this.cgroups[path]?.owned === true && ['cgroup.procs', 'cgroup.subtree_control'].includes(file);
  }
}
