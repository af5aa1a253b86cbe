import type { CommandSpec, Parsed } from '../flags.js';
import { unpauseContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'unpause',
  usage: 'unpause CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    unpauseContainer(ctx, ref);
    process.stdout.write(`${ref}\n`);
  });
}
