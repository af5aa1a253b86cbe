import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { signalNumber } from '../common/exec.js';
import { readTextOrEmpty } from '../common/fs.js';
import { trace } from '../common/trace.js';
import type { ContainerRecord } from '../containers/index.js';
import { OciRuntime } from '../runtime/index.js';
import { processStartTime } from '../session/index.js';
import type { EngineContext } from './context.js';
import { writeBundle } from './create-container.js';
import { discardContainer } from './remove-container.js';
import { unmountContainer } from './idmapped-layers.js';
import { MOUNT_ROOTFS, rootfsMountArgs } from './rootfs-mount.js';
import { findRuntime } from './runtimes.js';
import { ensureShiftedLayers } from './shifted-layers.js';

export interface AttachIO {
  /** Whether den's stdin is a terminal (raw mode for -t, and who gets terminal signals). */
  stdinIsTTY: boolean;
  consoleSize?: { height: number; width: number };
  /** Calls back with the new size whenever den's terminal is resized; returns the unsubscribe. */
  onResize?: (resized: (size: { height: number; width: number }) => void) => () => void;
  setRawMode?: (raw: boolean) => void;
}

/** Signals den passes on to the container (docker's --sig-proxy), by way of the runtime. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT'];
/** Signals a terminal sends to its whole foreground process group. */
const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

/**
 * One process enters the namespaces, mounts the container's root file system and becomes the OCI
 * runtime (exec keeps its pid, so signals sent to it reach the runtime). A mount failure is told
 * apart from the container's own exit status by the log it leaves (removed when the mounts worked).
 *   sh -c MOUNT_AND_RUN den-start MOUNT_LOG MOUNT_ROOTFS_ARGS(6) RUNTIME_ARGV...
 */
const MOUNT_AND_RUN = `
log=$1; shift
${MOUNT_ROOTFS} > /dev/null 2> "$log" || { [ -s "$log" ] || echo "mount failed" > "$log"; exit 125; }
rm -f "$log"
shift 6
exec "$@"
`;

/**
 * Starts a created container and stays attached until it exits: the runtime's stdio is den's own,
 * so container output never passes through Node.js. Returns the container's exit status; the
 * runtime's own failures become DenErrors with docker's codes (125, 126, 127). Whatever happens,
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
    c = prepareTerminal(ctx, c, io);
    status = await startAndWait(ctx, c, io, (release) => (releaseSignals = release));
  } catch (e) {
    finishRun(ctx, c, null);
    releaseSignals();
    throw e;
  }
  const b = ctx.layout.bundle(c.id);
  const mountError = readTextOrEmpty(join(b.dir, 'mount.log')).trim();
  if (mountError) {
    failure = new DenError(
      'FailedPrecondition',
      'DEN0651',
      `container ${c.name}: cannot mount its root file system: ${mountError}`,
      {
        hint: 'run `den system check` to see whether overlay mounts work here',
      },
    );
  } else {
    const runtimeFailure = OciRuntime.readFailure(join(b.dir, 'runtime.log'));
    if (runtimeFailure) {
      failure = new DenError(
        'FailedPrecondition',
        'DEN0650',
        `OCI runtime ${c.config.runtime} failed: ${runtimeFailure.message}`,
        {
          exitCode: runtimeFailure.exitCode,
        },
      );
    }
  }
  finishRun(ctx, c, failure ? null : status);
  releaseSignals();
  trace('cleaned up');
  if (failure) throw failure;
  return status;
}

/** -t needs a terminal on den's stdin for the runtime to relay; the container gets its size. */
function prepareTerminal(ctx: EngineContext, c: ContainerRecord, io: AttachIO): ContainerRecord {
  if (!c.config.tty) return c;
  if (!io.stdinIsTTY) {
    if (c.config.interactive) {
      throw new DenError('InvalidArgument', 'DEN0652', 'the input device is not a TTY', {
        hint: 'drop -t, or run den from a terminal',
        exitCode: 1,
      });
    }
    // Without a terminal to relay, the container runs with plain stdio, as it would without -t.
    process.stderr.write('warning: -t without a terminal on stdin: running without a pseudo-terminal\n');
    const plain = { ...c, config: { ...c.config, tty: false } };
    writeBundle(ctx, plain);
    return plain;
  }
  if (io.consoleSize) writeBundle(ctx, c, io.consoleSize);
  return c;
}

async function startAndWait(
  ctx: EngineContext,
  c: ContainerRecord,
  io: AttachIO,
  onFinished: (release: () => void) => void,
): Promise<number> {
  const b = ctx.layout.bundle(c.id);
  const runtime = findRuntime(ctx, c.config.runtime);
  const logFile = join(b.dir, 'runtime.log');
  const mountLog = join(b.dir, 'mount.log');
  rmSync(logFile, { force: true });
  rmSync(mountLog, { force: true });
  const runtimeArgv = runtime.runArgv(c.id, b.dir, logFile, join(b.dir, 'pid'));
  // Made at create time; made again if they went since (removed by hand): a no-op otherwise.
  if (c.config.shiftMethod === 'copy') await ensureShiftedLayers(ctx, c);
  const [file, ...args] = ctx.ns.wrap([
    'sh',
    '-c',
    MOUNT_AND_RUN,
    'den-start',
    mountLog,
    ...rootfsMountArgs(ctx, c, c.config.autoRemove),
    ...runtimeArgv,
  ]);
  trace('starting');
  // A child reading a terminal must be in the terminal's foreground process group; it then gets
  // the terminal's signals itself. Otherwise it gets a group of its own and den forwards them.
  const sharesTerminal = io.stdinIsTTY && (c.config.tty || c.config.interactive);
  // With -t the runtime relays the terminal itself and needs it on its stdin, -i or not.
  const child = spawn(file!, args, {
    stdio: [c.config.interactive || c.config.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    detached: !sharesTerminal,
  });
  const forwarding = forwardSignals((sig) => {
    if (sharesTerminal && TERMINAL_SIGNALS.has(sig)) return; // it has it already
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
  onFinished(forwarding);
  const rawMode = c.config.tty && io.stdinIsTTY && io.setRawMode;
  const stopResizing = c.config.tty && io.onResize ? io.onResize((size) => resizeConsole(b.dir, size)) : undefined;
  try {
    if (rawMode) io.setRawMode!(true);
    ctx.containers.markRunning(c.id, process.pid, processStartTime(process.pid) ?? '');
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
  } finally {
    if (rawMode) io.setRawMode!(false);
    stopResizing?.();
    trace('runtime exited');
  }
}

/**
 * The runtime relays the container's console but does not pass on window size changes, so den sets
 * the size on the console itself: the container's init has it as stdin, and /proc/PID/fd/0 opens it
 * (den is the same user as the container's root, so it may). The kernel then sends SIGWINCH to the
 * container's foreground process group, as on any terminal.
 */
function resizeConsole(bundleDir: string, size: { height: number; width: number }): void {
  const pid = readTextOrEmpty(join(bundleDir, 'pid')).trim();
  if (!/^[0-9]+$/.test(pid)) return;
  const child = spawn('stty', ['-F', `/proc/${pid}/fd/0`, 'rows', String(size.height), 'cols', String(size.width)], {
    stdio: 'ignore',
  });
  child.on('error', () => {}); // best effort: a resize lost is not worth failing the container for
}

/** Routes FORWARDED signals to `forward` until the returned function is called. */
function forwardSignals(forward: (sig: NodeJS.Signals) => void): () => void {
  const handlers = FORWARDED.map((sig) => [sig, () => forward(sig)] as const);
  for (const [sig, handler] of handlers) process.on(sig, handler);
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

/** After the container exited: unmount, and record the exit or (--rm) remove everything. */
function finishRun(ctx: EngineContext, c: ContainerRecord, exitCode: number | null): void {
  if (c.config.autoRemove) {
    discardContainer(ctx, c);
    return;
  }
  unmountContainer(ctx, c.id);
  ctx.containers.markExited(c.id, exitCode);
}
