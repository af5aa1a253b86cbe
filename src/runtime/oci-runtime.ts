import { readTextOrEmpty } from '../common/fs.js';
import { basename, join } from 'node:path';

/**
 * An OCI runtime binary (crun by default, runc as the alternative), driven through its command line
 * only: den hands it a bundle and calls its verbs, with a state directory (`--root`) den owns and a
 * JSON log den reads to tell the runtime's own failures from the container's exit status.
 */
export interface RuntimeFailure {
  /** The exit status docker would give: 127 command not found, 126 cannot invoke, 125 anything else. */
  exitCode: 125 | 126 | 127;
  message: string;
}

export class OciRuntime {
  constructor(
    readonly name: string,
    readonly binary: string,
    readonly stateRoot: string,
  ) {}

  private base(logFile?: string): string[] {
    const argv = [this.binary, '--root', this.stateRoot];
    if (logFile) argv.push(`--log=${logFile}`, '--log-format=json');
    return argv;
  }

  /**
   * Whether `run`, attached, sends the container's terminal to a console socket. crun does. runc
   * refuses a console socket unless it detaches; attached, it relays the terminal itself from its
   * own stdio, and copies all of the output before it exits.
   */
  get sendsTerminalWhenAttached(): boolean {
    return !basename(this.binary).startsWith('runc');
  }

  /**
   * Creates, starts and waits for the container; the runtime's exit status is the container's.
   * With a terminal, the runtime sends its master to `consoleSocket` (see console-socket.ts).
   */
  runArgv(id: string, bundle: string, logFile: string, pidFile: string, consoleSocket?: string): string[] {
    const console = consoleSocket ? ['--console-socket', consoleSocket] : [];
    return [...this.base(logFile), 'run', '--bundle', bundle, '--pid-file', pidFile, ...console, id];
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

  /**
   * Reads the runtime's JSON log after `run` ended: error entries mean the runtime itself failed
   * (the container never ran its command); no error means the status is the container's own.
   * Lines that are not JSON are not the runtime's (--log-format=json): crun relaying a terminal
   * itself was seen, once in a few hundred runs, to let the container's output into its log (den
   * now relays terminals itself where the runtime allows), and a container that ran and succeeded
   * must not be reported as a runtime failure for it.
   */
  static readFailure(logFile: string): RuntimeFailure | undefined {
    const errors: string[] = [];
    for (const line of readTextOrEmpty(logFile).split('\n')) {
      if (!line.trim()) continue;
      let entry: { level?: string; msg?: string };
      try {
        entry = JSON.parse(line) as { level?: string; msg?: string };
      } catch {
        continue;
      }
      if (entry?.level === 'error' || entry?.level === 'fatal') errors.push(entry.msg ?? line);
    }
    if (errors.length === 0) return undefined;
    const message = errors.join('; ');
    if (/executable file .* not found|no such file or directory/i.test(message)) return { exitCode: 127, message };
    if (/permission denied|is a directory|exec format error/i.test(message)) return { exitCode: 126, message };
    return { exitCode: 125, message };
  }
}

export function runtimeStateRoot(runtimeDir: string, name: string): string {
  return join(runtimeDir, name);
}
