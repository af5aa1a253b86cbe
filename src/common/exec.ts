import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';

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

/** An executable by name, looked up in `path` (PATH's form: directories joined by ':'), or by path. */
export function findExecutable(name: string, path: string): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      continue;
    }
  }
  return undefined;
}
