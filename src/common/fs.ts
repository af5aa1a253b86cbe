import type { ErrorCode } from './error-codes.js';
import {
  closeSync,
  createReadStream,
  fchmodSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound } from './errors.js';

/**
 * Writes a file only its owner can read or write (0600): a container's config.json holds its
 * environment, passwords included. Created 0600 (the umask can only take bits away), and fchmod
 * narrows a file that already existed with wider modes before a byte of the new content is in it.
 */
export function writePrivateFile(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
  } finally {
    closeSync(fd);
  }
}

/** A text file's content, or '' when it cannot be read: for files whose absence means "none". */
export function readTextOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A directory's entries, or none when it cannot be read: for directories made on first use. */
export function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The real path of `path`, or of its nearest ancestor that exists: the directory whose file system a
 * path not made yet will be on. The root itself when nothing resolves.
 */
export function nearestExisting(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      return realpathSync(p);
    } catch {
      if (dirname(p) === p) return p;
    }
  }
}

/**
 * A file given on the command line to be read whole, or stdin for `-`. `describe` names it in
 * errors (`archive x.tar`): a missing path is NotFound `codes.missing`; a directory is
 * InvalidArgument `codes.directory`, which says it is not `expected` (`a tar archive`).
 */
export function openInputFile(
  source: string,
  describe: string,
  expected: string,
  codes: { missing: ErrorCode; directory: ErrorCode },
): Readable {
  if (source === '-') return process.stdin;
  let isFile: boolean;
  try {
    isFile = !statSync(source).isDirectory();
  } catch {
    throw notFound(codes.missing, `${describe}: no such file`);
  }
  if (!isFile) throw invalidArgument(codes.directory, `${describe}: is a directory, not ${expected}`);
  return createReadStream(source);
}

/**
 * How many bytes an input of openInputFile has, when it is a regular file (standard input
 * redirected from one included); undefined for a pipe or a terminal, whose size nobody knows.
 */
export function inputSize(source: string): number | undefined {
  try {
    const st = source === '-' ? fstatSync(0) : statSync(source);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
