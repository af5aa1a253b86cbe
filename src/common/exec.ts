import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';

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

/** The number of a signal by name, 0 for none: a process killed by it exits 128 + that number. */
export function signalNumber(signal: NodeJS.Signals | null | undefined): number {
  return signal ? constants.signals[signal] : 0;
}
