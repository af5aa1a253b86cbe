import { parseLogTime, parsePruneFilters, pruneContainers, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list } from '../flags.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../output.js';

export const spec: CommandSpec = {
  path: 'container prune',
  usage: 'container prune [OPTIONS]',
  summary: 'Remove all stopped containers',
  maxArgs: 0,
  failureStatus: 1,
  flags: [
    {
      long: 'filter',
      type: 'list',
      value: 'filter',
      help: 'Provide filter values (e.g. "until=<timestamp>", "label=KEY[=VALUE]", "label!=KEY[=VALUE]")',
    },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const filters = parsePruneFilters(list(p, 'filter'), (text) => Number(parseLogTime(text, 'until') / 1_000_000n));
  if (!bool(p, 'force')) {
    const question = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';
    if (!(await confirm(question, 'DEN1146', 'den container prune'))) return 0;
  }
  const { deleted, reclaimed } = await pruneContainers(ctx, filters);
  if (deleted.length > 0) process.stdout.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}
