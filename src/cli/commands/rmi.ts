import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { isDenError } from '../../common/errors.js';
import { removeImage, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'rmi',
  usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' }],
};

/** With -f an image that is not there is still reported, as docker does, but is no failure. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const force = bool(p, 'force');
  const tolerated = (e: unknown) => force && isDenError(e) && e.kind === 'NotFound';
  return reportEach(p.args, { tolerated }, async (ref) => {
    const r = removeImage(ctx, ref, force);
    for (const u of r.untagged) process.stdout.write(`Untagged: ${u}\n`);
    for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
  });
}
