import type { CommandSpec, Parsed } from '../flags.js';
import { createContainer, planLimits, type EngineContext } from '../../engine/index.js';
import { shiftProgress } from '../shift-progress.js';
import { createFlags, createSpec, ensureImage } from './run.js';

export const spec: CommandSpec = {
  path: 'create',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container without starting it',
  stopAtPositional: true,
  minArgs: 1,
  flags: createFlags,
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const spec = createSpec(p, false);
  planLimits(ctx, spec.limits); // refused before anything is pulled
  spec.image = await ensureImage(p, ctx);
  const c = await createContainer(ctx, spec, shiftProgress());
  process.stdout.write(`${c.id}\n`);
  return 0;
}
