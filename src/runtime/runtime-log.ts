import { readTextOrEmpty } from '../common/fs.js';

/**
 * Why a runtime failed, as far as its caller cares: the container's command is missing
 * (`command-not-found`, docker's 127), is there but cannot be run (`command-cannot-run`: not
 * executable, a directory, a foreign binary; docker's 126), or the runtime failed on its own
 * account (`runtime-error`, docker's 125).
 */
export type RuntimeFailureReason = 'command-not-found' | 'command-cannot-run' | 'runtime-error';

/** A runtime's own failure, as its JSON log tells it. */
export interface RuntimeFailure {
  reason: RuntimeFailureReason;
  message: string;
}

/**
 * Only a failure to start the command itself is the command's: the runtime's words for that step
 * (crun: "executable file `x` not found in $PATH", "open executable: Permission denied"; runc:
 * `exec: "x": executable file not found in $PATH`, `exec: "/etc": permission denied`). A file
 * missing anywhere else (a mount source, a device) is the runtime's failure, not a missing command.
 */
const COMMAND_STEP = /executable file|open executable|exec: "|exec container process|exec format error/i;

/**
 * Reads a runtime's JSON log (`--log-format=json`, which crun and runc both write) after `run`
 * ended: error entries mean the runtime itself failed (the container never ran its command); no
 * error means the status is the container's own. Lines that are not JSON are not the runtime's:
 * crun relaying a terminal itself was seen, once in a few hundred runs, to let the container's
 * output into its log (den now relays terminals itself where the runtime allows), and a container
 * that ran and succeeded must not be reported as a runtime failure for it.
 */
export function readRuntimeFailure(logFile: string): RuntimeFailure | undefined {
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
  if (!COMMAND_STEP.test(message)) return { reason: 'runtime-error', message };
  if (/not found|no such file or directory/i.test(message)) return { reason: 'command-not-found', message };
  // Permission denied, and crun's "Operation not permitted" for a directory: docker's 126 for both.
  return { reason: 'command-cannot-run', message };
}
