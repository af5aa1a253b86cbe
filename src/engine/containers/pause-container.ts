import { readFileSync } from 'node:fs';
import { conflict, failedPrecondition } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import { parseMountinfo } from '../../common/mountinfo.js';
import type { ContainerRecord } from '../../containers/index.js';
import { containerCgroup, freezerMissing } from '../../runtime/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import { reconcile } from './container-state.js';

/**
 * `den pause` and `den unpause`: the runtime's pause and resume, which freeze and thaw every
 * process of the container through its cgroup's freezer, then the lifecycle's pause or unpause.
 * A container can be frozen only in a cgroup of its own: as root den's runtime always makes one
 * (cgroup v1 with the freezer hierarchy, or v2); rootless, only a delegated cgroup v2 subtree
 * gives the runtime one. Where there is none, the refusal says what is missing.
 */
export function pauseContainer(ctx: EngineContext, ref: string): ContainerRecord {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  if (c.status === 'paused') throw conflict('DEN1109', `container ${c.id.slice(0, 12)} is already paused`);
  if (c.status !== 'running') throw notRunning(c);
  const missing = freezerMissing(c.initPid === null ? undefined : containerCgroup(c.initPid, c.pid));
  if (missing !== undefined) throw noFreezer(ctx, c, missing);
  runVerb(ctx, c, 'pause');
  return ctx.containers.transition(c.id, 'pause');
}

export function unpauseContainer(ctx: EngineContext, ref: string): ContainerRecord {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  if (c.status !== 'paused') throw conflict('DEN1109', `container ${c.id.slice(0, 12)} is not paused`);
  runVerb(ctx, c, 'resume');
  return ctx.containers.transition(c.id, 'unpause');
}

/**
 * Runs `work` with a running container's processes frozen, where it has a freezer (docker's
 * `commit --pause`); its record does not change (a commit's pause is not the user's). Without a
 * freezer `work` runs all the same, after `unfrozen` says why not.
 */
export async function whileFrozen<T>(
  ctx: EngineContext,
  c: ContainerRecord,
  unfrozen: (why: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  const missing =
    c.status !== 'running'
      ? 'it is not running'
      : freezerMissing(c.initPid === null ? undefined : containerCgroup(c.initPid, c.pid));
  if (missing !== undefined) {
    if (c.status === 'running') unfrozen(missing);
    return work();
  }
  runVerb(ctx, c, 'pause');
  try {
    return await work();
  } finally {
    runVerb(ctx, c, 'resume');
  }
}

function notRunning(c: ContainerRecord) {
  return conflict('DEN1109', `container ${c.id.slice(0, 12)} is not running`, { reason: 'not-running' });
}

function runVerb(ctx: EngineContext, c: ContainerRecord, verb: 'pause' | 'resume'): void {
  const runtime = findRuntime(ctx, c.config.runtime);
  const r = runSync(ctx.ns.wrap(verb === 'pause' ? runtime.pauseArgv(c.id) : runtime.resumeArgv(c.id)));
  if (r.status !== 0) {
    throw failedPrecondition(
      'DEN1143',
      `cannot ${verb === 'pause' ? 'pause' : 'unpause'} container ${c.name}: ${c.config.runtime}: ${r.stderr.trim() || `status ${r.status}`}`,
    );
  }
}

/** The refusal for a container with no freezer, naming what this host lacks for one. */
function noFreezer(ctx: EngineContext, c: ContainerRecord, missing: string) {
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  const top = mounts.filter((m) => m.mountPoint === '/sys/fs/cgroup').at(-1);
  const layout = top?.fsType === 'cgroup2' ? 'cgroup v2' : 'cgroup v1 (or hybrid)';
  if (ctx.rootless) {
    return failedPrecondition(
      'DEN1142',
      `cannot pause container ${c.name}: ${missing}: rootless, a container gets one only where the host has cgroup v2 ` +
        `alone and a cgroup v2 subtree is delegated to ${ctx.config.user.name}; this host has ${layout}` +
        (top?.fsType === 'cgroup2' ? ' without a delegated subtree' : ''),
      {
        hint:
          'pause it as root, or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) and a systemd user session ' +
          'that delegates controllers (Delegate=yes); `den system check` shows the cgroup layout',
      },
    );
  }
  return failedPrecondition('DEN1142', `cannot pause container ${c.name}: ${missing} (${layout})`, {
    hint: 'mount the freezer (mount -t cgroup -o freezer cgroup /sys/fs/cgroup/freezer), or use cgroup v2',
  });
}

/**
 * Thaws a paused container so that a signal sent to it takes effect (a frozen process dies of
 * SIGKILL only once thawed): stop, kill and rm -f do this after signalling. Its record stays
 * paused until the exit is recorded, which the lifecycle allows from paused.
 */
export function thaw(ctx: EngineContext, c: ContainerRecord): void {
  runSync(ctx.ns.wrap(findRuntime(ctx, c.config.runtime).resumeArgv(c.id)));
}
