import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';
import { listNetworks, parseNetworkFilters, type EngineContext } from '../../engine/index.js';
import { formatRows, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'network ls',
  usage: 'network ls [OPTIONS]',
  summary: 'List networks',
  maxArgs: 0,
  flags: [
    {
      long: 'filter',
      short: 'f',
      type: 'list',
      value: 'filter',
      help: 'Provide filter values: name=, id=, driver=, label=KEY[=VALUE], type=custom|builtin, dangling=true|false',
    },
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.Name}}' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
    { long: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
  ],
};

/** docker's `network ls` table (docker/cli formatter/network.go). */
const NETWORK_FORMAT: ListFormat = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  titles: {
    ID: 'NETWORK ID',
    Name: 'NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    IPv6: 'IPV6',
    Internal: 'INTERNAL',
    Labels: 'LABELS',
    CreatedAt: 'CREATED AT',
  },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const filters = parseNetworkFilters(list(p, 'filter'), ['name', 'id', 'driver', 'label', 'type', 'dangling']);
  const networks = listNetworks(ctx, filters);
  const noTrunc = bool(p, 'no-trunc');
  if (bool(p, 'quiet')) {
    process.stdout.write(networks.map((n) => `${noTrunc ? n.id : n.id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  const rows = networks.map((n) => ({
    ID: noTrunc ? n.id : n.id.slice(0, 12),
    Name: n.name,
    Driver: n.driver,
    Scope: 'local',
    IPv6: 'false',
    Internal: String(n.internal),
    Labels: Object.entries(n.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    CreatedAt: n.created,
  }));
  process.stdout.write(formatRows(str(p, 'format'), rows, NETWORK_FORMAT));
  return 0;
}
