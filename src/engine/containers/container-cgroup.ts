import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { failedPrecondition } from '../../common/errors.js';
import {
  availableCpus,
  cgroupDirs,
  childCgroup,
  findDelegation,
  LiveCgroupTree,
  removeCgroup,
  ROOT_CGROUP_PARENT,
  rootControllers,
  unifiedCgroupOf,
  type LimitController,
} from '../../cgroups/index.js';
import type { ContainerLimits, ContainerRecord } from '../../containers/index.js';
import { canRaiseHardLimits, hardLimits, rlimitsAboveOwn, RLIM_INFINITY } from '../../runtime/index.js';
import type { EngineContext } from '../context.js';
import { checkCpusetAvailable, controllersFor, flagsFor, ociRlimits, resolveLimits } from './limits.js';

/**
 * Where a container's cgroup goes, and whether its limits can be had there.
 *
 * As root every container gets a cgroup of its own, `/den/<id>` (or under DEN_CGROUP_PARENT), in
 * every hierarchy the runtime uses (crun: v2's, or in a hybrid layout each v1 hierarchy's and the
 * cgroup2's), so that `den stats` and `den top` find it by the path its record keeps. Rootless, a
 * container gets one only when it asks for limits, in a cgroup v2 delegated to the caller
 * (cgroups/delegation.ts); without one the limits are refused before anything is made. Without
 * limits nothing changes: the runtime is given no path, tries a cgroup of its own and does without.
 */
export interface LimitsPlan {
  /** The limits as docker's daemon would keep them (resolveLimits); undefined: none. */
  limits?: ContainerLimits;
  /** The cgroup the container's goes in (`<parent>/<id>`); undefined: none of its own. */
  cgroupParent?: string;
}

/**
 * Checks limits by docker's rules and against this host (its CPUs, its cgroups, den's own
 * rlimits), and decides the cgroup's parent. Reads, never writes: `den run` calls it before it pulls,
 * `createContainer` again before it records anything.
 */
export function planLimits(ctx: EngineContext, asked: ContainerLimits | undefined): LimitsPlan {
  const limits = resolveLimits(asked, availableParallelism());
  const needed = controllersFor(limits);
  const cgroupParent = ctx.rootless ? rootlessParent(ctx, asked ?? {}, needed) : rootParent(ctx, asked ?? {}, needed);
  if (limits?.cpusetCpus) checkCpusetAvailable(limits.cpusetCpus, availableCpus(ctx.cgroupLayout, cgroupParent!));
  checkUlimits(limits);
  return { ...(limits ? { limits } : {}), ...(cgroupParent !== undefined ? { cgroupParent } : {}) };
}

/** The container's cgroup path for a plan. */
export function cgroupPathOf(plan: LimitsPlan, id: string): string | undefined {
  return plan.cgroupParent === undefined ? undefined : childCgroup(plan.cgroupParent, id);
}

function rootParent(ctx: EngineContext, asked: ContainerLimits, needed: LimitController[]): string {
  if (needed.length > 0) {
    const layout = ctx.cgroupLayout;
    const have = rootControllers(layout, readControllers);
    const lacking = needed.filter((c) => !have.includes(c));
    if (lacking.length > 0) {
      const flags = lacking.flatMap((c) => flagsFor(asked, c));
      throw failedPrecondition(
        'DEN0694',
        `${flags.join(', ')}: the ${lacking.join(', ')} cgroup controller${lacking.length > 1 ? 's are' : ' is'} not available on this host (cgroup ${layout.version})`,
        { hint: 'see `den system check` (cgroup-limits) for how to make it available' },
      );
    }
  }
  return ctx.config.cgroupParent ?? ROOT_CGROUP_PARENT;
}

function rootlessParent(ctx: EngineContext, asked: ContainerLimits, needed: LimitController[]): string | undefined {
  if (needed.length === 0) return undefined;
  const flags = needed.flatMap((c) => flagsFor(asked, c));
  const refuse = (why: string, hint: string) =>
    failedPrecondition(
      'DEN0693',
      `${flags.join(', ')} need${flags.length > 1 ? '' : 's'} a cgroup of the container's own, and rootless den has none to give: ${why}`,
      { hint },
    );
  const layout = ctx.cgroupLayout;
  if (layout.version !== 'v2') {
    throw refuse(
      `this host keeps its cgroup controllers on cgroup v1 (${layout.version} layout), where only root may make cgroups`,
      `run as root, or boot the host with cgroup v2 only (systemd.unified_cgroup_hierarchy=1) and delegate a cgroup to ${ctx.config.user.name}; \`den system check\` tells what is there`,
    );
  }
  const own = unifiedCgroupOf(readOrEmpty('/proc/self/cgroup'));
  if (own === undefined) throw refuse('/proc/self/cgroup names no cgroup v2', 'see `den system check`');
  const d = findDelegation(new LiveCgroupTree(layout.unified!), {
    own,
    user: ctx.config.user.name,
    ...(ctx.config.cgroupParent !== undefined ? { explicit: ctx.config.cgroupParent } : {}),
  });
  if ('missing' in d) throw refuse(d.missing, d.fix);
  const lacking = needed.filter((c) => !d.delegated.controllers.includes(c));
  if (lacking.length > 0) {
    throw refuse(
      `the cgroup delegated to ${ctx.config.user.name} (${d.delegated.root}) offers ${d.delegated.controllers.join(', ')}, not ${lacking.join(', ')}`,
      `have ${lacking.join(', ')} delegated too (systemd: Delegate=${lacking.join(' ')} for user@.service), or drop ${lacking.flatMap((c) => flagsFor(asked, c)).join(', ')}`,
    );
  }
  return d.delegated.parent;
}

/**
 * Refuses --ulimit hard limits above den's own unless den may raise them: the runtime sets them
 * with den's privileges, and would fail with "setrlimit: Operation not permitted".
 */
function checkUlimits(limits: ContainerLimits | undefined): void {
  const asked = ociRlimits(limits);
  if (asked.length === 0) return;
  if (canRaiseHardLimits(readOrEmpty('/proc/self/status'), readOrEmpty('/proc/self/uid_map'))) return;
  const above = rlimitsAboveOwn(asked, hardLimits(readOrEmpty('/proc/self/limits')));
  if (above.length === 0) return;
  const show = (v: bigint) => (v === RLIM_INFINITY ? 'unlimited' : String(v));
  const first = above[0]!;
  const u = limits!.ulimits!.find((x) => x.name === first.name)!;
  throw failedPrecondition(
    'DEN0695',
    `--ulimit ${u.name}=${u.soft}:${u.hard}: a hard limit of ${show(first.rlimit.hard)} is above den's own (${show(first.own)}), ` +
      `and den may not raise it (it lacks CAP_SYS_RESOURCE)`,
    {
      hint:
        `ask for at most ${show(first.own)} (a soft limit up to the hard one is always allowed), or start den ` +
        `with a higher hard limit (ulimit -H, /etc/security/limits.conf)`,
    },
  );
}

/** The directories of a container's cgroup, in every hierarchy (none when it has none of its own). */
export function containerCgroupDirs(ctx: EngineContext, c: ContainerRecord): string[] {
  return c.config.cgroupsPath === undefined ? [] : cgroupDirs(ctx.cgroupLayout, c.config.cgroupsPath);
}

/**
 * Removes what is left of a container's cgroup (the runtime removes it when it deletes the
 * container; a runtime killed before then leaves it), warning about what cannot be removed.
 */
export function removeContainerCgroup(ctx: EngineContext, c: ContainerRecord): void {
  if (c.config.cgroupsPath === undefined) return;
  const left = removeCgroup(ctx.cgroupLayout, c.config.cgroupsPath);
  if (left.length > 0) ctx.events.warning(`container ${c.name}: cannot remove its cgroup ${left.join(', ')}`);
}

function readControllers(dir: string): string | undefined {
  try {
    return readFileSync(`${dir}/cgroup.controllers`, 'utf8');
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
