import { isDenError } from '../common/errors.js';

/** docker's exit statuses for den's own failures: 125, unless the error names another (126, 127). */
export function exitCodeFor(e: unknown): number {
  if (isDenError(e) && e.exitCode !== undefined) return e.exitCode;
  return 125;
}

/** The one place errors are printed: message, then what to do. Internal errors also show the stack with DEN_DEBUG. */
export function printError(e: unknown): void {
  if (isDenError(e)) {
    process.stderr.write(`Error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`Hint: ${e.hint}\n`);
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
