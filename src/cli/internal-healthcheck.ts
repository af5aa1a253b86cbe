import { HEALTH_LOOP_DONE, scheduledHealthcheck } from '../engine/index.js';
import { withInternalContext } from './internal-context.js';

/**
 * `den __healthcheck ID`: one round of a detached container's health-check loop (the `sh` loop
 * that monitor/health-loop.ts starts, which is this process's parent). Not for people: it probes
 * the container and records the result, and exits HEALTH_LOOP_DONE when the loop is to end.
 */
export async function healthcheckMain(args: readonly string[]): Promise<number> {
  const id = args[0];
  if (!id || !/^[0-9a-f]{64}$/.test(id)) {
    process.stderr.write("den __healthcheck: expected a container id (this is den's health-check loop's probe)\n");
    return 2;
  }
  return withInternalContext(async (ctx) =>
    (await scheduledHealthcheck(ctx, id, process.ppid)) === 'done' ? HEALTH_LOOP_DONE : 0,
  );
}
