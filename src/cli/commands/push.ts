import { pushImage, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { registryFlags, registryOptions } from './pull.js';

export const spec: CommandSpec = {
  path: 'push',
  usage: 'push [OPTIONS] IMAGE [DESTINATION]',
  summary: 'Upload an image to a registry',
  minArgs: 1,
  maxArgs: 2,
  flags: [{ long: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' }, ...registryFlags],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [image, destination] = p.args as [string, string?];
  const registry = registryOptions(p);
  const quiet = bool(p, 'quiet');
  const say = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`);
  };
  const pushed = await pushImage(ctx, {
    image,
    ...(destination !== undefined ? { destination } : {}),
    ...registry,
    onProgress: (e) => {
      if (e.kind === 'start') say(`The push refers to repository [${e.reference}]`);
      else if (e.status === 'exists') say(`${e.id}: Layer already exists`);
      else if (e.status === 'mounted') say(`${e.id}: Mounted from another repository`);
      else if (e.status === 'pushed') say(`${e.id}: Pushed`);
    },
  });
  say(`${pushed.reference}: digest: ${pushed.digest} size: ${pushed.size}`);
  if (quiet) process.stdout.write(`${pushed.reference}\n`);
  return 0;
}
