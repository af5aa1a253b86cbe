/**
 * Output processing turned off on den's own terminal while it relays a container's terminal to it.
 * The container's terminal has already turned every "\n" into "\r\n" (ONLCR); den's terminal would
 * turn it into "\r\r\n", which is what a capture of den's terminal (script, tmux's pipe-pane, a CI
 * log) then reads. docker's raw mode (cfmakeraw) clears OPOST; Node's setRawMode keeps it (libuv
 * sets ONLCR in its raw mode), and with -t alone nothing changed the terminal at all.
 *
 * glibc's tcgetattr and tcsetattr, through koffi: Node has no call for output flags. struct termios
 * starts with four 32-bit flag words (c_iflag, c_oflag, c_cflag, c_lflag) on every Linux
 * architecture; glibc's is 60 bytes on x86_64 and aarch64, so 64 are enough.
 */
import { libcFunctions } from '../common/libc.js';

const TERMIOS_SIZE = 64;
const C_OFLAG = 4;
const OPOST = 0o1;
/** Changes after what was written before has gone out with the settings it was written under. */
const TCSADRAIN = 1;

interface TermiosCalls {
  tcgetattr(fd: number, termios: Buffer): number;
  tcsetattr(fd: number, when: number, termios: Buffer): number;
}

let calls: TermiosCalls | undefined;
function termios(): TermiosCalls {
  if (calls) return calls;
  const { func } = libcFunctions();
  calls = {
    tcgetattr: func('int tcgetattr(int fd, uint8_t *termios)') as TermiosCalls['tcgetattr'],
    tcsetattr: func('int tcsetattr(int fd, int when, const uint8_t *termios)') as TermiosCalls['tcsetattr'],
  };
  return calls;
}

/**
 * Clears OPOST on the terminal at `fd`; returns what sets it again. Only that bit is put back, so
 * a raw mode set or left in between (Node's, for -it) is undone by its own owner. Where `fd` is no
 * terminal or libc cannot be reached, nothing changes (the output is still all there, with "\r\r\n").
 */
export function rawTerminalOutput(fd: number): () => void {
  let c: TermiosCalls;
  const t = Buffer.alloc(TERMIOS_SIZE);
  try {
    c = termios();
    if (c.tcgetattr(fd, t) !== 0) return () => {};
  } catch {
    return () => {};
  }
  const flags = t.readUInt32LE(C_OFLAG);
  if ((flags & OPOST) === 0) return () => {};
  t.writeUInt32LE(flags & ~OPOST, C_OFLAG);
  if (c.tcsetattr(fd, TCSADRAIN, t) !== 0) return () => {};
  return () => {
    const now = Buffer.alloc(TERMIOS_SIZE);
    if (c.tcgetattr(fd, now) !== 0) return;
    now.writeUInt32LE(now.readUInt32LE(C_OFLAG) | OPOST, C_OFLAG);
    c.tcsetattr(fd, TCSADRAIN, now);
  };
}
