/**
 * End-to-end harness: runs the built den CLI as a real unprivileged user (or root) in a hermetic
 * environment: a fresh HOME (so the store is HOME/.local/share/den), its own XDG_RUNTIME_DIR (so
 * each suite has its own rootless session), a fixed PATH, no colour, no terminal.
 *
 * DEN_TEST_BIN runs the suite against another den build; DEN_TEST_USER picks the user (default
 * dentest, created by scripts/setup-host.sh --test-user dentest). The suite runs as root: it needs
 * to become that user and to inspect what den leaves behind (mounts in the session, processes).
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDir, scratchDir } from './run-dir.js';

export { runDir, scratchDir } from './run-dir.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TEST_USER = process.env.DEN_TEST_USER ?? 'dentest';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
}

export function lookupUser(name: string): UserInfo {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`test user ${name} does not exist: run scripts/setup-host.sh --test-user ${name}`);
  const f = line.split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

/** The first subordinate uid of a user, from /etc/subuid. */
export function subuidBase(user: UserInfo, file = '/etc/subuid'): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user.name}:`) || l.startsWith(`${user.uid}:`));
  if (!line) throw new Error(`${user.name} has no entry in ${file}`);
  return Number(line.split(':')[1]);
}

let installedBin: string | undefined;

/**
 * The den entry point, readable by the test user: the checkout's bin/den when every directory up
 * to it is world-traversable, else a copy of bin/, dist/ and the runtime dependencies, made once
 * per run (test/run-dir.ts) by the first file that needs it.
 */
export function denBin(): string {
  if (process.env.DEN_TEST_BIN) return process.env.DEN_TEST_BIN;
  if (installedBin) return installedBin;
  if (!existsSync(join(REPO, 'dist', 'den.cjs'))) throw new Error('den is not built: run npm run build');
  if (worldReadablePath(REPO)) {
    installedBin = join(REPO, 'bin', 'den');
  } else {
    const dir = publishOnce(join(runDir(), 'build'), (tmp) => {
      mkdirSync(tmp, { mode: 0o755 });
      for (const part of ['bin', 'dist', 'package.json', 'node_modules/koffi']) {
        cpSync(join(REPO, part), join(tmp, part), { recursive: true });
      }
    });
    installedBin = join(dir, 'bin', 'den');
  }
  return installedBin;
}

/**
 * How den is started: as people start it, its entry script run by the kernel (bin/den starts Node
 * itself, so Node's own option scan never sees den's arguments), when the Node that runs the tests
 * is the one in the environment's PATH; otherwise by this Node, with `--` as bin/den passes it.
 */
export function denCommand(): string[] {
  const bin = denBin();
  if (process.env.DEN_TEST_BIN || PATH.split(':').includes(dirname(process.execPath))) return [bin];
  return [process.execPath, '--', bin];
}

/**
 * Makes `path` once per run: `make` writes a temporary sibling, which is then published under
 * `path` unless another process got there first, in which case theirs is used and ours dropped.
 * A published path is complete (it appears by rename or link) and never replaced, so a test that
 * reads it twice reads the same bytes.
 */
function publishOnce(path: string, make: (tmp: string) => void): string {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    make(tmp);
    if (statSync(tmp).isDirectory()) {
      // rename() of a directory onto a non-empty one fails, so the first one stays.
      try {
        renameSync(tmp, path);
      } catch (e) {
        if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    } else {
      // link() never replaces: EEXIST means another process published first.
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return path;
}

function worldReadablePath(path: string): boolean {
  const r = spawnSync('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'test',
    '-r',
    join(path, 'dist', 'den.cjs'),
  ]);
  return r.status === 0;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

/**
 * One hermetic den environment for one user. `den(...)` runs the CLI; `cleanup()` kills the
 * session's pause process and removes every file (as root, since the store holds subordinate ids).
 */
export class DenEnv {
  readonly root: string;
  readonly home: string;
  readonly runtimeBase: string;
  readonly user: UserInfo;

  /**
   * `base`: where the environment's directory is made; by default this run's directory
   * (test/run-dir.ts), a test may want another file system.
   */
  constructor(userName: string = TEST_USER, base?: string) {
    this.user = userName === 'root' ? { name: 'root', uid: 0, gid: 0 } : lookupUser(userName);
    this.root = base === undefined ? scratchDir('den-e2e-') : mkdtempSync(join(base, 'den-e2e-'));
    chmodSync(this.root, 0o755);
    this.home = join(this.root, 'home');
    this.runtimeBase = join(this.root, 'run');
    // A home as useradd makes it on Debian (0755); the runtime directory private, as systemd makes it.
    for (const [dir, mode] of [
      [this.home, 0o755],
      [this.runtimeBase, 0o700],
    ] as const) {
      mkdirSync(dir, { mode });
      chmodSync(dir, mode);
      chownSync(dir, this.user.uid, this.user.gid);
    }
  }

  /** Variables every den of this environment gets (a suite's DEN_RUNTIME, say); a call's own win. */
  defaults: Record<string, string> = {};

  get rootless(): boolean {
    return this.user.uid !== 0;
  }

  /** den's data directory for this environment. */
  get dataDir(): string {
    return this.rootless ? join(this.home, '.local', 'share', 'den') : join(this.root, 'data');
  }

  get runtimeDir(): string {
    return this.rootless ? join(this.runtimeBase, 'den') : join(this.root, 'rundir');
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {
      PATH,
      HOME: this.home,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      ...this.defaults,
      ...extra,
    };
    if (this.rootless) env.XDG_RUNTIME_DIR = this.runtimeBase;
    else {
      // Root mode keeps its store in /var/lib/den unless told otherwise: point it into the sandbox.
      env.DEN_DATA_DIR = this.dataDir;
      env.DEN_RUNTIME_DIR = this.runtimeDir;
    }
    return env;
  }

  /** The argv that runs `argv` as this environment's user, with its environment. */
  wrap(argv: string[], extraEnv: Record<string, string> = {}): string[] {
    const env = Object.entries(this.env(extraEnv)).map(([k, v]) => `${k}=${v}`);
    const become = this.rootless
      ? ['setpriv', `--reuid=${this.user.uid}`, `--regid=${this.user.gid}`, '--init-groups', '--']
      : [];
    return [...become, 'env', '-i', ...env, ...argv];
  }

  den(args: string[], options: RunOptions = {}): Result {
    return this.exec([...denCommand(), ...args], options);
  }

  exec(argv: string[], options: RunOptions = {}): Result {
    const [file, ...rest] = this.wrap(argv, options.env);
    const r = spawnSync(file!, rest, {
      input: options.input ?? '',
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
      cwd: options.cwd ?? this.root,
      maxBuffer: 64 << 20, // a container's logs may be large
    });
    if (r.error) throw r.error;
    return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts den in the background (for signals and concurrency tests). */
  spawnDen(args: string[], options: SpawnOptions & { env?: Record<string, string> } = {}) {
    const [file, ...rest] = this.wrap([...denCommand(), ...args], options.env);
    return spawn(file!, rest, { cwd: this.root, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** `den(...)` without blocking the event loop (a token server or proxy in this process must answer it). */
  denAsync(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
    const child = this.spawnDen(args, options.env ? { env: options.env } : {});
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ status: code ?? 128, stdout, stderr })));
  }

  /** The pause process of this environment's rootless session, if one is alive. */
  sessionPid(): number | undefined {
    try {
      const [pid] = readFileSync(join(this.runtimeDir, 'session'), 'utf8').trim().split(' ');
      const n = Number(pid);
      return existsSync(`/proc/${n}`) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /** Mount points inside the session (rootless) or the host (root) under this environment. */
  mountsUnderRoot(): string[] {
    const pid = this.rootless ? this.sessionPid() : undefined;
    if (this.rootless && pid === undefined) return [];
    const text = readFileSync(`/proc/${pid ?? 'self'}/mountinfo`, 'utf8');
    return text
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(this.root));
  }

  /**
   * Live processes of this environment other than the session's pause process: those in the
   * session's user namespace (containers, runtimes) or naming this environment's files (den itself,
   * nsenter). Other sessions of the same user on the machine are not counted.
   */
  strayProcesses(): number[] {
    if (!this.rootless) return [];
    const pause = this.sessionPid();
    const sessionNs = pause === undefined ? undefined : nsOf(pause);
    const out = spawnSync('pgrep', ['-u', String(this.user.uid)], { encoding: 'utf8' }).stdout;
    return out
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => p !== pause && !isZombie(p))
      .filter((p) => (sessionNs !== undefined && nsOf(p) === sessionNs) || cmdline(p).includes(this.root));
  }

  /** Live pause processes started for this environment (they inherit its XDG_RUNTIME_DIR). */
  livePauseProcesses(): number[] {
    const out = spawnSync('pgrep', ['-u', String(this.user.uid), '-x', 'sleep'], { encoding: 'utf8' }).stdout;
    return out
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => !isZombie(p) && environ(p).includes(`XDG_RUNTIME_DIR=${this.runtimeBase}`));
  }

  containerDirs(): string[] {
    const dir = join(this.dataDir, 'containers');
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  /**
   * Everything of this environment that a reboot would end: its processes (containers, monitors,
   * the session) and, as root, its mounts. Its files stay.
   */
  cleanupProcesses(): void {
    // Whatever a failed test left running (a runtime, a container, a FUSE server) goes first.
    for (const stray of this.strayProcesses()) {
      try {
        process.kill(stray, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const pid = this.sessionPid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!this.rootless) {
      // Root mode: detached containers' monitors (conmon names the sandbox's paths) and the
      // containers the runtimes still hold, then the mounts, which live in the host's namespace.
      const monitors = spawnSync('pgrep', ['-f', `conmon .*${this.root}`], { encoding: 'utf8' }).stdout;
      for (const pid of monitors.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const runtime of ['crun', 'runc']) {
        const state = join(this.runtimeDir, runtime);
        for (const id of existsSync(state) ? readdirSync(state) : []) {
          spawnSync(runtime, ['--root', state, 'delete', '--force', id]);
        }
      }
      for (const m of this.mountsUnderRoot().reverse()) spawnSync('umount', ['-l', m]);
    }
  }

  cleanup(): void {
    this.cleanupProcesses();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A busybox root file system tarball (scripts/make-busybox-rootfs.sh), built once per run
 * (test/run-dir.ts) by the first file that needs it, and removed with the run.
 */
export function busyboxTarball(): string {
  return publishOnce(join(runDir(), 'fixtures', 'busybox.tar'), (tmp) => {
    const r = spawnSync('sh', [join(REPO, 'scripts', 'make-busybox-rootfs.sh'), tmp], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the busybox fixture failed: ${r.stderr}`);
    chmodSync(tmp, 0o644);
  });
}

function nsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
