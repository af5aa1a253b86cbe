import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../../common/errors.js';
import { readTextOrEmpty } from '../../common/fs.js';
import { trace } from '../../common/trace.js';
import type { ContainerRecord } from '../../containers/index.js';
import { readRuntimeFailure, type OciRuntime } from '../../runtime/index.js';
import { processStartTime } from '../../session/index.js';
import type { EngineContext } from '../context.js';
import { writeBundle } from './create-container.js';
import { discardContainer, isLifecycleRace } from './container-state.js';
import { startHealthChecks, stopHealthChecks } from './health-scheduler.js';
import { MOUNT_ROOTFS, MOUNT_ROOTFS_ARGC, unmountRootfs } from '../../snapshots/index.js';
import { mountFailed, rootfsMountArgs } from './rootfs-mount.js';
import { findRuntime } from '../runtimes.js';
import {
  connectNetwork,
  connectUserNetworks,
  networkSetupFailed,
  prepareNetwork,
  releaseUserNetworks,
} from './container-network.js';
import { attachedTerminal, runtimeAttached, type AttachIO, type RunFailure } from './attached-runtime.js';

export type { AttachIO, RunFailure } from './attached-runtime.js';

/**
 * One process enters the namespaces, mounts the container's root file system and becomes the OCI
 * runtime (exec keeps its pid, so signals sent to it reach the runtime). A mount failure is told
 * apart from the container's own exit status by the log it leaves (emptied when the mounts worked,
 * by the shell itself: no rm). When the container has gone, the runtime's poststop hook unmounts
 * (snapshots' rootfsCleanupHook), so an attached run starts no process from Node but this one.
 * The same shell makes and connects the container's network namespace (NETWORK, possibly empty:
 * container-network.ts) before the runtime runs; that failing leaves NETWORK_FAILED in the log.
 *   sh -c MOUNT_AND_RUN den-start MOUNT_LOG NETWORK MOUNT_ROOTFS_ARGS(8) RUNTIME_ARGV...
 */
const NETWORK_FAILED = 'den: the network setup failed';
const MOUNT_AND_RUN = `
log=$1; net=$2; shift 2
${MOUNT_ROOTFS} > /dev/null 2> "$log" || { [ -s "$log" ] || echo "mount failed" > "$log"; exit 125; }
: > "$log"
[ -z "$net" ] || eval "$net" || { echo "${NETWORK_FAILED}" > "$log"; exit 125; }
shift ${MOUNT_ROOTFS_ARGC}
exec "$@"
`;

/**
 * Starts a created container and stays attached until it exits: the runtime's stdio is den's own,
 * so container output never passes through Node.js. Returns the container's exit status; the
 * runtime's own failures become DenErrors with a RunFailure reason. Whatever happens,
 * the overlay is unmounted afterwards, and a --rm container is removed.
 */
export async function runAttached(ctx: EngineContext, container: ContainerRecord, io: AttachIO): Promise<number> {
  let c = container;
  let status: number;
  let failure: DenError | undefined;
  // Signals keep being handled until den has cleaned up: a hangup or a second ^C after the
  // container exited must not kill den half-way through unmounting and removing it.
  let releaseSignals = () => {};
  try {
    const runtime = findRuntime(ctx, c.config.runtime);
    c = prepareTerminal(ctx, c, io, runtime);
    status = await startAndWait(ctx, c, io, runtime, (release) => (releaseSignals = release));
  } catch (e) {
    finishRun(ctx, c, null);
    releaseSignals();
    throw e;
  }
  const b = ctx.layout.bundle(c.id);
  const mountError = readTextOrEmpty(join(b.dir, 'mount.log')).trim();
  if (mountError === NETWORK_FAILED) {
    failure = networkSetupFailed(ctx, c, 'the network helper failed');
  } else if (mountError) {
    failure = mountFailed(c, mountError);
  } else {
    const runtimeFailure = readRuntimeFailure(join(b.dir, 'runtime.log'));
    if (runtimeFailure) {
      failure = new DenError(
        'FailedPrecondition',
        'DEN0650',
        `OCI runtime ${c.config.runtime} failed: ${runtimeFailure.message}`,
        { reason: runtimeFailure.reason satisfies RunFailure },
      );
    }
  }
  finishRun(ctx, c, failure ? null : status);
  releaseSignals();
  trace('cleaned up');
  if (failure) throw failure;
  return status;
}

/** The container's terminal as it will run (attached-runtime.ts attachedTerminal), and its size, in its bundle. */
function prepareTerminal(ctx: EngineContext, c: ContainerRecord, io: AttachIO, runtime: OciRuntime): ContainerRecord {
  if (!c.config.tty) return c;
  if (!attachedTerminal(ctx, c.config, io, runtime, c.config.runtime)) {
    const plain = { ...c, config: { ...c.config, tty: false } };
    writeBundle(ctx, plain, undefined, true);
    return plain;
  }
  if (io.consoleSize) writeBundle(ctx, c, io.consoleSize, true);
  return c;
}

async function startAndWait(
  ctx: EngineContext,
  c: ContainerRecord,
  io: AttachIO,
  runtime: OciRuntime,
  onFinished: (release: () => void) => void,
): Promise<number> {
  const b = ctx.layout.bundle(c.id);
  const logFile = join(b.dir, 'runtime.log');
  const mountLog = join(b.dir, 'mount.log');
  rmSync(logFile, { force: true });
  rmSync(mountLog, { force: true });
  const net = await prepareNetwork(ctx, c);
  if (net.driver.mode.kind === 'container') writeBundle(ctx, c, undefined, true);
  // What only den can connect (slirp4netns's ports) must be there before the container runs: the
  // namespace is made by a shell of its own first, and the runtime's shell has nothing to do for it.
  let networkScript = net.script;
  if (net.driver.connectsFromDen(net.setup)) {
    connectNetwork(ctx, c, net.script);
    try {
      await net.driver.connected(net.setup);
      connectUserNetworks(ctx, c, net.setup);
    } catch (e) {
      unmountRootfs(ctx, c.id);
      releaseUserNetworks(ctx, c);
      throw e;
    }
    networkScript = '';
  }
  return runtimeAttached(ctx, {
    containerId: c.id,
    tty: c.config.tty,
    interactive: c.config.interactive,
    io,
    runtime,
    argv: async (consoleSocket) =>
      ctx.ns.wrap([
        'sh',
        '-c',
        MOUNT_AND_RUN,
        'den-start',
        mountLog,
        networkScript,
        ...(await rootfsMountArgs(ctx, c, c.config.autoRemove)),
        ...runtime.runArgv(c.id, b.dir, { logFile, pidFile: b.pid, ...(consoleSocket ? { consoleSocket } : {}) }),
      ]),
    spawned: () => {
      const started = ctx.containers.transition(c.id, 'start', {
        monitorPid: process.pid,
        monitorStart: processStartTime(process.pid) ?? '',
        monitor: 'attached',
      });
      // Probed as a detached container is, by a loop of its own (docker checks attached ones too).
      startHealthChecks(ctx, started, c.health);
    },
    onFinished,
  });
}

/**
 * After the container exited (exitCode), or a start that failed (null): unmount, and record the
 * exit or (--rm) remove everything. A record another den moved on meanwhile (rm -f removing it)
 * is left as that den made it.
 */
function finishRun(ctx: EngineContext, c: ContainerRecord, exitCode: number | null): void {
  stopHealthChecks(ctx, c.id);
  if (c.config.autoRemove) {
    discardContainer(ctx, c);
    return;
  }
  unmountRootfs(ctx, c.id);
  releaseUserNetworks(ctx, c);
  try {
    if (exitCode === null) ctx.containers.transition(c.id, 'fail', { exitCode });
    else ctx.containers.transition(c.id, 'exit', { exitCode });
  } catch (e) {
    if (!isLifecycleRace(e)) throw e;
  }
}
