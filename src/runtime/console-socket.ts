/**
 * The OCI runtime's console socket. Given `--console-socket PATH`, the runtime makes the
 * container's pseudo-terminal and sends its master side to the unix socket at PATH as an
 * SCM_RIGHTS message. The caller then owns the terminal: it relays it, resizes it, and reads it to
 * the end, after the runtime has gone.
 *
 * den needs this because the runtime's own relay (`run` with a terminal and no console socket)
 * stops reading the terminal as soon as it reaps the container: output still in the terminal's
 * buffer when the container exits is lost. crun 1.8 returns from its event loop on SIGCHLD with
 * no drain, so `den run -t busybox echo hi` printed nothing about once in a few dozen runs.
 *
 * Node.js cannot receive file descriptors over a socket, so the socket calls go through libc. The
 * blocking ones (accept, recvmsg) run on koffi's worker threads; `close()` wakes them with
 * shutdown(2), which Linux makes return at once. Layouts are those of 64-bit Linux (x86_64,
 * aarch64), the only platforms den runs on.
 */
import { closeSync, rmSync } from 'node:fs';
import { libcFunctions } from '../common/libc.js';

type AsyncCall = (...args: unknown[]) => void;
interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  accept4: { async: AsyncCall };
  recvmsg: { async: AsyncCall };
  poll(fds: Buffer, count: number, timeout: number): number;
  shutdown(fd: number, how: number): number;
  ioctl(fd: number, request: number, ...typedArgs: unknown[]): number;
  fcntl(fd: number, command: number, ...typedArgs: unknown[]): number;
  address(buffer: Buffer): bigint;
  errno(): number;
}

let calls: SocketCalls | undefined;
function libc(): SocketCalls {
  if (calls) return calls;
  const { func, errno, address } = libcFunctions();
  calls = {
    socket: func('int socket(int domain, int type, int protocol)') as SocketCalls['socket'],
    bind: func('int bind(int fd, const uint8_t *addr, uint32_t len)') as SocketCalls['bind'],
    listen: func('int listen(int fd, int backlog)') as SocketCalls['listen'],
    accept4: func('int accept4(int fd, void *addr, void *len, int flags)') as SocketCalls['accept4'],
    recvmsg: func('intptr_t recvmsg(int fd, uint8_t *msg, int flags)') as SocketCalls['recvmsg'],
    poll: func('int poll(uint8_t *fds, unsigned long count, int timeout)') as SocketCalls['poll'],
    shutdown: func('int shutdown(int fd, int how)') as SocketCalls['shutdown'],
    ioctl: func('int ioctl(int fd, unsigned long request, ...)') as SocketCalls['ioctl'],
    fcntl: func('int fcntl(int fd, int command, ...)') as SocketCalls['fcntl'],
    address,
    errno,
  };
  return calls;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SHUT_RDWR = 2;
const POLLIN = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const TIOCSWINSZ = 0x5414;
const F_DUPFD_CLOEXEC = 1030;
/** sizeof(struct sockaddr_un.sun_path): the longest socket path, its terminating NUL included. */
const SUN_PATH_MAX = 108;

/** Async libc call as a promise of its return value. */
function callAsync(fn: { async: AsyncCall }, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) =>
    fn.async(...args, (err: unknown, result: number | bigint) => (err ? reject(err) : resolve(Number(result)))),
  );
}

export class ConsoleSocket {
  private connection = -1;
  private closed = false;
  private receiving = false;
  /** stopWaiting() came: no connection will come any more, but one that came is still taken. */
  private stopped = false;
  private removed = false;

  private constructor(
    readonly path: string,
    private listener: number,
  ) {}

  /** Listens at `path` (which must not exist). Throws when the path is too long for a socket. */
  static listen(path: string): ConsoleSocket {
    const name = Buffer.from(path);
    if (name.length >= SUN_PATH_MAX) {
      throw new Error(`console socket path is ${name.length} bytes, over the ${SUN_PATH_MAX - 1} a socket allows`);
    }
    const c = libc();
    const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`console socket: socket failed (errno ${c.errno()})`);
    const addr = Buffer.alloc(2 + name.length + 1); // struct sockaddr_un: family, then the path
    addr.writeUInt16LE(AF_UNIX, 0);
    name.copy(addr, 2);
    if (c.bind(fd, addr, addr.length) !== 0 || c.listen(fd, 1) !== 0) {
      const errno = c.errno();
      closeSync(fd);
      throw new Error(`console socket ${path}: bind failed (errno ${errno})`);
    }
    return new ConsoleSocket(path, fd);
  }

  /**
   * Waits for the runtime to connect and send the terminal's master. Resolves to its file
   * descriptor (close-on-exec), or undefined when `close()` came first or the runtime hung up
   * without sending one.
   */
  async receive(): Promise<number | undefined> {
    const c = libc();
    this.receiving = true;
    try {
      if (this.closed) return undefined;
      const conn = await callAsync(c.accept4, this.listener, null, null, SOCK_CLOEXEC);
      if (conn < 0) return undefined;
      this.connection = conn;
      if (this.closed && !this.stopped) return undefined;
      // A descriptor travels with at least one byte of ordinary data, read here and ignored.
      const data = Buffer.alloc(256);
      const iov = Buffer.alloc(16); // struct iovec { void *base; size_t len; }
      iov.writeBigUInt64LE(c.address(data), 0);
      iov.writeBigUInt64LE(BigInt(data.length), 8);
      const control = Buffer.alloc(64); // room for a cmsghdr carrying a few descriptors
      const msg = Buffer.alloc(56); // struct msghdr
      msg.writeBigUInt64LE(c.address(iov), 16); // msg_iov
      msg.writeBigUInt64LE(1n, 24); // msg_iovlen
      msg.writeBigUInt64LE(c.address(control), 32); // msg_control
      msg.writeBigUInt64LE(BigInt(control.length), 40); // msg_controllen
      const n = await callAsync(c.recvmsg, conn, msg, MSG_CMSG_CLOEXEC);
      // Read while data, iov and control are still referenced here: the kernel wrote into them.
      if (n < 0) return undefined;
      return takeDescriptors(control, Number(msg.readBigUInt64LE(40)));
    } finally {
      this.release();
    }
  }

  /**
   * For when the runtime has exited: stops a pending `receive()` unless the runtime connected
   * first. A runtime that sent the terminal and exited at once (an exec of a quick command) has
   * left its connection queued, and the terminal in it, which `receive()` then still takes: closing
   * the socket then would lose the process's whole output.
   */
  stopWaiting(): void {
    if (this.closed) return;
    const pollfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
    pollfd.writeInt32LE(this.listener, 0);
    pollfd.writeInt16LE(POLLIN, 4);
    if (this.listener >= 0 && libc().poll(pollfd, 1, 0) > 0) return; // a connection waits to be accepted
    if (!this.receiving) {
      this.release();
      return;
    }
    // An accept that already took the connection goes on to read it; one still waiting returns.
    this.closed = true;
    this.stopped = true;
    libc().shutdown(this.listener, SHUT_RDWR);
  }

  /**
   * Stops a pending `receive()`, which then closes the descriptors (or closes them at once when
   * none is pending), and removes the socket. Safe to call more than once.
   */
  close(): void {
    if (this.closed && !this.stopped) return;
    this.stopped = false;
    if (!this.receiving) {
      this.release();
      return;
    }
    this.closed = true;
    const c = libc();
    c.shutdown(this.listener, SHUT_RDWR);
    if (this.connection >= 0) c.shutdown(this.connection, SHUT_RDWR);
    this.remove();
  }

  /** Closes the descriptors once no worker thread is blocked on them (closing first would race a reuse). */
  private release(): void {
    if (this.connection >= 0) closeSync(this.connection);
    this.connection = -1;
    if (this.listener >= 0) closeSync(this.listener);
    this.listener = -1;
    this.closed = true;
    this.remove();
  }

  private remove(): void {
    if (this.removed) return;
    this.removed = true;
    rmSync(this.path, { force: true });
  }
}

/**
 * The first descriptor of the SCM_RIGHTS messages in `control` (of which the kernel filled
 * `length` bytes); any others are closed, as nothing would ever close them.
 */
function takeDescriptors(control: Buffer, length: number): number | undefined {
  const fds: number[] = [];
  // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data, 8-byte aligned
  for (let at = 0; at + 16 <= length;) {
    const len = Number(control.readBigUInt64LE(at));
    if (len < 16 || at + len > length) break;
    if (control.readInt32LE(at + 8) === SOL_SOCKET && control.readInt32LE(at + 12) === SCM_RIGHTS) {
      for (let p = at + 16; p + 4 <= at + len; p += 4) fds.push(control.readInt32LE(p));
    }
    at += (len + 7) & ~7;
  }
  for (const extra of fds.slice(1)) closeSync(extra);
  return fds[0];
}

/** Sets a terminal's window size; the kernel sends SIGWINCH to its foreground process group. */
export function setTerminalSize(fd: number, size: { height: number; width: number }): void {
  const winsize = Buffer.alloc(8); // struct winsize { unsigned short rows, cols, xpixel, ypixel; }
  winsize.writeUInt16LE(size.height, 0);
  winsize.writeUInt16LE(size.width, 2);
  libc().ioctl(fd, TIOCSWINSZ, 'uint8_t *', winsize);
}

/** A second descriptor for the same open terminal (close-on-exec). */
export function duplicateDescriptor(fd: number): number {
  const c = libc();
  const copy = c.fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
  if (copy < 0) throw new Error(`cannot duplicate descriptor ${fd} (errno ${c.errno()})`);
  return copy;
}
