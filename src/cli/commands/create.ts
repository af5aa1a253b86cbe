import type { CommandSpec, Parsed } from '../flags.js';
import { createContainer, type EngineContext } from '../../engine/index.js';
import { createFlags, createOptions, ensureImage } from './run.js';

export const spec: CommandSpec = {
  path: 'create',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container without starting it',
  stopAtPositional: true,
  minArgs: 1,
  flags: createFlags,
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const c = await createContainer(ctx, createOptions(p, false, await ensureImage(p, ctx)));
  process.stdout.write(`${c.id}\n`);
  return 0;
}
