/**
 * The currency of `den system check`. Each concern module owns the probes for the capabilities it
 * needs (the session probes user namespaces, the runtime probes cgroups ...) and answers with a
 * Finding; the engine composes them, names each one (a CheckResult) and keeps their order.
 *
 * Vocabulary: a *probe* asks this host one question, for real where that is cheap and leaves nothing
 * behind; the *Host* is what every probe may know about the caller, gathered once; a *Finding* is
 * the answer, and its `fix` repairs a 'warn' or 'fail' on Debian 12.
 *
 *   const host = new LiveHost({ rootless: true, uid: 1000, ..., env: { PATH: '/usr/bin:/bin' } });
 *   checkTool(host, 'crun', 'fail', 'apt-get install crun');
 *   // { status: 'ok', detail: '/usr/bin/crun: crun version 1.8.1' }
 */
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from './errors.js';
import { findExecutable, runSync } from './exec.js';
import { mountOf, parseMountinfo, type MountEntry } from './mountinfo.js';

/**
 * One finding of `den system check`. `id` is stable (scripts and tests match on it), `detail` says
 * what was found and how it was found out, and `fix` is the command or step that repairs a 'warn'
 * or 'fail' on Debian 12, when there is one.
 */
export interface CheckResult {
  id: string;
  title: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** A check's result before it is named. */
export type Finding = Omit<CheckResult, 'id' | 'title'>;

export const ok = (detail: string): Finding => ({ status: 'ok', detail });
export const warn = (detail: string, fix?: string): Finding => ({ status: 'warn', detail, ...(fix ? { fix } : {}) });
export const fail = (detail: string, fix?: string): Finding => ({ status: 'fail', detail, ...(fix ? { fix } : {}) });

/** Prepares a host for den as root; a fix names it where one step repairs several things. */
export const SETUP_SCRIPT = 'scripts/setup-host.sh';

/** What the composer of the probes knows about the caller: its identity, environment and files. */
export interface HostFacts {
  /** True when the caller is not root: den works through a rootless session. */
  readonly rootless: boolean;
  readonly uid: number;
  readonly gid: number;
  readonly userName: string;
  /** The environment the probes run tools with; its PATH is where they look for tools. */
  readonly env: NodeJS.ProcessEnv;
  /** den's data directory, which the probes never create. */
  readonly dataDir: string;
  /** den's runtime directory, which the probes never create. */
  readonly runtimeDir: string;
  readonly subuidFile: string;
  readonly subgidFile: string;
}

/** What every probe may know about the caller and this machine. */
export interface Host extends HostFacts {
  /** A tool by name, in env.PATH. */
  find(name: string): string | undefined;
  /** This process's mount table. */
  readonly mounts: readonly MountEntry[];
  /** The file system type at `path` ('ext4', 'tmpfs' ...), from the mount table; 'unknown' if none holds it. */
  fsType(path: string): string;
}

/** The Host of the running system: the mount table is read once, on first use. */
export class LiveHost implements Host {
  readonly rootless: boolean;
  readonly uid: number;
  readonly gid: number;
  readonly userName: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly runtimeDir: string;
  readonly subuidFile: string;
  readonly subgidFile: string;
  private _mounts: MountEntry[] | undefined;

  constructor(facts: HostFacts) {
    this.rootless = facts.rootless;
    this.uid = facts.uid;
    this.gid = facts.gid;
    this.userName = facts.userName;
    this.env = facts.env;
    this.dataDir = facts.dataDir;
    this.runtimeDir = facts.runtimeDir;
    this.subuidFile = facts.subuidFile;
    this.subgidFile = facts.subgidFile;
  }

  find(name: string): string | undefined {
    return findExecutable(name, this.env.PATH ?? '');
  }

  get mounts(): MountEntry[] {
    this._mounts ??= parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    return this._mounts;
  }

  fsType(path: string): string {
    return mountOf(this.mounts, path)?.fsType ?? 'unknown';
  }
}

/** Where distributions install tools; Debian's PATH for users lacks the sbin directories. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where a tool is: in PATH, or only in a system directory that PATH lacks (Debian's user PATH). */
export function locateTool(h: Host, name: string): { path?: string; offPath?: string } {
  const path = h.find(name);
  if (path) return { path };
  const offPath = findExecutable(name, SYSTEM_PATH);
  return offPath ? { offPath } : {};
}

/** Says that a tool is missing from PATH; when it is installed elsewhere, the fix is to add that to PATH. */
export function describeMissingTool(
  name: string,
  where: { offPath?: string },
  fix: string,
): { detail: string; fix: string } {
  if (where.offPath) {
    return {
      detail: `${name} is not in PATH (it is at ${where.offPath})`,
      fix: `add ${dirname(where.offPath)} to PATH`,
    };
  }
  return { detail: `${name} not found in PATH`, fix };
}

/** The finding of a probe that needs unshare(1) to enter a user namespace and cannot find it. */
export function missingUnshare(h: Host, prefix: string): Finding {
  const missing = describeMissingTool('unshare', locateTool(h, 'unshare'), 'apt-get install util-linux');
  return fail(`${prefix}${missing.detail}`, missing.fix);
}

/**
 * A tool in PATH and its version: the line of `--version` that `versionLine` captures (the first
 * line by default). A missing tool is `missingStatus`, with `fix` as the repair.
 */
export function checkTool(
  h: Host,
  name: string,
  missingStatus: 'warn' | 'fail',
  fix: string,
  versionLine: RegExp = /^(.+)$/m,
): Finding {
  const where = locateTool(h, name);
  if (!where.path) {
    const missing = describeMissingTool(name, where, fix);
    return { status: missingStatus, detail: missing.detail, fix: missing.fix };
  }
  const r = runSync([where.path, '--version'], { env: h.env });
  const version = versionLine.exec(`${r.stdout}\n${r.stderr}`.trim())?.[1]?.trim();
  return ok(`${where.path}${version ? `: ${version}` : ''}`);
}

/**
 * Opens a device for reading and writing, which is what pasta and FUSE do; closing it again has no
 * effect. A missing device is loaded with `modprobe kernelModule`.
 */
export function checkDevice(h: Host, path: string, kernelModule: string): Finding {
  // One command for both devices den opens, as the set-up script does, so that fixing one finding
  // does not leave the other.
  const fix = `chmod 0666 /dev/net/tun /dev/fuse (or run ${SETUP_SCRIPT} as root)`;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return warn(`${path} does not exist`, `modprobe ${kernelModule}`);
    throw e;
  }
  try {
    closeSync(openSync(path, 'r+'));
  } catch (e) {
    return warn(
      `${path} (mode ${mode.toString(8)}) cannot be opened read-write by uid ${h.uid}: ${errnoCode(e) ?? (e as Error).message}`,
      fix,
    );
  }
  const others = (mode & 0o006) === 0o006 ? '' : `; other users cannot use it (mode ${mode.toString(8)})`;
  return ok(`${path} opens read-write for uid ${h.uid}${others}`);
}
