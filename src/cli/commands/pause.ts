import type { CommandSpec, Parsed } from '../flags.js';
import { pauseContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'pause',
  usage: 'pause CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    pauseContainer(ctx, ref);
    process.stdout.write(`${ref}\n`);
  });
}
