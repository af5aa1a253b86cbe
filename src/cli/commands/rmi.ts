import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { removeImage, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'rmi',
  usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, async (ref) => {
    const r = removeImage(ctx, ref, bool(p, 'force'));
    for (const u of r.untagged) process.stdout.write(`Untagged: ${u}\n`);
    for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
  });
}
