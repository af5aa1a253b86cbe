import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, DenError, errnoCode, failedPrecondition, unavailable } from '../../common/errors.js';
import { isActive, type ContainerRecord } from '../../containers/index.js';
import { AttachSocket, resizeMonitoredTerminal } from '../../monitor/index.js';
import type { EngineContext } from '../context.js';
import { containerEvent } from '../events.js';
import { forwardSignals, type AttachIO, type RunFailure } from './attached-runtime.js';
import { exitCodeOf, reconcile, settledRecord } from './container-state.js';
import { DetachScanner } from './detach-keys.js';
import { writeBundle } from './create-container.js';
import { startDetached } from './start-detached.js';
import { signalInit } from './stop-container.js';

/** `den attach` as the engine takes it. */
export interface AttachSpec {
  /** Attach den's stdin (docker's default; --no-stdin: not). It reaches a container that keeps one open (-i). */
  stdin: boolean;
  /** The detach sequence (parseDetachKeys), watched for on stdin when the container has a terminal, as docker does. */
  detachKeys: readonly number[];
  /** Forward den's signals to the container (--sig-proxy); never with a terminal, where keys are bytes, as docker. */
  sigProxy: boolean;
}

/** Where the container's output goes: its stdout and stderr apart, unless it has a terminal. */
export interface AttachStreams extends AttachIO {
  stderr: NodeJS.WritableStream;
}

/**
 * How an attach ended: the container exited (with its status), the detach keys were typed, or
 * den's output was closed (a reader that left); in the last two the container runs on.
 */
export type AttachOutcome = { ended: 'exit'; exitCode: number } | { ended: 'detach-keys' } | { ended: 'output-closed' };

/** How often den writes again what a full socket refused (the container is not reading its stdin). */
const RETRY_MS = 20;
/** How long after the monitor closed the connection the container's exit may take to be recorded. */
const EXIT_RECORD_MS = 10_000;

/**
 * `den attach`: den's stdio to a detached container's, through its monitor's attach socket
 * (monitor/attach-socket.ts), until the container exits (resolving with its exit status, read as
 * `den wait` does) or the detach keys are typed (the container runs on). With a terminal, den's
 * terminal is raw and its size follows den's; without, stdout and stderr stay apart and den's
 * signals go to the container.
 */
export async function attachContainer(
  ctx: EngineContext,
  ref: string,
  spec: AttachSpec,
  io: AttachStreams,
): Promise<AttachOutcome> {
  const c = attachable(ctx, reconcile(ctx, ctx.containers.resolve(ref)));
  checkTerminal(c, spec, io);
  return relay(ctx, c, connect(ctx, c), spec, io);
}

/**
 * `den start -a`: starts the container under its monitor, as `den start` does, attached from
 * before it runs (startDetached's beforeStart), so that all of its output is seen; detaching
 * leaves it running. A container that runs already is attached to, as docker's start -a does.
 */
export async function startAttached(
  ctx: EngineContext,
  ref: string,
  spec: AttachSpec,
  io: AttachStreams,
): Promise<AttachOutcome> {
  const c = await settledRecord(ctx, reconcile(ctx, ctx.containers.resolve(ref)));
  if (isActive(c.status) && c.status !== 'restarting') return attachContainer(ctx, ref, spec, io);
  checkTerminal(c, spec, io);
  if (c.config.tty && io.consoleSize) writeBundle(ctx, c, io.consoleSize, true); // its terminal made at den's size
  let socket: AttachSocket | undefined;
  const started = await startDetached(ctx, c, 'start', (created) => (socket = connect(ctx, created)));
  // Another den started it first: attach to it as it runs.
  if (socket === undefined) return attachContainer(ctx, ref, spec, io);
  return relay(ctx, started, socket, spec, io);
}

/** docker's refusal to attach a terminal's stdin to anything but a terminal (exit 1). */
function checkTerminal(c: ContainerRecord, spec: AttachSpec, io: AttachStreams): void {
  if (c.config.tty && spec.stdin && !io.stdinIsTTY) {
    throw new DenError('InvalidArgument', 'DEN0652', 'the input device is not a TTY', {
      hint: 'attach from a terminal, or without stdin',
      reason: 'not-a-tty' satisfies RunFailure,
    });
  }
}

async function relay(
  ctx: EngineContext,
  c: ContainerRecord,
  socket: AttachSocket,
  spec: AttachSpec,
  io: AttachStreams,
): Promise<AttachOutcome> {
  const tty = c.config.tty;
  const bundle = ctx.layout.bundle(c.id).dir;
  const attachStdin = spec.stdin && c.config.interactive;
  const rawMode = tty && attachStdin && io.stdinIsTTY && io.setRawMode;
  const cleanups: (() => void)[] = [() => socket.close()];
  try {
    if (tty && io.consoleSize) resizeMonitoredTerminal(bundle, io.consoleSize);
    if (tty && io.onResize) cleanups.push(io.onResize((size) => resizeMonitoredTerminal(bundle, size)));
    if (!tty && spec.sigProxy) cleanups.push(forwardSignals((sig) => signalInit(ctx, c, sig)));
    if (rawMode) {
      io.setRawMode!(true);
      cleanups.push(() => io.setRawMode!(false));
    }
    ctx.emit(containerEvent(c, 'attach'));
    const detached = attachStdin
      ? sendInput(socket, io.stdin, tty ? spec.detachKeys : [], cleanups, c.config.stdinOnce === true)
      : undefined;
    const output = relayOutput(socket, io);
    const ended = await Promise.race([output, detached ?? new Promise<never>(() => {})]);
    if (ended === 'detach-keys') ctx.emit(containerEvent(c, 'detach'));
    if (ended !== 'exit') return { ended };
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
  return { ended: 'exit', exitCode: await exitStatus(ctx, c) };
}

/**
 * The container if den can attach to it: running, under a monitor with an attach socket. One whose
 * exit its monitor wrote has stopped, though its exit command may not have recorded it yet.
 */
function attachable(ctx: EngineContext, c: ContainerRecord): ContainerRecord {
  const exited = c.status === 'running' && c.monitor === 'conmon' && exitCodeOf(ctx, c.id) !== undefined;
  if (c.status !== 'running' || exited) {
    const message =
      c.status === 'paused'
        ? 'You cannot attach to a paused container, unpause it first'
        : c.status === 'restarting'
          ? 'You cannot attach to a restarting container, wait until it is running'
          : 'You cannot attach to a stopped container, start it first';
    throw conflict('DEN1109', message, { reason: 'not-running' });
  }
  if (c.monitor !== 'conmon') {
    throw failedPrecondition(
      'DEN1123',
      `container ${c.name} runs attached to the den that started it (pid ${c.pid}): there is no monitor to attach to`,
      { hint: 'run it detached (den run -d, den start) to attach to it later' },
    );
  }
  return c;
}

function connect(ctx: EngineContext, c: ContainerRecord): AttachSocket {
  try {
    return AttachSocket.connect(ctx.layout.bundle(c.id).dir);
  } catch (e) {
    // The container may have exited since it was looked at: say so rather than blame the socket.
    const now = ctx.containers.get(c.id);
    if (now) attachable(ctx, reconcile(ctx, now));
    throw unavailable('DEN1124', `container ${c.name}: cannot connect to its monitor: ${(e as Error).message}`, {
      ...(errnoCode(e) === 'ENOENT' ? { hint: 'its monitor has no attach socket: restart it (den restart)' } : {}),
      cause: e,
    });
  }
}

/**
 * The container's output to den's stdout and stderr until the monitor ends the connection (at the
 * container's exit), or den's output is closed.
 */
async function relayOutput(socket: AttachSocket, io: AttachStreams): Promise<'exit' | 'output-closed'> {
  let broken = false;
  const onError = () => {
    broken = true;
    socket.close(); // den's output is gone (a reader that left): stop, as a closed terminal would
  };
  io.stdout.on('error', onError);
  io.stderr.on('error', onError);
  try {
    for (let packet; (packet = await socket.read()) !== undefined;) {
      const out = packet.stream === 'stderr' ? io.stderr : io.stdout;
      if (!out.write(packet.data) && !broken) await drained(out);
      if (broken) return 'output-closed';
    }
    return broken ? 'output-closed' : 'exit';
  } finally {
    // A failed write reports its error on a later tick: keep listening until it has.
    setImmediate(() => {
      io.stdout.off('error', onError);
      io.stderr.off('error', onError);
    });
  }
}

/** Resolves when `out` drained, or failed (its error is handled elsewhere). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

/**
 * Den's stdin to the container, through the detach scanner; resolves when the detach keys were
 * typed. What the socket cannot take now (the container reads slowly) is written again
 * later, stdin paused meanwhile. At the end of stdin the container's stays open, as docker's
 * attach leaves it (conmon runs with --leave-stdin-open).
 */
function sendInput(
  socket: AttachSocket,
  stdin: NodeJS.ReadableStream,
  detachKeys: readonly number[],
  cleanups: (() => void)[],
  endInput = false,
): Promise<'detach-keys'> {
  const scanner = new DetachScanner(detachKeys);
  let pending: Buffer = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;
  return new Promise<'detach-keys'>((resolve) => {
    const flush = () => {
      timer = undefined;
      try {
        pending = pending.subarray(socket.write(pending));
      } catch {
        pending = Buffer.alloc(0); // the connection is gone: the output side ends the attach
        return;
      }
      if (pending.length > 0) {
        stdin.pause();
        timer = setTimeout(flush, RETRY_MS);
      } else stdin.resume();
    };
    const onData = (chunk: Buffer | string) => {
      const { forward, detached } = scanner.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      pending = Buffer.concat([pending, forward]);
      if (timer === undefined) flush();
      if (detached) resolve('detach-keys');
    };
    // With StdinOnce the end of input is passed on (once what came before it is sent).
    const onEnd = () => {
      const send = () => (pending.length === 0 ? socket.endInput() : setTimeout(send, RETRY_MS));
      if (endInput) send();
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
    cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      if (timer !== undefined) clearTimeout(timer);
    });
  });
}

/**
 * The exit status of the container whose output ended: the one its monitor writes (the
 * connection closes just before), else what is recorded (its monitor died: reconcile's).
 */
async function exitStatus(ctx: EngineContext, c: ContainerRecord): Promise<number> {
  const deadline = Date.now() + EXIT_RECORD_MS;
  let written: number | undefined;
  for (;;) {
    written ??= exitCodeOf(ctx, c.id);
    const now = ctx.containers.get(c.id);
    if (!now) return written ?? 0;
    // The monitor wrote the status; its exit command records it a moment later. Return once it
    // has, as docker's start -a does: a `den rm` right after must find the container exited.
    if (written !== undefined) {
      if (!isActive(now.status) || now.status === 'restarting' || now.startedAt !== c.startedAt) return written;
      if (Date.now() > deadline) return written;
      await sleep(RETRY_MS);
      continue;
    }
    const seen = reconcile(ctx, now);
    // Exited, or already in its restart policy's back-off or running again: its last status.
    if (!isActive(seen.status) || seen.status === 'restarting' || seen.startedAt !== c.startedAt) {
      return seen.exitCode ?? 0;
    }
    if (Date.now() > deadline) {
      throw unavailable('DEN1124', `container ${c.name}: its monitor closed the connection, and it still runs`, {
        hint: `attach again (den attach ${c.name}), or see its output with den logs`,
      });
    }
    await sleep(RETRY_MS);
  }
}
