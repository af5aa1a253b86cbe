import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError, failedPrecondition } from '../../common/errors.js';
import { findExecutable, runSync } from '../../common/exec.js';
import { readTextOrEmpty } from '../../common/fs.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import { startConmon } from '../../monitor/index.js';
import { readRuntimeFailure, type RuntimeFailureReason } from '../../runtime/index.js';
import { processStartTime } from '../../session/index.js';
import { MOUNT_ROOTFS, MOUNT_ROOTFS_ARGC, unmountRootfs } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import {
  exitDir,
  hasRuntimeState,
  isLifecycleRace,
  processGone,
  reconcile,
  settledRecord,
  stopInRuntime,
} from './container-state.js';
import { startHealthChecks } from './health-scheduler.js';
import { mountFailed, rootfsMountArgs } from './rootfs-mount.js';
import { stopContainer } from './stop-container.js';
import { containerEvent } from '../events.js';
import { connectUserNetworks, networkSetupFailed, prepareNetwork, releaseUserNetworks } from './container-network.js';
import { writeBundle } from './create-container.js';

/** The status of the mount shell when the network, not the mount, failed. */
const NETWORK_FAILED = 96;

/**
 * `den start` (and `den run -d`): starts a created or exited container in the background, watched
 * by conmon (monitor/conmon.ts), and returns once it runs. A container that is already running is
 * left as it is, as docker's start does.
 */
export async function startContainer(ctx: EngineContext, ref: string): Promise<ContainerRecord> {
  // A container that has just exited is started again once its exit command recorded the exit
  // (settledRecord), not taken for one that still runs.
  const c = await settledRecord(ctx, reconcile(ctx, ctx.containers.resolve(ref)));
  if (isActive(c.status) && c.status !== 'restarting') return c;
  return startDetached(ctx, c);
}

/**
 * `den restart`: a stop (as `den stop`, with its options), then a start in the background; the
 * journal gets docker's restart event after the start's.
 */
export async function restartContainer(
  ctx: EngineContext,
  ref: string,
  options: { timeoutSeconds?: number; signal?: string } = {},
): Promise<ContainerRecord> {
  await stopContainer(ctx, ref, options);
  const started = await startContainer(ctx, ref);
  ctx.emit(containerEvent(started, 'restart'));
  return started;
}

/**
 * The start itself: mount the root file system in the namespaces, have conmon create the
 * container through the runtime, record the start (compare-and-set: of two dens starting one
 * container one wins, and the loser undoes its half), then let the runtime start it. A restart
 * policy's start is the `restart` event, which only a container still waiting for it allows.
 * `beforeStart` runs between the last two, when the container exists and has not run yet: `start
 * -a` attaches there, so that it sees all of its output.
 */
export async function startDetached(
  ctx: EngineContext,
  c: ContainerRecord,
  event: 'start' | 'restart' = 'start',
  beforeStart?: (created: ContainerRecord) => void,
): Promise<ContainerRecord> {
  const runtime = findRuntime(ctx, c.config.runtime);
  const conmon = findExecutable('conmon', ctx.config.searchPath);
  if (!conmon) {
    throw failedPrecondition('DEN1107', 'conmon, the monitor of detached containers, is not in PATH', {
      hint: 'install it (apt install conmon); `den system check` tells what else is missing',
    });
  }
  const script = ctx.config.self.script;
  if (!script)
    throw new DenError('Internal', 'DEN0504', "cannot find den's entry script for the container's exit command");
  const b = ctx.layout.bundle(c.id);
  const runtimeLog = join(b.dir, 'runtime.log');
  for (const file of [runtimeLog, b.pid, b.monitorPid, b.oom, join(exitDir(ctx), c.id)]) rmSync(file, { force: true });
  mkdirSync(exitDir(ctx), { recursive: true, mode: 0o700 });
  const socketDir = join(ctx.paths.runtimeDir, 'attach');
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  // A runtime state left by a start that died half-way would make create fail: the id is taken.
  if (hasRuntimeState(ctx, c)) stopInRuntime(ctx, c);
  const net = await prepareNetwork(ctx, c);
  if (net.driver.mode.kind === 'container') writeBundle(ctx, c, undefined, true);
  mountRootfs(ctx, c, await rootfsMountArgs(ctx, c, false), net.script);
  let monitor;
  try {
    await net.driver.connected(net.setup);
    connectUserNetworks(ctx, c, net.setup);
    const [program, ...wrapped] = ctx.ns.wrap(runtime.globalArgv(runtimeLog));
    monitor = await startConmon(
      {
        binary: conmon,
        id: c.id,
        name: c.name,
        bundle: b.dir,
        runtime: [findExecutable(program!, ctx.config.searchPath) ?? program!, ...wrapped],
        containerPidFile: b.pid,
        monitorPidFile: b.monitorPid,
        ...(c.config.log?.driver === 'none' ? {} : { log: { path: b.log, maxSize: c.config.log?.maxSize ?? 0 } }),
        exitDir: exitDir(ctx),
        exitCommand: [ctx.config.self.node, '--', script, '__exited', c.id],
        socketDir,
        terminal: c.config.tty,
        stdin: c.config.interactive,
        stdinOnce: c.config.stdinOnce === true,
      },
      (message) => runtimeFailure(c, runtimeLog) ?? startFailed(c, message),
    );
  } catch (e) {
    // conmon goes once it has run the exit command (which leaves a record not started alone).
    const monitorPid = Number(readTextOrEmpty(b.monitorPid).trim());
    if (monitorPid > 0) await processGone(monitorPid, 5_000);
    unmountRootfs(ctx, c.id);
    releaseUserNetworks(ctx, c);
    throw e;
  }
  let started: ContainerRecord;
  try {
    started = ctx.containers.transition(c.id, event, {
      monitorPid: monitor.monitorPid,
      monitorStart: processStartTime(monitor.monitorPid) ?? '',
      monitor: 'conmon',
      initPid: monitor.initPid,
    });
  } catch (e) {
    // Another den started it first (or a stop ended its back-off): undo this half.
    await abandon(ctx, c, monitor.monitorPid);
    if (isLifecycleRace(e)) return ctx.containers.get(c.id) ?? c;
    throw e;
  }
  let failure: unknown;
  try {
    beforeStart?.(started);
  } catch (e) {
    failure = e;
  }
  const r = failure === undefined ? runSync(ctx.ns.wrap(runtime.startArgv(c.id))) : undefined;
  if (r === undefined || r.status !== 0) {
    // Recorded as failed first, so that the exit command of the killed init leaves it alone.
    try {
      ctx.containers.transition(c.id, 'fail', { exitCode: null });
    } catch (e) {
      if (!isLifecycleRace(e)) throw e;
    }
    await abandon(ctx, c, monitor.monitorPid);
    if (r === undefined) throw failure;
    throw runtimeFailure(c, runtimeLog) ?? startFailed(c, r.stderr.trim() || `status ${r.status}`);
  }
  // Health checks begin once the container runs; a restart (by policy or by hand) begins them anew.
  startHealthChecks(ctx, started, c.health);
  return ctx.containers.get(c.id) ?? started;
}

/**
 * A created container that is not to run after all: the runtime's part killed, the mounts undone,
 * and its monitor gone (it exits once it has reaped the init) before the caller goes on.
 */
async function abandon(ctx: EngineContext, c: ContainerRecord, monitorPid: number): Promise<void> {
  stopInRuntime(ctx, c);
  unmountRootfs(ctx, c.id);
  releaseUserNetworks(ctx, c);
  await processGone(monitorPid, 5_000);
}

/**
 * Mounts the root file system and, where the container has a network namespace of its own to
 * connect, makes and connects it (container-network.ts), in one shell in the namespaces. A network
 * that cannot be connected exits NETWORK_FAILED, told apart from a mount that failed.
 */
function mountRootfs(ctx: EngineContext, c: ContainerRecord, args: string[], network: string): void {
  const script = network
    ? `${MOUNT_ROOTFS} || exit 1; eval "\${${MOUNT_ROOTFS_ARGC + 1}}" || exit ${NETWORK_FAILED}`
    : MOUNT_ROOTFS;
  const r = runSync(ctx.ns.wrap(['sh', '-c', script, 'den-mount', ...args, ...(network ? [network] : [])]));
  if (r.status !== 0) {
    unmountRootfs(ctx, c.id);
    if (r.status === NETWORK_FAILED) throw networkSetupFailed(ctx, c, r.stderr.trim() || `status ${r.status}`);
    throw mountFailed(c, r.stderr.trim() || 'mount failed');
  }
}

function runtimeFailure(c: ContainerRecord, logFile: string): DenError | undefined {
  const failure = readRuntimeFailure(logFile);
  if (!failure) return undefined;
  return new DenError('FailedPrecondition', 'DEN0650', `OCI runtime ${c.config.runtime} failed: ${failure.message}`, {
    reason: failure.reason satisfies RuntimeFailureReason,
  });
}

function startFailed(c: ContainerRecord, message: string): DenError {
  return failedPrecondition('DEN1108', `container ${c.name}: the monitor could not start it: ${message}`, {
    hint: 'see `den system check`; DEN_DEBUG=1 shows more',
  });
}
