import { pruneImages, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../output.js';

export const spec: CommandSpec = {
  path: 'image prune',
  usage: 'image prune [OPTIONS]',
  summary: 'Remove unused images, and blobs and layers nothing uses',
  maxArgs: 0,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all images no container uses, not just dangling ones' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const all = bool(p, 'all');
  if (!bool(p, 'force')) {
    const what = all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (
      !(await confirm(
        `WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `,
        'DEN0708',
        'den image prune',
      ))
    )
      return 0;
  }
  const { removed, collected } = pruneImages(ctx, all);
  if (removed.length > 0) {
    process.stdout.write('Deleted Images:\n');
    for (const id of removed) process.stdout.write(`deleted: ${id}\n`);
    process.stdout.write('\n');
  }
  process.stdout.write(
    `Total reclaimed space: ${humanSize(collected.bytes)} (${collected.layers} layers, ${collected.blobs} blobs` +
      `${collected.shiftedCopies > 0 ? `, ${collected.shiftedCopies} shifted copies` : ''})\n`,
  );
  return 0;
}
