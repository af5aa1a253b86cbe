import { isDenError } from '../common/errors.js';
import type { RunFailure, UserLookupFailure } from '../engine/index.js';

/**
 * A command line den cannot parse (flags.ts throws it): `usage` for its flags (an unknown flag, a
 * flag without its value, a value of the wrong type), `arguments` for the number of its arguments.
 */
export type UsageFailure = 'usage' | 'arguments';

/** A command stopped by a signal (interrupt.ts): it exits 128 + the signal's number, silently. */
export type InterruptFailure = 'interrupted-SIGINT' | 'interrupted-SIGTERM' | 'interrupted-SIGHUP';

/**
 * docker's exit statuses for failures with a status of their own; the rest get the command's
 * (`CommandSpec.failureStatus`). docker gives 125 to its flag errors everywhere (cobra's flag
 * error function), but 1 to a wrong number of arguments, even for run and create (cobra's argument
 * check returns a plain error); 126 and 127 when the container's command cannot run or is
 * missing, and 1 to `-it` without a terminal.
 */
const STATUS_BY_REASON: Record<RunFailure | UserLookupFailure | UsageFailure | InterruptFailure, number | undefined> = {
  'command-not-found': 127,
  'command-cannot-run': 126,
  'unknown-user': 126,
  'unknown-group': 126,
  'not-a-tty': 1,
  'runtime-error': undefined,
  usage: 125,
  arguments: 1,
  'interrupted-SIGINT': 130,
  'interrupted-SIGTERM': 143,
  'interrupted-SIGHUP': 129,
};

/** docker's status for a failure of a command other than run and create: its daemon's errors. */
export const DEFAULT_FAILURE_STATUS = 1;

/**
 * The exit status for a failure: the reason's, else the command's: docker's run and create exit
 * 125 when docker itself fails, its other commands 1.
 */
export function exitCodeFor(e: unknown, failureStatus = DEFAULT_FAILURE_STATUS): number {
  const reason = isDenError(e) ? e.reason : undefined;
  if (reason !== undefined && reason in STATUS_BY_REASON) {
    return STATUS_BY_REASON[reason as keyof typeof STATUS_BY_REASON] ?? failureStatus;
  }
  return failureStatus;
}

/**
 * The one place errors are printed: message, then what to do. A usage error is printed in
 * docker's words (`unknown flag: --x` and `See 'den run --help'.`). Internal errors also show the
 * stack with DEN_DEBUG.
 */
export function printError(e: unknown): void {
  if (isDenError(e)) {
    // Stopped by a signal: the status says so, as for any process a signal ended.
    if (e.reason?.startsWith('interrupted-')) return;
    if (e.reason === ('usage' satisfies UsageFailure) || e.reason === ('arguments' satisfies UsageFailure)) {
      process.stderr.write(`${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
    } else {
      process.stderr.write(`Error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`Hint: ${e.hint}\n`);
    }
    if (process.env.DEN_DEBUG) {
      process.stderr.write(`${e.code} ${e.kind}\n${e.stack ?? ''}\n`);
      for (let c = e.cause; c instanceof Error; c = c.cause)
        process.stderr.write(`caused by: ${c.stack ?? c.message}\n`);
    }
    return;
  }
  const err = e as Error;
  process.stderr.write(`Error: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.DEN_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
}
