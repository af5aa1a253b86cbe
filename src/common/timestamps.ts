/**
 * File times to the nanosecond, as the archive gives them.
 *
 * Node.js passes times to libuv as a double of seconds, which near 2020 keeps only about a
 * microsecond: a PAX mtime of 1700000000.123456789 would land as .123456716, and `tar --compare`
 * (or any tree digest) would see every such file as changed. futimens and utimensat take the
 * seconds and nanoseconds apart. Where they cannot be called (no koffi), Node's own calls stand in.
 */
import { futimesSync, lutimesSync } from 'node:fs';
import { libcFunctions } from './libc.js';
import { constants, endianness } from 'node:os';

/** Seconds since the epoch (negative before 1970) and nanoseconds, 0 to 999999999. */
export interface Timespec {
  sec: number;
  nsec: number;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;

interface TimeCalls {
  futimens(fd: number, times: Buffer): number;
  utimensat(dirfd: number, path: Buffer, times: Buffer, flags: number): number;
  errno(): number;
}

let calls: TimeCalls | null | undefined;

/** Where struct timespec is two little-endian 64-bit words; elsewhere Node's calls stand in. */
const LP64_LE = endianness() === 'LE' && ['x64', 'arm64', 'riscv64', 'loong64', 'ppc64'].includes(process.arch);

function load(): TimeCalls | null {
  if (calls !== undefined) return calls;
  if (!LP64_LE) return (calls = null);
  try {
    const lib = libcFunctions();
    calls = {
      futimens: lib.func('int futimens(int fd, const uint8_t *times)') as TimeCalls['futimens'],
      utimensat: lib.func(
        'int utimensat(int dirfd, const uint8_t *path, const uint8_t *times, int flags)',
      ) as TimeCalls['utimensat'],
      errno: lib.errno,
    };
  } catch {
    calls = null;
  }
  return calls;
}

/** struct timespec[2] { int64 tv_sec; long tv_nsec; }, as 32-bit words of a little-endian machine. */
const times = Buffer.alloc(32);
const words = new Int32Array(times.buffer, times.byteOffset, 8);

function pack(atime: Timespec, mtime: Timespec): Buffer {
  words[0] = atime.sec | 0; // the low word; `| 0` keeps its bits
  words[1] = Math.floor(atime.sec / 2 ** 32);
  words[2] = atime.nsec;
  words[4] = mtime.sec | 0;
  words[5] = Math.floor(mtime.sec / 2 ** 32);
  words[6] = mtime.nsec;
  return times;
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

function failure(c: TimeCalls, syscall: string, what: string): NodeJS.ErrnoException {
  const errno = c.errno();
  const code = errnoNames.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${code}: ${syscall} ${what}`), { code, errno: -errno, syscall });
}

/** Node's fallback: a double of seconds, or a Date before 1970 (a negative number means "now" to Node). */
const seconds = (t: Timespec): number | Date =>
  t.sec >= 0 ? t.sec + t.nsec / 1e9 : new Date(t.sec * 1000 + t.nsec / 1e6);

/** Sets the times of an open file. */
export function setFileTimes(fd: number, atime: Timespec, mtime: Timespec): void {
  const c = load();
  if (!c) return futimesSync(fd, seconds(atime), seconds(mtime));
  if (c.futimens(fd, pack(atime, mtime)) !== 0) throw failure(c, 'futimens', `fd ${fd}`);
}

/** Sets the times of a path itself, never of what a symlink points to. `path` ends in a NUL byte. */
export function setPathTimes(path: Buffer, atime: Timespec, mtime: Timespec): void {
  const c = load();
  if (!c) return lutimesSync(path.subarray(0, path.length - 1), seconds(atime), seconds(mtime));
  if (c.utimensat(AT_FDCWD, path, pack(atime, mtime), AT_SYMLINK_NOFOLLOW) !== 0) {
    throw failure(c, 'utimensat', `'${path.subarray(0, path.length - 1).toString('utf8')}'`);
  }
}
