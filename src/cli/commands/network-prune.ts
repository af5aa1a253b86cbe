import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list } from '../flags.js';
import { parseLogTime, parseNetworkFilters, pruneNetworks, type EngineContext } from '../../engine/index.js';
import { confirm } from '../confirm.js';

export const spec: CommandSpec = {
  path: 'network prune',
  usage: 'network prune [OPTIONS]',
  summary: 'Remove all unused networks',
  maxArgs: 0,
  flags: [
    {
      long: 'filter',
      type: 'list',
      value: 'filter',
      help: 'Provide filter values (e.g. "until=<timestamp>", "label=KEY[=VALUE]")',
    },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const filters = parseNetworkFilters(list(p, 'filter'), ['until', 'label'], (text) =>
    Number(parseLogTime(text, 'until') / 1_000_000n),
  );
  if (!bool(p, 'force')) {
    const question =
      'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';
    if (!(await confirm(question, 'DEN1239', 'den network prune'))) return 0;
  }
  const removed = pruneNetworks(ctx, filters);
  if (removed.length > 0) process.stdout.write(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
  return 0;
}
