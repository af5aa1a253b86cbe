import { commitContainer, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';

export const spec: CommandSpec = {
  path: 'commit',
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  minArgs: 1,
  maxArgs: 2,
  failureStatus: 1,
  flags: [
    { long: 'author', short: 'a', type: 'string', help: 'Author of the new image ("Name <email>")' },
    {
      long: 'change',
      short: 'c',
      type: 'list',
      help: 'Apply Dockerfile instruction to the created image',
      value: 'list',
    },
    { long: 'message', short: 'm', type: 'string', help: 'Commit message' },
    {
      long: 'pause',
      short: 'p',
      type: 'bool',
      help: 'Pause container during commit (default true; where it has no freezer, den says so and commits as it runs)',
    },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [container, name] = p.args as [string, string?];
  const author = str(p, 'author');
  const message = str(p, 'message');
  const image = await commitContainer(ctx, {
    container,
    ...(name !== undefined ? { name } : {}),
    ...(author !== undefined ? { author } : {}),
    ...(message !== undefined ? { message } : {}),
    changes: list(p, 'change'),
    pause: p.flags.has('pause') ? bool(p, 'pause') : true,
  });
  process.stdout.write(`${image.id}\n`);
  return 0;
}
