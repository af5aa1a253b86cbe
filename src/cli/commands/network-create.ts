import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';
import { createNetwork, parseLabels, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'network create',
  usage: 'network create [OPTIONS] NETWORK',
  summary: 'Create a network',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'driver', short: 'd', type: 'string', help: 'Driver to manage the Network (bridge, the only one)' },
    { long: 'subnet', type: 'string', help: 'Subnet in CIDR format, IPv4 (default: the next free 10.89.N.0/24)' },
    { long: 'gateway', type: 'string', help: "IPv4 gateway for the subnet (default: the subnet's first address)" },
    { long: 'internal', type: 'bool', help: 'Restrict external access to the network (no route out)' },
    { long: 'label', type: 'list', value: 'label', help: 'Set metadata on a network' },
    {
      long: 'opt',
      short: 'o',
      type: 'list',
      value: 'opt',
      help: 'Set driver specific options: mtu=BYTES, dns_enabled=false (no name resolution)',
    },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const options: Record<string, string> = {};
  for (const o of list(p, 'opt')) {
    const eq = o.indexOf('=');
    options[eq < 0 ? o : o.slice(0, eq)] = eq < 0 ? '' : o.slice(eq + 1);
  }
  const n = createNetwork(ctx, {
    name: p.args[0]!,
    driver: str(p, 'driver') ?? 'bridge',
    subnet: str(p, 'subnet'),
    gateway: str(p, 'gateway'),
    internal: bool(p, 'internal'),
    labels: parseLabels(list(p, 'label')),
    options,
  });
  process.stdout.write(`${n.id}\n`);
  return 0;
}
