import { printError, exitCodeFor } from './errors.js';

export interface ReportOptions {
  /** The command's exit status for a failure (CommandSpec.failureStatus; docker's 1 by default). */
  failureStatus?: number;
  /** Failures that are printed but leave the status alone (docker's `rmi -f` of a missing image). */
  tolerated?: (e: unknown) => boolean;
}

/**
 * Runs an action for each argument, as docker's multi-argument commands do: every argument is
 * tried, each failure is printed, and the exit status is that of the last failure (0 if none).
 */
export async function reportEach(
  args: readonly string[],
  options: ReportOptions,
  action: (arg: string) => Promise<void>,
): Promise<number> {
  let status = 0;
  for (const arg of args) {
    try {
      await action(arg);
    } catch (e) {
      printError(e);
      if (!options.tolerated?.(e)) status = exitCodeFor(e, options.failureStatus);
    }
  }
  return status;
}
