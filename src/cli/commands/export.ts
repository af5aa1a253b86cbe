import { DenError } from '../../common/errors.js';
import { exportContainer, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';

export const spec: CommandSpec = {
  path: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  minArgs: 1,
  maxArgs: 1,
  flags: [{ long: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const path = str(p, 'output');
  if (path === undefined && process.stdout.isTTY) {
    throw new DenError(
      'InvalidArgument',
      'DEN0663',
      'cowardly refusing to save to a terminal. Use the -o flag or redirect',
    );
  }
  await exportContainer(ctx, p.args[0]!, path === undefined ? { stream: process.stdout } : { path });
  return 0;
}
