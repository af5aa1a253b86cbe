/**
 * DEN_TRACE=1 prints how long each phase of a command took, to stderr: for finding where the
 * milliseconds of the run path go without a profiler. Costs one environment lookup when off.
 */
const enabled = process.env.DEN_TRACE === '1';
let last = 0;

export function trace(phase: string): void {
  if (!enabled) return;
  // performance.now() counts from the start of the process, so the first line includes Node's boot.
  const now = performance.now();
  process.stderr.write(`den trace: ${phase.padEnd(20)} +${(now - last).toFixed(1)} ms, at ${now.toFixed(1)} ms\n`);
  last = now;
}
