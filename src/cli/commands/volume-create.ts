import type { CommandSpec, Parsed } from '../flags.js';
import { list, str } from '../flags.js';
import { createVolume, parseLabels, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'volume create',
  usage: 'volume create [OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  maxArgs: 1,
  flags: [
    { long: 'driver', short: 'd', type: 'string', help: 'Specify volume driver name (local, the only one)' },
    { long: 'label', short: 'l', type: 'list', value: 'list', help: 'Set metadata for a volume' },
    {
      long: 'opt',
      short: 'o',
      type: 'list',
      value: 'map',
      help: "Set the local driver's options: type=, device=, o= (as mount -t TYPE -o O DEVICE)",
    },
    { long: 'name', type: 'string', help: 'Specify volume name' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const options: Record<string, string> = {};
  for (const o of list(p, 'opt')) {
    const eq = o.indexOf('=');
    options[eq < 0 ? o : o.slice(0, eq)] = eq < 0 ? '' : o.slice(eq + 1);
  }
  const name = p.args[0] ?? str(p, 'name');
  const driver = str(p, 'driver');
  const v = createVolume(ctx, {
    ...(name !== undefined ? { name } : {}),
    ...(driver !== undefined ? { driver } : {}),
    labels: parseLabels(list(p, 'label')),
    options,
  });
  process.stdout.write(`${v.Name}\n`);
  return 0;
}
