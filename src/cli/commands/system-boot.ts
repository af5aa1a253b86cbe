import type { CommandSpec, Parsed } from '../flags.js';
import { restartAtBoot, type EngineContext } from '../../engine/index.js';
import { printError } from '../errors.js';

export const spec: CommandSpec = {
  path: 'system boot',
  usage: 'system boot',
  summary: 'Start the containers whose restart policy says so (always, unless-stopped); run at boot',
  maxArgs: 0,
  failureStatus: 1,
  flags: [],
};

/** Prints the name of each container started; a failure is printed and makes the status 1. */
export async function handler(_p: Parsed, ctx: EngineContext): Promise<number> {
  const { started, failed } = await restartAtBoot(ctx);
  for (const c of started) process.stdout.write(`${c.name}\n`);
  for (const f of failed) printError(f.error);
  return failed.length > 0 ? 1 : 0;
}
