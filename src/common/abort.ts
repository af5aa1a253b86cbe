/**
 * Stopping work its caller no longer wants: den's CLI on SIGINT or SIGTERM, later an API client
 * that hung up. The caller passes an AbortSignal down, as Node's own APIs take one, and aborts it
 * with the error the work should fail with. Stopped work fails through the same paths as any
 * other failure, and those remove what it had half-made (temporary layers, ingest files, locks,
 * leases): an interrupted command leaves the store as a failed one does.
 *
 *   const stop = onAbort(signal, (reason) => stream.destroy(reason));
 *   try { await pipeline(...) } finally { stop(); }
 */

/** The error aborted work fails with: the reason the caller gave, else a plain one. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('the operation was aborted');
}

/** Throws the abort's reason when the signal has been aborted: between the steps of a long task. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Runs `act` with the reason when the signal is aborted (at once when it already is); returns
 * what stops listening, to call when the work it guards is over.
 */
export function onAbort(signal: AbortSignal | undefined, act: (reason: Error) => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    act(abortReason(signal));
    return () => {};
  }
  const listener = () => act(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** Waits `ms`, or fails with the abort's reason as soon as the signal is aborted. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    stop = onAbort(signal, (reason) => {
      clearTimeout(timer);
      reject(reason);
    });
  });
}

/**
 * A controller of one's own that is also aborted when `parent` is (with the parent's reason): work
 * that stops itself on its first failure, and stops too when its caller gives up.
 */
export function linkedAbort(parent: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  onAbort(parent, (reason) => controller.abort(reason));
  return controller;
}
