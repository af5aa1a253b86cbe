import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:os';
import { DenError } from './errors.js';

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A command that ran and failed. Carries the argv, the exit status and what the command said on
 * stderr, so that the person reading the error sees the tool's own words.
 */
export class CommandError extends DenError {
  readonly argv: readonly string[];
  readonly status: number;
  readonly stderr: string;

  constructor(code: string, what: string, argv: readonly string[], status: number, stderr: string) {
    const said = stderr.trim();
    super('Internal', code, `${what}: ${argv[0] ?? '?'} exited with status ${status}${said ? `: ${said}` : ''}`);
    this.argv = argv;
    this.status = status;
    this.stderr = stderr;
  }
}

/** Runs a command to completion, synchronously: for short helper calls on the hot path. */
export function runSync(argv: readonly string[], options: ExecOptions = {}): ExecResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runSync: empty argv');
  const r = spawnSync(file, args, {
    input: options.input,
    env: options.env,
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 128 + signalNumber(r.signal), stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command and throws a CommandError naming `what` when it fails. */
export function checkSync(code: string, what: string, argv: readonly string[], options: ExecOptions = {}): string {
  const r = runSync(argv, options);
  if (r.status !== 0) throw new CommandError(code, what, argv, r.status, r.stderr);
  return r.stdout;
}

/** Runs a command asynchronously, collecting its output. */
export function run(argv: readonly string[], options: ExecOptions & SpawnOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status: status ?? 128 + signalNumber(signal), stdout, stderr }));
    child.stdin?.end(options.input);
  });
}

/** The number of a signal by name, 0 for none: a process killed by it exits 128 + that number. */
export function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  return signal ? constants.signals[signal] : 0;
}
