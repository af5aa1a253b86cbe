import type { CommandSpec, Parsed } from '../flags.js';
import { list, str } from '../flags.js';
import { networkConnect, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'network connect',
  usage: 'network connect [OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { long: 'alias', type: 'list', value: 'alias', help: 'Add network-scoped alias for the container' },
    { long: 'ip', type: 'string', help: 'IPv4 address (e.g., "172.30.100.104")' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  networkConnect(ctx, p.args[0]!, p.args[1]!, { aliases: list(p, 'alias'), ip: str(p, 'ip') });
  return 0;
}
