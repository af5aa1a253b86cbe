import type { CommandSpec, Parsed } from '../flags.js';
import { renameContainer, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'rename',
  usage: 'rename CONTAINER NEW_NAME',
  summary: 'Rename a container',
  minArgs: 2,
  maxArgs: 2,
  failureStatus: 1,
  flags: [],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  renameContainer(ctx, p.args[0]!, p.args[1]!);
  return 0;
}
