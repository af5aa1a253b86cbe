import type { CommandSpec, Parsed } from '../flags.js';
import { waitContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  failureStatus: 1,
  flags: [],
};

/** docker's wait: each container in turn, its exit code on a line of its own. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    process.stdout.write(`${await waitContainer(ctx, ref)}\n`);
  });
}
