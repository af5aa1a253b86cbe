import { printError, exitCodeFor } from './errors.js';

/**
 * Runs an action for each argument, as docker's multi-argument commands do: every argument is
 * tried, each failure is printed, and the exit status is that of the last failure (0 if none).
 */
export async function reportEach(args: readonly string[], action: (arg: string) => Promise<void>): Promise<number> {
  let status = 0;
  for (const arg of args) {
    try {
      await action(arg);
    } catch (e) {
      printError(e);
      status = exitCodeFor(e);
    }
  }
  return status;
}
