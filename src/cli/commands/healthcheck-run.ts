import type { CommandSpec, Parsed } from '../flags.js';
import { runHealthcheck, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'healthcheck run',
  usage: 'healthcheck run CONTAINER',
  summary: "Run a container's health check now",
  minArgs: 1,
  maxArgs: 1,
  // podman's: 0 healthy, 1 unhealthy, 125 when the check could not run at all.
  failureStatus: 125,
  flags: [],
};

/**
 * podman's verb: one probe now, recorded as the scheduled ones are. Silent and 0 when it passed;
 * when it failed, the container's health after it (unhealthy, or starting while failures do not
 * count yet) and 1.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const { probe, health } = await runHealthcheck(ctx, p.args[0]!);
  if (probe.exitCode === 0) return 0;
  process.stdout.write(`${health.status === 'starting' ? 'starting' : 'unhealthy'}\n`);
  return 1;
}
