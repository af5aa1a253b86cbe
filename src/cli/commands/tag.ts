import type { CommandSpec, Parsed } from '../flags.js';
import { tagImage, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'tag',
  usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  minArgs: 2,
  maxArgs: 2,
  flags: [],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [source, target] = p.args as [string, string];
  tagImage(ctx, source, target);
  return 0;
}
