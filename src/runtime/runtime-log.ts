import { readTextOrEmpty } from '../common/fs.js';

/** A runtime's own failure, as its JSON log tells it. */
export interface RuntimeFailure {
  /** The exit status docker would give: 127 command not found, 126 cannot invoke, 125 anything else. */
  exitCode: 125 | 126 | 127;
  message: string;
}

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
  // crun: executable file `x` not found in $PATH; runc: exec: "x": executable file not found in $PATH.
  if (/executable file (.* )?not found|no such file or directory/i.test(message)) return { exitCode: 127, message };
  if (/permission denied|is a directory|exec format error/i.test(message)) return { exitCode: 126, message };
  return { exitCode: 125, message };
}
