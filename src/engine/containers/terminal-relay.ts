import { closeSync, readSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { ConsoleSocket, duplicateDescriptor, setTerminalSize } from '../../runtime/index.js';

export interface TerminalIO {
  /** Where the container's terminal output goes. */
  stdout: NodeJS.WritableStream;
  /** What goes to the container's terminal, with -i. */
  stdin: NodeJS.ReadableStream;
  /** Calls back with the new size whenever den's terminal is resized; returns the unsubscribe. */
  onResize?: (resized: (size: { height: number; width: number }) => void) => () => void;
  /**
   * Called when the relay starts, to stop `stdout` from processing the output again (a terminal
   * would turn the container terminal's "\r\n" into "\r\r\n"); returns what undoes that.
   */
  rawOutput?: () => () => void;
}

/**
 * How long output may keep coming after the runtime exited. Every process of the container is gone
 * by then (init's exit ended its pid namespace), so the terminal ends at once; the bound is for a
 * process that is not the container's and still holds its terminal, such as a debugger.
 */
const AFTER_EXIT_MS = 2000;

/**
 * Relays the container's terminal once the runtime sent it over `socket`: its output to
 * `io.stdout`, `io.stdin` to it with -i, and den's window size changes to it (the kernel then
 * sends SIGWINCH to the container's foreground processes). Resolves when everything the container
 * wrote has been passed on, however shortly before its exit it wrote it.
 */
export async function relayTerminal(
  socket: ConsoleSocket,
  io: TerminalIO,
  interactive: boolean,
  runtimeExited: Promise<unknown>,
): Promise<void> {
  // A runtime that fails before making the terminal never connects: its exit stops the wait.
  void runtimeExited.then(
    () => socket.stopWaiting(),
    () => socket.stopWaiting(),
  );
  const master = await socket.receive();
  if (master === undefined) return;
  // libuv ends a stream when the peer hangs up and its last read was short. A terminal's reads are
  // always short (its line discipline passes on 4 KiB at a time) while more may wait in the
  // kernel, so the stream can end with output unread. den keeps a descriptor of its own to read
  // that rest after the stream ended.
  let rest: number;
  let terminal: ReadStream;
  try {
    rest = duplicateDescriptor(master);
  } catch (e) {
    closeSync(master);
    throw e;
  }
  try {
    terminal = new ReadStream(master);
  } catch (e) {
    closeSync(master);
    closeSync(rest);
    throw e;
  }
  const stopResizing = io.onResize?.((size) => setTerminalSize(rest, size));
  const restoreOutput = io.rawOutput?.();
  if (interactive) io.stdin.pipe(terminal, { end: false });
  terminal.pipe(io.stdout, { end: false });
  // Where the output cannot go (den's stdout a pipe whose reader left), the terminal is hung up, as
  // when an ssh connection drops: closing its last master descriptor sends SIGHUP to the
  // container's processes, where a relay that stopped reading would leave them blocked forever.
  let outputBroken = false;
  const onOutputError = (): void => {
    outputBroken = true;
    terminal.destroy();
  };
  io.stdout.on('error', onOutputError);
  const ended = new Promise<void>((resolve) => {
    terminal.once('end', resolve);
    terminal.once('close', resolve);
    // EIO: the container's side is closed and read to the end. Kept listening: keys typed after it
    // are written to the closed terminal, and each write fails again.
    terminal.on('error', () => resolve());
  });
  const bounded = runtimeExited.then(
    () => new Promise<void>((resolve) => setTimeout(resolve, AFTER_EXIT_MS).unref()),
    () => {},
  );
  try {
    await Promise.race([ended, bounded]);
  } finally {
    stopResizing?.();
    if (interactive) {
      io.stdin.unpipe(terminal);
      io.stdin.pause();
    }
    terminal.unpipe(io.stdout);
    try {
      if (!outputBroken) {
        // What the stream read but had not passed on yet (it was paused by a slow stdout)...
        for (let chunk: unknown; (chunk = terminal.read()) !== null;) io.stdout.write(chunk as Buffer);
        // ...and what it never read.
        drainTerminal(rest, io.stdout);
      }
    } finally {
      terminal.destroy();
      closeSync(rest);
      restoreOutput?.();
      // A failed write reports its error on a later tick: keep listening until it has.
      setImmediate(() => io.stdout.off('error', onOutputError));
    }
  }
}

/**
 * Passes on what is left to read on a terminal whose other side closed: reads until the kernel
 * says EIO (closed and empty). The descriptor is non-blocking (libuv made it so), so a terminal
 * still held open elsewhere gives EAGAIN rather than a wait, and that ends the drain too.
 */
function drainTerminal(fd: number, out: NodeJS.WritableStream): void {
  const buffer = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch {
      return; // EIO, or EAGAIN
    }
    if (n === 0) return;
    out.write(Buffer.from(buffer.subarray(0, n)));
  }
}
