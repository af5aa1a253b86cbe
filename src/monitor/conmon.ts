import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { failedPrecondition } from '../common/errors.js';

/**
 * conmon, the monitor of a detached container: Debian's conmon 2.1, which podman uses too. It is
 * small (about 2.5 MB resident, where a Node.js process would hold 40), and it does what den, a
 * command that exits, cannot: it stays with the container, holds its stdio (and terminal) and
 * writes them to the log, keeps an attach socket, records the exit status, and runs den's exit
 * command (`den __exited ID`) to record the end, unmount, and apply --rm and the restart policy.
 *
 * How den drives it:
 *   1. conmon [options] with _OCI_SYNCPIPE=3: conmon forks itself into the background (its pid
 *      goes to the monitor pid file; the process den started exits), runs RUNTIME create, and
 *      writes {"data": INIT_PID} to the sync pipe, or {"data": -1, "message": WHY} on failure.
 *   2. den runs RUNTIME start itself (conmon does not), and records the start.
 *   3. the container exits: conmon writes EXIT_DIR/ID (the status, in decimal) and runs the exit
 *      command with its own environment.
 *
 * The runtime conmon runs is an argv prefix (`-r` and `--runtime-arg`s): rootless, nsenter into
 * den's session followed by the runtime, so that conmon itself stays in the caller's namespaces
 * and its exit command runs den as the caller, like any den command.
 */
export interface ConmonStart {
  /** conmon's binary. */
  binary: string;
  id: string;
  name: string;
  bundle: string;
  /** The runtime's argv up to its verb: [program, ...arguments] (conmon's -r and --runtime-arg). */
  runtime: readonly string[];
  /** Where the runtime writes the container's init pid. */
  containerPidFile: string;
  /** Where conmon writes its own pid once in the background. */
  monitorPidFile: string;
  /** The k8s-file log (absent: --log-driver none), and its bound in bytes (0: none). */
  log?: { path: string; maxSize: number };
  exitDir: string;
  /** den's exit command, [program, ...arguments]. */
  exitCommand: readonly string[];
  /** Where conmon makes its attach socket (a short directory: the socket path has 108 bytes). */
  socketDir: string;
  terminal: boolean;
  /** Keep a pipe for the container's stdin, fed through the attach socket (-i). */
  stdin: boolean;
  /** Close it when the first attached client's input ends (docker's StdinOnce). */
  stdinOnce?: boolean;
}

export interface StartedMonitor {
  monitorPid: number;
  initPid: number;
}

/** conmon's command line for `start`. */
export function conmonArgv(s: ConmonStart): string[] {
  const [runtime, ...runtimeArgs] = s.runtime;
  const argv = [
    s.binary,
    '--api-version',
    '1',
    '-c',
    s.id,
    '-u',
    s.id,
    '-n',
    s.name,
    '-r',
    runtime!,
    ...runtimeArgs.flatMap((a) => ['--runtime-arg', a]),
    '-b',
    s.bundle,
    '-p',
    s.containerPidFile,
    '-P',
    s.monitorPidFile,
    '-l',
    s.log ? `k8s-file:${s.log.path}` : 'none:',
    ...(s.log && s.log.maxSize > 0 ? ['--log-size-max', String(s.log.maxSize)] : []),
    '--exit-dir',
    s.exitDir,
    '--exit-command',
    s.exitCommand[0]!,
    ...s.exitCommand.slice(1).flatMap((a) => ['--exit-command-arg', a]),
    '--socket-dir-path',
    s.socketDir,
    '--log-level',
    'error',
  ];
  if (s.terminal) argv.push('-t');
  // The container's stdin stays open when an attached client leaves: docker's `run -d -i` keeps it
  // for the next `attach`, where conmon alone would close it at the first client's end. StdinOnce
  // asks for conmon's own behaviour.
  if (s.stdin) argv.push('-i', ...(s.stdinOnce ? [] : ['--leave-stdin-open']));
  return argv;
}

/**
 * Starts conmon, which creates the container (not started yet). Resolves with conmon's pid and
 * the container's init pid once the runtime has created it; rejects with the runtime's reason.
 */
export function startConmon(s: ConmonStart, describeFailure: (message: string) => Error): Promise<StartedMonitor> {
  const [file, ...args] = conmonArgv(s);
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      // conmon writes its `oom` file (the container was killed for memory) where it runs.
      cwd: s.bundle,
      detached: true,
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (e) =>
      reject(
        failedPrecondition('DEN1107', `cannot run the container monitor ${s.binary}: ${e.message}`, {
          hint: 'install conmon (apt install conmon), or see `den system check`',
        }),
      ),
    );
    // The background conmon keeps the sync pipe open for the container's life: den reads its one
    // answer and closes its end. The pipe ends early only when conmon died before answering.
    const sync = child.stdio[3]!;
    let answered = false;
    const answer = (text: string) => {
      const reply = firstJsonLine(text);
      if (!reply) return false;
      answered = true;
      sync.destroy();
      child.stderr!.destroy();
      child.unref();
      if (typeof reply.data === 'number' && reply.data > 0) {
        resolve({ monitorPid: readPid(s.monitorPidFile), initPid: reply.data });
      } else {
        reject(describeFailure(reply.message || stderr.trim() || 'the monitor could not create the container'));
      }
      return true;
    };
    let pending = '';
    sync.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      if (!answered && pending.includes('\n')) answer(pending);
    });
    sync.on('close', () => {
      if (answered || answer(pending)) return;
      reject(describeFailure(stderr.trim() || 'the monitor exited without creating the container'));
    });
  });
}

function firstJsonLine(text: string): { data?: unknown; message?: string } | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as { data?: unknown; message?: string };
  } catch {
    return { message: `the monitor answered ${JSON.stringify(line)}` };
  }
}

function readPid(file: string): number {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}
