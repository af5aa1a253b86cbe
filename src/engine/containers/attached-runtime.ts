import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../../common/errors.js';
import { signalNumber } from '../../common/exec.js';
import { readdirOrEmpty } from '../../common/fs.js';
import { trace } from '../../common/trace.js';
import { ConsoleSocket, type OciRuntime, type RuntimeFailureReason } from '../../runtime/index.js';
import { ownerAliveOfName, ownerTag } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { relayTerminal, type TerminalIO } from './terminal-relay.js';

/**
 * A runtime call den stays attached to until the process it runs exits: `run` of a container,
 * `exec` of one more process in it. Both share how den's stdio, terminal and signals reach the
 * process, here.
 */

/** Without -t the runtime's stdio is den's own; with -t den relays the process's terminal (TerminalIO). */
export interface AttachIO extends TerminalIO {
  /** Whether den's stdin is a terminal (raw mode for -it, and who gets terminal signals). */
  stdinIsTTY: boolean;
  consoleSize?: { height: number; width: number };
  setRawMode?: (raw: boolean) => void;
  /**
   * The caller's streams are not den's own stdio (an API server's connection): the runtime's
   * stdio are pipes relayed to `stdin`, `stdout` and this stderr, and den's own signals are not
   * forwarded (they are the server's). Absent: the runtime gets den's stdio, as the CLI wants.
   */
  piped?: { stderr: NodeJS.WritableStream };
}

/**
 * Why an attached run or exec failed, where a caller may care (docker gives each its own exit
 * status): the runtime's reasons (the command missing, the command not runnable, the runtime's
 * own failure), and `-it` without a terminal.
 */
export type RunFailure = RuntimeFailureReason | 'not-a-tty';

/** Signals den passes on to the process (docker's --sig-proxy), by way of the runtime. */
export const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT'];
/** Signals a terminal sends to its whole foreground process group. */
const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

/**
 * Whether the process gets a terminal, for -t (`tty`) with or without -i. -it needs a terminal on
 * den's stdin to read keys from (docker's "the input device is not a TTY", exit 1). -t alone does
 * not: the process still gets a pseudo-terminal and den relays its output, as docker does. A
 * runtime that relays the terminal itself (runc) needs one on its stdin, though; without, the
 * process runs without a terminal, and a warning says so.
 */
export function attachedTerminal(
  ctx: EngineContext,
  wanted: { tty: boolean; interactive: boolean },
  io: AttachIO,
  runtime: OciRuntime,
  runtimeName: string,
): boolean {
  if (!wanted.tty) return false;
  if (!io.stdinIsTTY && wanted.interactive) {
    throw new DenError('InvalidArgument', 'DEN0652', 'the input device is not a TTY', {
      hint: 'drop -t, or run den from a terminal',
      reason: 'not-a-tty' satisfies RunFailure,
    });
  }
  if (!io.stdinIsTTY && !runtime.features.sendsTerminalWhenAttached) {
    ctx.events.warning(`-t without a terminal on stdin: ${runtimeName} cannot relay one; running without`);
    return false;
  }
  return true;
}

export interface AttachedCall {
  /** Names the console socket: the container's id. */
  containerId: string;
  /** Whether the process has a terminal (attachedTerminal) and reads den's stdin (-i). */
  tty: boolean;
  interactive: boolean;
  io: AttachIO;
  runtime: OciRuntime;
  /** The argv to spawn (wrapped into the namespaces), given the console socket when den relays the terminal. */
  argv(consoleSocket: string | undefined): Promise<string[]>;
  /** Runs once the runtime is spawned, before den waits for it (`run` records the start here). */
  spawned?(): void;
  /**
   * Receives the function that stops forwarding signals: the caller calls it once it has cleaned
   * up, so that a hangup or a second ^C after the process exited cannot kill den half-way.
   */
  onFinished(release: () => void): void;
}

/**
 * Spawns the runtime attached to den: the process's output never passes through Node.js without
 * a terminal (the runtime gets den's stdio); with one, the runtime sends it to a console socket
 * and den relays it (terminal-relay.ts), reading it to the end after the process exited. Signals
 * den receives are forwarded to the runtime, which passes them on. Resolves with the runtime's
 * exit status (the process's, unless the runtime itself failed: its log tells).
 */
export async function runtimeAttached(ctx: EngineContext, call: AttachedCall): Promise<number> {
  const { io, runtime } = call;
  // With -t den relays the terminal, which the runtime sends to a console socket; a runtime that
  // will not (runc) relays it itself, from den's stdin and stdout.
  const denRelays = call.tty && runtime.features.sendsTerminalWhenAttached;
  const consoleSocket = denRelays ? listenForConsole(ctx, call.containerId) : undefined;
  // The runtime's stdin is den's when the process reads it as it is (-i without -t) or the
  // runtime relays the terminal. Reading a terminal, the runtime must be in the terminal's
  // foreground process group, and it then gets the terminal's signals itself. Otherwise it gets a
  // group of its own and den forwards signals to it.
  const readsStdin = call.tty ? !denRelays : call.interactive;
  const sharesTerminal = readsStdin && io.stdinIsTTY;
  const piped = io.piped;
  let child: ChildProcess;
  try {
    const [file, ...args] = await call.argv(consoleSocket?.path);
    trace('starting');
    child = spawn(file!, args, {
      stdio: piped
        ? [readsStdin ? 'pipe' : 'ignore', 'pipe', 'pipe']
        : [readsStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      detached: !sharesTerminal,
    });
  } catch (e) {
    consoleSocket?.close();
    throw e;
  }
  // Piped, the output is read to its end before the call resolves, and stdin's end closes the process's.
  const drained = piped ? relayPipes(child, io, piped.stderr) : Promise.resolve();
  const forwarding = piped
    ? () => {}
    : forwardSignals((sig) => {
        if (sharesTerminal && TERMINAL_SIGNALS.has(sig)) return; // it has it already
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      });
  call.onFinished(forwarding);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
  // Keys go to the process raw (^C is a byte its terminal turns into SIGINT) when they go to it
  // at all: with -it, or whenever the runtime relays. With -t alone den does not read its
  // terminal, and ^C must still reach den to be forwarded.
  const rawMode = call.tty && io.stdinIsTTY && (call.interactive || !denRelays) && io.setRawMode;
  try {
    if (rawMode) io.setRawMode!(true);
    call.spawned?.();
    const relayed = consoleSocket ? relayTerminal(consoleSocket, io, call.interactive, exited) : Promise.resolve();
    relayed.catch(() => {}); // awaited below, once the process has exited
    const status = await exited;
    await relayed;
    await drained;
    return status;
  } finally {
    consoleSocket?.close();
    if (rawMode) io.setRawMode!(false);
    trace('runtime exited');
  }
}

/** The runtime's piped stdio to the caller's streams; resolves when its output ended. */
function relayPipes(child: ChildProcess, io: AttachIO, stderr: NodeJS.WritableStream): Promise<void> {
  if (child.stdin) {
    io.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {}); // the process closed its stdin: what it was sent no longer matters
  }
  const pipeTo = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream) =>
    new Promise<void>((resolve) => {
      if (!from) return resolve();
      from.on('end', resolve);
      from.on('error', () => resolve());
      from.pipe(to, { end: false });
    });
  return Promise.all([pipeTo(child.stdout, io.stdout), pipeTo(child.stderr, stderr)]).then(() => {
    if (child.stdin) io.stdin.unpipe(child.stdin);
  });
}

/**
 * Where the runtime sends the process's terminal: a socket in den's runtime directory named for
 * its owner (sockets of dens that were killed are removed here) and the container.
 */
export function listenForConsole(ctx: EngineContext, containerId: string): ConsoleSocket {
  const dir = join(ctx.paths.runtimeDir, 'consoles');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirOrEmpty(dir)) {
    if (!ownerAliveOfName(name)) rmSync(join(dir, name), { force: true });
  }
  const path = join(dir, `${ownerTag()}-${containerId.slice(0, 12)}`);
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
export function forwardSignals(forward: (sig: NodeJS.Signals) => void): () => void {
  const handlers = FORWARDED.map((sig) => [sig, () => forward(sig)] as const);
  for (const [sig, handler] of handlers) process.on(sig, handler);
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}
