import { exportContainer, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { archiveOutput } from '../output.js';

export const spec: CommandSpec = {
  path: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ long: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  await exportContainer(ctx, p.args[0]!, archiveOutput(str(p, 'output'), 'DEN0663'));
  return 0;
}
