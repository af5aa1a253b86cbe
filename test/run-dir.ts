/**
 * The scratch space of one test run: every directory the end-to-end tests make (den environments,
 * the busybox fixture, the copy of the build, registries) lives under one directory, so that the
 * run can remove all of it at its end, even when a test file crashed or timed out before its
 * `after` hooks ran.
 *
 * test/run.ts (`npm test`) makes the directory, passes it to every test file in DEN_TEST_RUN_DIR,
 * and removes it when the run ends. A file run on its own (`node --import tsx --test test/x.test.ts`)
 * or the benchmark makes a directory of its own on first use and removes it when it exits.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { basename, join } from 'node:path';

export const RUN_DIR_ENV = 'DEN_TEST_RUN_DIR';
/** Where run directories are made; `/var/tmp` gets a twin of the same name for disk images. */
const TMP = '/tmp';
const VAR_TMP = '/var/tmp';

let own: string | undefined;

/** This run's directory: the runner's, or one of this process's own, removed when it exits. */
export function runDir(): string {
  const shared = process.env[RUN_DIR_ENV];
  if (shared) return shared;
  if (own === undefined) {
    const dir = createRunDir();
    own = dir;
    process.on('exit', () => removeRunDir(dir));
  }
  return own;
}

/** A new run directory, 0755 so that the test user can reach the environments inside it. */
export function createRunDir(prefix = 'den-test-'): string {
  const dir = mkdtempSync(join(TMP, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * A fresh directory of this run, 0755 by default (mkdtemp makes 0700, which the test user cannot
 * enter). `varTmp` puts it under /var/tmp instead, for what should not sit in memory if /tmp is a
 * tmpfs (file system images).
 */
export function scratchDir(prefix: string, options: { varTmp?: boolean; mode?: number } = {}): string {
  let parent = runDir();
  if (options.varTmp) {
    parent = join(VAR_TMP, basename(parent));
    mkdirSync(parent, { recursive: true, mode: 0o755 });
    chmodSync(parent, 0o755);
  }
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, options.mode ?? 0o755);
  return dir;
}

export interface RemoveReport {
  killed: number;
  unmounted: number;
  /** Paths that could not be removed, with the reason. */
  left: string[];
}

/**
 * Removes a run directory and its /var/tmp twin, with whatever still uses them: processes that a
 * crashed test left (den, its session's pause process and everything in that session's user
 * namespace: containers, runtimes, fuse-overlayfs) are killed, and mounts under them in this mount
 * namespace (root mode's overlays, loop-mounted file systems) are unmounted. Sessions' own mounts
 * live in the sessions' namespaces and go with their last process.
 */
export function removeRunDir(dir: string): RemoveReport {
  const dirs = [dir, join(VAR_TMP, basename(dir))].filter((d) => existsSync(d));
  const report: RemoveReport = { killed: 0, unmounted: 0, left: [] };
  if (dirs.length === 0) return report;
  report.killed = killUsers(dirs);
  for (const mount of mountsUnder(dirs).reverse()) {
    if (spawnSync('umount', ['-l', mount]).status === 0) report.unmounted++;
  }
  for (const d of dirs) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      report.left.push(`${d}: ${(e as Error).message}`);
    }
  }
  return report;
}

const mentions = (text: string, dirs: string[]): boolean => dirs.some((d) => text.includes(`${d}/`) || text === d);

/**
 * Kills every process that names one of `dirs` (den, a session's pause process, nsenter, a FUSE
 * server), and the processes of those processes' own user namespaces (containers, runtimes).
 *
 * Careful, because it runs as root: a namespace is followed only when it is not this process's
 * own (the host's; everyone's processes live there) and could be read, and the processes found
 * through a namespace must not be root's on the host, as no rootless session's are.
 */
function killUsers(dirs: string[]): number {
  const victims = usersOf(dirs);
  let killed = 0;
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // already gone
    }
  }
  // SIGKILL is asynchronous: give the kernel a moment to tear the processes and their mounts down.
  for (let i = 0; i < 50 && victims.some((p) => alive(p)); i++) spawnSync('sleep', ['0.02']);
  return killed;
}

/** The processes killUsers would kill. */
export function usersOf(dirs: string[]): number[] {
  const hostUserNs = link('/proc/self/ns/user');
  const self = new Set([process.pid, process.ppid]);
  const pids = readdirSync('/proc')
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number)
    .filter((p) => !self.has(p) && p !== 1);
  const victims = new Set<number>();
  const namespaces = new Set<string>();
  for (const pid of pids) {
    const texts = [
      read(`/proc/${pid}/cmdline`),
      read(`/proc/${pid}/environ`),
      link(`/proc/${pid}/cwd`) ?? '',
      link(`/proc/${pid}/root`) ?? '',
    ];
    if (!texts.some((t) => t.split('\0').some((part) => mentions(part, dirs)))) continue;
    victims.add(pid);
    const ns = link(`/proc/${pid}/ns/user`);
    if (hostUserNs !== undefined && ns !== undefined && ns !== hostUserNs) namespaces.add(ns);
  }
  if (namespaces.size > 0) {
    for (const pid of pids) {
      const ns = link(`/proc/${pid}/ns/user`);
      if (ns !== undefined && namespaces.has(ns) && hostUid(pid) !== 0) victims.add(pid);
    }
  }
  return [...victims];
}

/** A process's real uid on the host, from /proc (0 when it cannot be read: treated as root's). */
function hostUid(pid: number): number {
  const m = /^Uid:\s+([0-9]+)/m.exec(read(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

function mountsUnder(dirs: string[]): string[] {
  return read('/proc/self/mountinfo')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => mentions(m, dirs));
}

function alive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
