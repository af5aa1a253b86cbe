/**
 * conmon's attach socket: how a command reaches a detached container's stdio, which conmon holds.
 * conmon 2.1 listens on `<bundle>/attach`, a unix socket of type SOCK_SEQPACKET (each write is one
 * packet, and a read never joins two); what it tells, conmon 2.1.6's source (conn_sock.c,
 * ctr_stdio.c, ctrl.c) and this machine agree on:
 *
 *   conmon -> client  each packet is one read of the container's output: a byte naming the stream
 *                     (2 stdout, 3 stderr; with a terminal everything is 2), then up to 8192 bytes
 *   client -> conmon  stdin, raw, at most 32768 bytes a packet (conmon reads packets into a buffer
 *                     that size and drops the rest of a longer one)
 *   end               conmon closes the connection once the container exited and its output was
 *                     passed on; before the exit status is written (the caller reads that elsewhere)
 *
 * A terminal is resized through the bundle's `ctl` fifo: a line `1 HEIGHT WIDTH` (1 is conmon's
 * resize event), which conmon turns into TIOCSWINSZ on the container's terminal.
 *
 * Node.js cannot open a SEQPACKET socket (net speaks only streams), so the socket calls go through
 * libc as console-socket.ts does: the blocking read on koffi's worker threads, writes without
 * waiting (MSG_DONTWAIT; a full socket asks the caller to try again). The socket's path can be
 * longer than a socket address allows (108 bytes), so den connects to it through a descriptor of
 * the bundle directory (/proc/self/fd/N/attach), as conmon binds it.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { join } from 'node:path';
import { libcFunctions } from '../common/libc.js';

type AsyncCall = (...args: unknown[]) => void;
interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  recv: { async: AsyncCall };
  send(fd: number, data: Buffer, len: number, flags: number): number | bigint;
  shutdown(fd: number, how: number): number;
  errno(): number;
}

let calls: SocketCalls | undefined;
function libc(): SocketCalls {
  if (calls) return calls;
  const { func, errno } = libcFunctions();
  calls = {
    socket: func('int socket(int domain, int type, int protocol)') as SocketCalls['socket'],
    connect: func('int connect(int fd, const uint8_t *addr, uint32_t len)') as SocketCalls['connect'],
    recv: func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)') as SocketCalls['recv'],
    send: func('intptr_t send(int fd, const uint8_t *buf, size_t len, int flags)') as SocketCalls['send'],
    shutdown: func('int shutdown(int fd, int how)') as SocketCalls['shutdown'],
    errno,
  };
  return calls;
}

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SHUT_WR = 1;
const SHUT_RDWR = 2;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EAGAIN = 11;
const EINTR = 4;

/** conmon's stream bytes (its stdpipe_t). */
const STREAMS: Record<number, AttachStream | undefined> = { 2: 'stdout', 3: 'stderr' };
/** conmon reads a packet of stdin into a buffer of this size (CONN_SOCK_BUF_SIZE). */
export const MAX_INPUT_PACKET = 32768;
/** Room for the largest packet conmon sends (a stream byte and STDIO_BUF_SIZE bytes), and then some. */
const READ_BUFFER = 65536;

export type AttachStream = 'stdout' | 'stderr';

export interface AttachPacket {
  stream: AttachStream;
  data: Buffer;
}

export class AttachSocket {
  private closed = false;
  private reading = false;

  private constructor(private fd: number) {}

  /**
   * Connects to the attach socket of the container whose bundle is `bundleDir`. Throws an error
   * with errno's code (ENOENT: no monitor socket there; ECONNREFUSED: its monitor is gone).
   */
  static connect(bundleDir: string): AttachSocket {
    const c = libc();
    const dir = openSync(bundleDir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
      if (fd < 0) throw errnoError('socket', c.errno());
      const name = Buffer.from(`/proc/self/fd/${dir}/attach`);
      const addr = Buffer.alloc(2 + name.length + 1); // struct sockaddr_un: family, then the path
      addr.writeUInt16LE(AF_UNIX, 0);
      name.copy(addr, 2);
      if (c.connect(fd, addr, addr.length) !== 0) {
        const errno = c.errno();
        closeSync(fd);
        throw errnoError('connect', errno);
      }
      return new AttachSocket(fd);
    } finally {
      closeSync(dir);
    }
  }

  /** The next packet of output, or undefined at the end (conmon closed it, or `close()` was called). */
  async read(): Promise<AttachPacket | undefined> {
    const c = libc();
    if (this.closed) return undefined;
    this.reading = true;
    try {
      for (;;) {
        const buffer = Buffer.alloc(READ_BUFFER);
        const n = await new Promise<number>((resolve, reject) =>
          c.recv.async(this.fd, buffer, buffer.length, 0, (err: unknown, result: number | bigint) =>
            err ? reject(err) : resolve(Number(result)),
          ),
        );
        if (this.closed || n <= 0) {
          if (n < 0 && c.errno() === EINTR && !this.closed) continue;
          return undefined;
        }
        const stream = STREAMS[buffer[0]!];
        if (stream === undefined) continue; // a stream conmon may add one day: not output den knows
        return { stream, data: Buffer.from(buffer.subarray(1, n)) };
      }
    } finally {
      this.reading = false;
      if (this.closed) this.release();
    }
  }

  /**
   * Sends `data` to the container's stdin, as much of it as the socket takes now, packets of at
   * most MAX_INPUT_PACKET bytes: returns how many bytes went (fewer when the socket is full: try
   * the rest later). Throws when the connection is gone.
   */
  write(data: Buffer): number {
    const c = libc();
    let sent = 0;
    while (sent < data.length && !this.closed) {
      const chunk = data.subarray(sent, sent + MAX_INPUT_PACKET);
      const n = Number(c.send(this.fd, chunk, chunk.length, MSG_DONTWAIT | MSG_NOSIGNAL));
      if (n < 0) {
        const errno = c.errno();
        if (errno === EAGAIN) break;
        if (errno === EINTR) continue;
        throw errnoError('send', errno);
      }
      sent += n;
    }
    return sent;
  }

  /** Ends the input: conmon sees the client's end of stdin (and closes the container's, with StdinOnce). */
  endInput(): void {
    if (!this.closed) libc().shutdown(this.fd, SHUT_WR);
  }

  /** Ends the connection (a pending `read()` resolves to undefined). Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().shutdown(this.fd, SHUT_RDWR);
    if (!this.reading) this.release();
  }

  /** Closes the descriptor once no worker thread is blocked on it (closing first would race a reuse). */
  private release(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Resizes the terminal of the container whose bundle is `bundleDir` (its monitor's `ctl` fifo).
 * Nothing happens when no monitor reads the fifo any more.
 */
export function resizeMonitoredTerminal(bundleDir: string, size: { height: number; width: number }): void {
  let fd: number;
  try {
    // Non-blocking: opening a fifo nobody reads fails (ENXIO) rather than waits.
    fd = openSync(join(bundleDir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    writeSync(fd, `1 ${size.height} ${size.width}\n`);
  } catch {
    // the monitor went away meanwhile
  } finally {
    closeSync(fd);
  }
}

function errnoError(syscall: string, errno: number): NodeJS.ErrnoException {
  const code = Object.entries(os.errno).find(([, n]) => n === errno)?.[0];
  const e: NodeJS.ErrnoException = new Error(`${syscall}: ${code ?? `errno ${errno}`}`);
  return Object.assign(e, { code, errno: -errno, syscall });
}
