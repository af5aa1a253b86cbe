import type { CommandSpec, Parsed } from '../flags.js';
import { list, str } from '../flags.js';
import { importImage, type EngineContext } from '../../engine/index.js';
import { interruptible } from '../interrupt.js';

export const spec: CommandSpec = {
  path: 'import',
  usage: 'import [OPTIONS] FILE|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  minArgs: 1,
  maxArgs: 2,
  flags: [
    {
      long: 'change',
      short: 'c',
      type: 'list',
      help: 'Apply Dockerfile instruction to the created image',
      value: 'list',
    },
    { long: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [source, name] = p.args as [string, string?];
  const image = await interruptible((signal) =>
    importImage(ctx, { source, name, changes: list(p, 'change'), message: str(p, 'message'), signal }),
  );
  process.stdout.write(`${image.id}\n`);
  return 0;
}
