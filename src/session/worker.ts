import { spawn } from 'node:child_process';
import { closeSync, createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { largePipe } from '../common/large-pipe.js';
import { isErrorCode } from '../common/error-codes.js';
import { DenError, errnoCode, isDenError, type ErrorKind } from '../common/errors.js';
import type { Namespaces } from './session.js';

/**
 * den's workers: den itself, started again inside the rootless session (`den __unpack`, `den
 * __shift`) for work that must give files subordinate ids, which only a process in the session
 * can. One protocol for all of them, both halves here, so a worker's failure reaches the den that
 * waits as the same DenError (kind, code, hint, reason) it was in the worker:
 *
 *   den                                    worker (inside the session)
 *   runWorker(ns, self, '__shift', args) -> serveWorker(work)
 *                                        <- {"progress": P}      any number, one JSON line each
 *                                        <- {"result": R}        or {"error": {kind, code, ...}}
 *
 * Data goes beside the answers: into the worker's stdin (`stdin`, a layer to unpack), and out of its
 * descriptor 3 (`output`, an archive it makes), never mixed with the answer lines on stdout.
 *
 * The worker's last argument is the waiting den's pid: a worker whose den is gone (killed before
 * or while it worked) is an orphan, and stops and removes what it made (`orphaned`).
 */
export interface WorkerAnswer<P, R> {
  progress?: P;
  result?: R;
  error?: WorkerError;
}

interface WorkerError {
  kind: ErrorKind;
  code: string;
  message: string;
  hint?: string;
  reason?: string;
  /**
   * The system's error code under it (ENOSPC, EDQUOT...), which the den that waits gives the error
   * as its cause: a full disk met by the worker is then said as one (state/storage-errors.ts).
   */
  errno?: string;
}

/** den itself: Node and den's entry script. */
export interface WorkerProgram {
  node: string;
  script: string | undefined;
}

export interface WorkerCall<P> {
  /** Bytes for the worker's stdin (a layer's tar); none by default. */
  stdin?: Readable;
  /** Where the bytes the worker writes to its descriptor 3 go (an archive it makes); none by default. */
  output?: Writable;
  onProgress?: (progress: P) => void;
  /** The error when the worker ends without an answer (killed, crashed), from its exit status. */
  noAnswer: (status: number) => DenError;
}

const STDIN_PIPE_BYTES = 1 << 20;

/** Starts den's worker `name` inside `ns` and waits for its result; its error is thrown as a DenError. */
export async function runWorker<P, R>(
  ns: Namespaces,
  self: WorkerProgram,
  name: `__${string}`,
  args: readonly string[],
  call: WorkerCall<P>,
): Promise<R> {
  if (!self.script) throw new DenError('Internal', 'DEN0504', `cannot find den's entry script to start ${name}`);
  // `--`: Node 20 scans its whole command line for --env-file, and a worker's arguments are paths.
  const [file, ...argv] = ns.wrap([self.node, '--', self.script, name, ...args, String(process.pid)]);
  // The worker's stdin a pipe of 1 MiB (common/large-pipe.ts) rather than Node's socket pair, which
  // moves 200 KiB at a time: the unpacker then reads a layer in 1 MiB pieces.
  const pipe = call.stdin ? largePipe(STDIN_PIPE_BYTES) : undefined;
  let child;
  try {
    child = spawn(file!, argv, {
      stdio: [
        pipe ? pipe.read : call.stdin ? 'pipe' : 'ignore',
        'pipe',
        'inherit',
        ...(call.output ? (['pipe'] as const) : []),
      ],
    });
  } catch (e) {
    if (pipe) closeSync(pipe.write);
    throw e;
  } finally {
    // The child has its own copy of the read end; ours would keep the pipe open past its exit.
    if (pipe) closeSync(pipe.read);
  }
  // The output is read to its end before the worker counts as finished ('close' waits for it).
  let outputDone: Promise<void> = Promise.resolve();
  if (call.output) {
    const data = child.stdio[3] as Readable;
    const output = call.output;
    outputDone = new Promise<void>((resolve) => {
      data.on('end', resolve).on('error', resolve).on('close', resolve);
      // A reader that goes away (a closed pipe, a consumer that gave up) stops the worker: it gets
      // EPIPE and answers, instead of waiting for ever to write.
      output.on('error', () => data.destroy());
      output.on('close', () => data.destroy());
    });
    data.pipe(output, { end: false });
  }
  let last: WorkerAnswer<P, R> | undefined;
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const answer = parseAnswer<P, R>(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (answer?.progress !== undefined) call.onProgress?.(answer.progress);
      else if (answer) last = answer;
    }
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  const stdin: Writable | null = pipe
    ? createWriteStream('', { fd: pipe.write, highWaterMark: STDIN_PIPE_BYTES })
    : child.stdin;
  if (call.stdin && stdin) {
    const input = call.stdin;
    // The worker may fail early (a hostile entry) and stop reading: the resulting EPIPE is not the
    // error, the worker's own answer says why. If the input breaks (a truncated gzip), end the
    // worker's input too, or it waits for more forever.
    stdin.on('error', () => {});
    input.on('error', () => stdin.destroy());
    input.pipe(stdin);
    exited
      .finally(() => {
        input.unpipe(stdin);
        // Node closes a child's own stdin when it exits; the pipe's write end is ours to close.
        if (pipe) stdin.destroy();
      })
      .catch(() => {});
  }
  const status = await exited;
  await outputDone;
  if (status === 0 && last?.result !== undefined) return last.result;
  const e = last?.error;
  if (e && isErrorCode(e.code)) {
    throw new DenError(e.kind, e.code, e.message, {
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.errno ? { cause: Object.assign(new Error(`${e.errno} in the worker`), { code: e.errno }) } : {}),
    });
  }
  throw call.noAnswer(status);
}

function parseAnswer<P, R>(line: string): WorkerAnswer<P, R> | undefined {
  if (!line.trim()) return undefined;
  try {
    return JSON.parse(line) as WorkerAnswer<P, R>;
  } catch {
    return undefined; // not an answer line
  }
}

/** The worker's half: true once the den that waits (the last argument) is gone. */
export function orphanCheck(parentPid: string | undefined): () => boolean {
  return () => parentPid !== undefined && process.ppid !== Number(parentPid);
}

/**
 * Runs a worker's work and answers: progress lines while it runs, then its result or its error.
 * A DenError keeps its kind, code, hint and reason; anything else is made one by `unexpected`.
 * Returns the worker's exit status.
 */
export async function serveWorker<P, R>(
  unexpected: (e: unknown) => DenError,
  work: (progress: (p: P) => void) => Promise<R>,
): Promise<number> {
  const say = (answer: WorkerAnswer<P, R>) => process.stdout.write(JSON.stringify(answer) + '\n');
  try {
    const result = await work((progress) => say({ progress }));
    say({ result });
    return 0;
  } catch (e) {
    const d = isDenError(e) ? e : unexpected(e);
    const errno = systemCode(e);
    const error: WorkerError = {
      kind: d.kind,
      code: d.code,
      message: d.message,
      ...(d.hint ? { hint: d.hint } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(errno ? { errno } : {}),
    };
    say({ error });
    return 1;
  }
}

/** The first E* code (a system call's failure) among an error and its causes. */
function systemCode(e: unknown): string | undefined {
  for (let c = e, depth = 0; c instanceof Error && depth < 10; c = c.cause, depth++) {
    const code = errnoCode(c);
    if (code !== undefined && /^E[A-Z0-9]+$/.test(code)) return code;
  }
  return undefined;
}
