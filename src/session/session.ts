import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSync } from '../common/exec.js';
import { failedPrecondition } from '../common/errors.js';
import { parseMountinfo, type MountEntry } from '../common/mountinfo.js';
import { ensurePrivateDir } from '../common/paths.js';
import { CREATE_SESSION_SCRIPT } from './create-session.js';

/**
 * Where den's storage mounts and OCI runtime calls happen.
 *
 * Root mode: the host's own namespaces; commands run as they are.
 * Rootless: a per-user session, one user namespace mapping the caller's uid to 0 and their
 * subordinate ranges above it, with a mount namespace of its own where overlay mounts live. A pause
 * process keeps the namespaces alive between den commands; each command enters them with nsenter,
 * so Node.js itself (multi-threaded, unable to setns into a user namespace) never has to.
 */
export interface Namespaces {
  readonly rootless: boolean;
  /** Makes sure the namespaces exist (creating the rootless session if needed). */
  ensure(): void;
  /** The argv that runs `argv` inside the namespaces, as root there. */
  wrap(argv: readonly string[]): string[];
  /** The pid of the session's pause process, when there is one. */
  readonly pid: number | undefined;
  /**
   * The mounts of these namespaces, read without entering them (and without creating a session:
   * when there is none, nothing is mounted in it).
   */
  mounts(): MountEntry[];
}

export class HostNamespaces implements Namespaces {
  readonly rootless = false;
  readonly pid = undefined;
  ensure(): void {}
  wrap(argv: readonly string[]): string[] {
    return [...argv];
  }
  mounts(): MountEntry[] {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  }
}

export interface SessionMaps {
  /** Flat newuidmap/newgidmap arguments: container host size, repeated. */
  uidArgs: string[];
  gidArgs: string[];
}

export class RootlessSession implements Namespaces {
  readonly rootless = true;
  private sessionPid: number | undefined;

  /**
   * @param runtimeDir private per-user runtime directory; holds `session` (pid and start time of the
   *   pause process), `session.lock` and the handshake fifo
   * @param maps computed lazily: only needed when a session has to be created
   */
  constructor(
    readonly runtimeDir: string,
    private readonly maps: () => SessionMaps,
  ) {}

  get pid(): number | undefined {
    return this.sessionPid;
  }

  ensure(): void {
    if (this.sessionPid !== undefined) return;
    const existing = readLiveSession(this.runtimeDir);
    if (existing !== undefined) {
      this.sessionPid = existing;
      return;
    }
    ensurePrivateDir(this.runtimeDir);
    const maps = this.maps();
    // flock serialises concurrent den commands that all found no session: the first creates it,
    // the others find it when they get the lock (the script checks again under the lock).
    const r = runSync([
      'flock',
      '--close', // the pause process must not inherit the lock, or it holds it for ever
      join(this.runtimeDir, 'session.lock'),
      'sh',
      '-c',
      CREATE_SESSION_SCRIPT,
      'den-session',
      this.runtimeDir,
      maps.uidArgs.join(' '),
      maps.gidArgs.join(' '),
    ]);
    if (r.status !== 0) {
      throw failedPrecondition(
        'DEN0501',
        `cannot create the rootless session: ${r.stderr.trim() || `status ${r.status}`}`,
        {
          hint: 'run `den system check` to see what this host lacks (newuidmap, /etc/subuid, user namespaces)',
        },
      );
    }
    const created = readLiveSession(this.runtimeDir);
    if (created === undefined) {
      throw failedPrecondition('DEN0502', 'the rootless session died as soon as it was created');
    }
    this.sessionPid = created;
  }

  wrap(argv: readonly string[]): string[] {
    this.ensure();
    // --preserve-credentials: nsenter would otherwise drop the caller's supplementary groups
    // (setgroups to none) on entering; kept, they are the groups `--group-add keep-groups` keeps.
    // The caller's own uid is the session's 0, so the program is root there either way.
    return ['nsenter', '-t', String(this.sessionPid), '-U', '-m', '--preserve-credentials', '--', ...argv];
  }

  mounts(): MountEntry[] {
    const pid = this.sessionPid ?? readLiveSession(this.runtimeDir);
    if (pid === undefined) return [];
    try {
      return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
    } catch {
      return []; // the session ended just now, and its mounts with it
    }
  }
}

/** The session's pause pid when its file names a live process that is still the same one. */
export function readLiveSession(runtimeDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(runtimeDir, 'session'), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || start === undefined) return undefined;
  return processStartTime(pid) === start ? pid : undefined;
}

/** include/linux/sched.h: the task is getting shut down. */
const PF_EXITING = 0x4;

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, it names a process uniquely.
 * Undefined for a process that is gone, exiting, or a zombie: killed but not yet reaped (on hosts whose init
 * is slow to reap, or never does), it keeps its pid and start time but is no longer there to enter.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  // Killed and still tearing down (PF_EXITING in field 9): its namespaces can no longer be entered,
  // though it is not a zombie yet; a session with many mounts takes a while to go.
  if ((Number(fields[6]) & PF_EXITING) !== 0) return undefined;
  return fields[19];
}
