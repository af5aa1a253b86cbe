import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list } from '../flags.js';
import { parseVolumeFilters, pruneVolumes, type EngineContext } from '../../engine/index.js';
import { confirm } from '../confirm.js';

export const spec: CommandSpec = {
  path: 'volume prune',
  usage: 'volume prune [OPTIONS]',
  summary: 'Remove unused volumes',
  maxArgs: 0,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
    { long: 'filter', type: 'list', value: 'filter', help: 'Provide filter values (e.g. "label=KEY[=VALUE]")' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const filters = parseVolumeFilters(list(p, 'filter'), ['label', 'name']);
  const all = bool(p, 'all');
  if (!bool(p, 'force')) {
    const question = all
      ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';
    if (!(await confirm(question, 'DEN1338', 'den volume prune'))) return 0;
  }
  const removed = pruneVolumes(ctx, filters, all);
  process.stdout.write(`Deleted Volumes:\n${removed.map((n) => `${n}\n`).join('')}\nTotal reclaimed space: 0B\n`);
  return 0;
}
