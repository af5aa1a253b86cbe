import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../../common/errors.js';
import { signalNumber } from '../../common/exec.js';
import { readdirOrEmpty, readTextOrEmpty } from '../../common/fs.js';
import { trace } from '../../common/trace.js';
import type { ContainerRecord } from '../../containers/index.js';
import { ConsoleSocket, readRuntimeFailure, type OciRuntime, type RuntimeFailureReason } from '../../runtime/index.js';
import { processStartTime } from '../../session/index.js';
import type { EngineContext } from '../context.js';
import { writeBundle } from './create-container.js';
import { discardContainer, isLifecycleRace } from './container-state.js';
import { MOUNT_ROOTFS, ownerAliveOfName, ownerTag, unmountRootfs } from '../../snapshots/index.js';
import { rootfsMountArgs } from './rootfs-mount.js';
import { findRuntime } from '../runtimes.js';
import { relayTerminal, type TerminalIO } from './terminal-relay.js';

/** Without -t the runtime's stdio is den's own; with -t den relays the container's terminal (TerminalIO). */
export interface AttachIO extends TerminalIO {
  /** Whether den's stdin is a terminal (raw mode for -it, and who gets terminal signals). */
  stdinIsTTY: boolean;
  consoleSize?: { height: number; width: number };
  setRawMode?: (raw: boolean) => void;
}

/**
 * Why `runAttached` failed, where a caller may care (docker gives each its own exit status): the
 * runtime's reasons (the command missing, the command not runnable, the runtime's own failure),
 * and `-it` without a terminal.
 */
export type RunFailure = RuntimeFailureReason | 'not-a-tty';

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

/**
 * -it needs a terminal on den's stdin to read keys from. -t alone does not: the container still
 * gets a pseudo-terminal and den relays its output, as docker does. A runtime that relays the
 * terminal itself (runc) needs one on its stdin, though; without, the container runs without.
 */
function prepareTerminal(ctx: EngineContext, c: ContainerRecord, io: AttachIO, runtime: OciRuntime): ContainerRecord {
  if (!c.config.tty) return c;
  if (!io.stdinIsTTY && c.config.interactive) {
    throw new DenError('InvalidArgument', 'DEN0652', 'the input device is not a TTY', {
      hint: 'drop -t, or run den from a terminal',
      reason: 'not-a-tty' satisfies RunFailure,
    });
  }
  if (!io.stdinIsTTY && !runtime.features.sendsTerminalWhenAttached) {
    ctx.events.warning(`-t without a terminal on stdin: ${c.config.runtime} cannot relay one; running without`);
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
  runtime: OciRuntime,
  onFinished: (release: () => void) => void,
): Promise<number> {
  const b = ctx.layout.bundle(c.id);
  const logFile = join(b.dir, 'runtime.log');
  const mountLog = join(b.dir, 'mount.log');
  rmSync(logFile, { force: true });
  rmSync(mountLog, { force: true });
  // With -t den relays the container's terminal, which the runtime sends to a console socket; a
  // runtime that will not (runc) relays it itself, from den's stdin and stdout.
  const denRelays = c.config.tty && runtime.features.sendsTerminalWhenAttached;
  const consoleSocket = denRelays ? listenForConsole(ctx, c) : undefined;
  // The runtime's stdin is den's when the container reads it as it is (-i without -t) or the
  // runtime relays the terminal. Reading a terminal, the runtime must be in the terminal's
  // foreground process group, and it then gets the terminal's signals itself. Otherwise it gets a
  // group of its own and den forwards signals to it.
  const readsStdin = c.config.tty ? !denRelays : c.config.interactive;
  const sharesTerminal = readsStdin && io.stdinIsTTY;
  let child: ChildProcess;
  try {
    const runtimeArgv = runtime.runArgv(c.id, b.dir, {
      logFile,
      pidFile: b.pid,
      ...(consoleSocket ? { consoleSocket: consoleSocket.path } : {}),
    });
    const [file, ...args] = ctx.ns.wrap([
      'sh',
      '-c',
      MOUNT_AND_RUN,
      'den-start',
      mountLog,
      ...(await rootfsMountArgs(ctx, c, c.config.autoRemove)),
      ...runtimeArgv,
    ]);
    trace('starting');
    child = spawn(file!, args, {
      stdio: [readsStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      detached: !sharesTerminal,
    });
  } catch (e) {
    consoleSocket?.close();
    throw e;
  }
  const forwarding = forwardSignals((sig) => {
    if (sharesTerminal && TERMINAL_SIGNALS.has(sig)) return; // it has it already
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
  onFinished(forwarding);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
  // Keys go to the container raw (^C is a byte its terminal turns into SIGINT) when they go to it
  // at all: with -it, or whenever the runtime relays. With -t alone den does not read its
  // terminal, and ^C must still reach den to be forwarded.
  const rawMode = c.config.tty && io.stdinIsTTY && (c.config.interactive || !denRelays) && io.setRawMode;
  try {
    if (rawMode) io.setRawMode!(true);
    ctx.containers.transition(c.id, 'start', {
      monitorPid: process.pid,
      monitorStart: processStartTime(process.pid) ?? '',
      monitor: 'attached',
    });
    const relayed = consoleSocket ? relayTerminal(consoleSocket, io, c.config.interactive, exited) : Promise.resolve();
    relayed.catch(() => {}); // awaited below, once the container has exited
    const status = await exited;
    await relayed;
    return status;
  } finally {
    consoleSocket?.close();
    if (rawMode) io.setRawMode!(false);
    trace('runtime exited');
  }
}

/**
 * Where the runtime sends the container's terminal: a socket in den's runtime directory named for
 * its owner (sockets of dens that were killed are removed here) and the container.
 */
function listenForConsole(ctx: EngineContext, c: ContainerRecord): ConsoleSocket {
  const dir = join(ctx.paths.runtimeDir, 'consoles');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirOrEmpty(dir)) {
    if (!ownerAliveOfName(name)) rmSync(join(dir, name), { force: true });
  }
  const path = join(dir, `${ownerTag()}-${c.id.slice(0, 12)}`);
  rmSync(path, { force: true });
  try {
    return ConsoleSocket.listen(path);
  } catch (e) {
    throw new DenError(
      'FailedPrecondition',
      'DEN0653',
      `cannot make the container's terminal: ${(e as Error).message}`,
      {
        hint: "set DEN_RUNTIME_DIR to a short directory of your own (it holds den's sockets), or run without -t",
      },
    );
  }
}

/** Routes FORWARDED signals to `forward` until the returned function is called. */
function forwardSignals(forward: (sig: NodeJS.Signals) => void): () => void {
  const handlers = FORWARDED.map((sig) => [sig, () => forward(sig)] as const);
  for (const [sig, handler] of handlers) process.on(sig, handler);
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

/**
 * After the container exited (exitCode), or a start that failed (null): unmount, and record the
 * exit or (--rm) remove everything. A record another den moved on meanwhile (rm -f removing it)
 * is left as that den made it.
 */
function finishRun(ctx: EngineContext, c: ContainerRecord, exitCode: number | null): void {
  if (c.config.autoRemove) {
    discardContainer(ctx, c);
    return;
  }
  unmountRootfs(ctx, c.id);
  try {
    if (exitCode === null) ctx.containers.transition(c.id, 'fail', { exitCode });
    else ctx.containers.transition(c.id, 'exit', { exitCode });
  } catch (e) {
    if (!isLifecycleRace(e)) throw e;
  }
}
