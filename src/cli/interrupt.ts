import { DenError } from '../common/errors.js';
import { signalNumber } from '../common/exec.js';
import type { InterruptFailure } from './errors.js';

/** The signals that ask a command to stop: Ctrl-C, kill's default, a closed terminal. */
const STOPPING: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs work that writes den's store (pull, load, import) so that a signal asking it to stop stops
 * it cleanly: the work's AbortSignal is aborted, the work fails through its own failure paths, which
 * remove its temporaries, locks and leases (Node's default would end the process where it stood,
 * and leave them for `den system check --store` to report until a later den swept them), and the
 * command then exits 128 + the signal's number, as a shell reports a process the signal ended,
 * without a message. A second signal ends den at once, leaving what it had not removed yet to be
 * swept as a killed den's.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (received !== undefined) process.exit(128 + signalNumber(sig));
    received = sig;
    controller.abort(interrupted(sig));
  };
  for (const sig of STOPPING) process.on(sig, onSignal);
  try {
    return await work(controller.signal);
  } catch (e) {
    // Whatever the work failed with once it was stopped, the signal is why.
    if (received !== undefined) throw interrupted(received);
    throw e;
  } finally {
    for (const sig of STOPPING) process.off(sig, onSignal);
  }
}

function interrupted(sig: NodeJS.Signals): DenError {
  return new DenError('Unavailable', 'DEN0107', `interrupted by ${sig}`, {
    reason: `interrupted-${sig}` as InterruptFailure,
  });
}
