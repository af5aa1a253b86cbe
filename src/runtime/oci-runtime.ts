import { join } from 'node:path';

/**
 * An OCI runtime (crun by default, runc as the alternative), driven through its command line
 * only: den hands it a bundle and calls its verbs, with a state directory (`--root`) den owns and a
 * JSON log den reads (runtime-log.ts) to tell the runtime's own failures from the container's exit
 * status. The verbs return argv rather than running it: rootless, every runtime call has to run
 * inside the session's namespaces (the engine wraps it with `Namespaces.wrap`), and `run` is
 * exec'ed by the shell that mounted the root file system, so that signals reach it.
 *
 * The lifecycle, as the OCI runtime spec draws it:
 *
 *   create(id, bundle) -> created -> start(id) -> running -> (exit) -> stopped -> delete(id)
 *   run(id, bundle) is create + start + wait, attached to the caller's stdio
 *   kill(id, SIG) signals the container's init; state(id) prints its JSON state
 *   pause(id) freezes a running container's processes (its cgroup's freezer), resume(id) thaws them
 *   exec(id, process.json) runs one more process in a running container's namespaces
 *
 * Each runtime has an adapter (crun-runtime.ts, runc-runtime.ts) for where they differ.
 */
export interface OciRuntime {
  /** What the runtime is, told by what the binary says of itself (not its file name). */
  readonly kind: RuntimeKind;
  /** The binary's path. */
  readonly binary: string;
  /** Where it keeps containers' state (`--root`): den's own, per runtime. */
  readonly stateRoot: string;
  /** What the binary says of itself, the first line of `--version`: "crun version 1.8.1". */
  readonly version: string;
  readonly features: RuntimeFeatures;
  /** The runtime's argv before its verb (its state root, and its JSON log when given): a monitor appends the verb. */
  globalArgv(logFile?: string): string[];
  /** Creates, starts and waits for the container; the runtime's exit status is the container's. */
  runArgv(id: string, bundle: string, io: RunIo): string[];
  /** Creates the container (its init waits for start); with a terminal, sends it to the console socket. */
  createArgv(id: string, bundle: string, io: RunIo): string[];
  startArgv(id: string): string[];
  /**
   * Runs the process a process.json describes (exec-process.ts) in the running container: attached,
   * the runtime waits for it and exits with its status; with `detach`, it returns once the process runs.
   */
  execArgv(id: string, processFile: string, io: ExecIo): string[];
  /** Prints the container's state as JSON (`parseState` reads it). */
  stateArgv(id: string): string[];
  killArgv(id: string, signal: string): string[];
  deleteArgv(id: string): string[];
  /** Freezes every process of the container (the cgroup freezer: the container needs a cgroup of its own). */
  pauseArgv(id: string): string[];
  /** Thaws what pause froze. */
  resumeArgv(id: string): string[];
}

export type RuntimeKind = 'crun' | 'runc';

export interface RuntimeFeatures {
  /**
   * Whether `run` and `exec`, attached, send the process's terminal to a console socket. crun does. runc
   * refuses a console socket unless it detaches; attached, it relays the terminal itself from its
   * own stdio, and copies all of the output before it exits.
   */
  sendsTerminalWhenAttached: boolean;
}

/** Where a run's or create's outputs go. */
export interface RunIo {
  /** The runtime's JSON log. */
  logFile: string;
  /** Where the runtime writes the container init's pid. */
  pidFile: string;
  /** With a terminal: the socket the runtime sends its master to (console-socket.ts). */
  consoleSocket?: string;
}

/** Where an exec's outputs go. */
export interface ExecIo {
  /** The runtime's JSON log; absent: none (its errors on stderr). */
  logFile?: string;
  /** Where the runtime writes the process's host pid. */
  pidFile?: string;
  /** Return once the process runs, rather than wait for it (its stdio is the runtime's). */
  detach: boolean;
  /** With a terminal: the socket the runtime sends its master to. */
  consoleSocket?: string;
}

/** The part of the OCI state den reads. */
export interface RuntimeState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  pid: number;
}

/** The argv both runtimes share: their command lines are the OCI runtime command line. */
export abstract class CommandLineRuntime implements OciRuntime {
  abstract readonly kind: RuntimeKind;
  abstract readonly features: RuntimeFeatures;

  constructor(
    readonly binary: string,
    readonly stateRoot: string,
    readonly version: string,
  ) {}

  globalArgv(logFile?: string): string[] {
    return this.base(logFile);
  }

  protected base(logFile?: string): string[] {
    const argv = [this.binary, '--root', this.stateRoot];
    if (logFile) argv.push(`--log=${logFile}`, '--log-format=json');
    return argv;
  }

  protected ioArgs(io: RunIo): string[] {
    return ['--pid-file', io.pidFile, ...(io.consoleSocket ? ['--console-socket', io.consoleSocket] : [])];
  }

  runArgv(id: string, bundle: string, io: RunIo): string[] {
    return [...this.base(io.logFile), 'run', '--bundle', bundle, ...this.ioArgs(io), id];
  }

  createArgv(id: string, bundle: string, io: RunIo): string[] {
    return [...this.base(io.logFile), 'create', '--bundle', bundle, ...this.ioArgs(io), id];
  }

  startArgv(id: string): string[] {
    return [...this.base(), 'start', id];
  }

  execArgv(id: string, processFile: string, io: ExecIo): string[] {
    return [
      ...this.base(io.logFile),
      'exec',
      '--process',
      processFile,
      ...(io.pidFile ? ['--pid-file', io.pidFile] : []),
      ...(io.detach ? ['--detach'] : []),
      ...(io.consoleSocket ? ['--console-socket', io.consoleSocket] : []),
      id,
    ];
  }

  stateArgv(id: string): string[] {
    return [...this.base(), 'state', id];
  }

  /**
   * Signals the container's init. Not `--all`: it walks the container's cgroup, and a rootless
   * container without a delegated cgroup has none, so crun signals nothing and still exits 0.
   * Every den container has a pid namespace of its own, so killing init ends all of it.
   */
  killArgv(id: string, signal: string): string[] {
    return [...this.base(), 'kill', id, signal];
  }

  deleteArgv(id: string): string[] {
    return [...this.base(), 'delete', '--force', id];
  }

  pauseArgv(id: string): string[] {
    return [...this.base(), 'pause', id];
  }

  resumeArgv(id: string): string[] {
    return [...this.base(), 'resume', id];
  }
}

/** Reads the output of `state`; undefined when it is not an OCI state. */
export function parseState(stdout: string): RuntimeState | undefined {
  try {
    const s = JSON.parse(stdout) as Partial<RuntimeState>;
    if (typeof s.id !== 'string' || typeof s.status !== 'string' || typeof s.pid !== 'number') return undefined;
    return { id: s.id, status: s.status, pid: s.pid };
  } catch {
    return undefined;
  }
}

export function runtimeStateRoot(runtimeDir: string, name: string): string {
  return join(runtimeDir, name);
}
