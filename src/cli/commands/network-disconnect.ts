import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { isDenError } from '../../common/errors.js';
import { networkDisconnect, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'network disconnect',
  usage: 'network disconnect [OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  minArgs: 2,
  maxArgs: 2,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Do not error if the container is not on the network' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  try {
    networkDisconnect(ctx, p.args[0]!, p.args[1]!);
  } catch (e) {
    if (bool(p, 'force') && isDenError(e) && e.reason === 'not-attached') return 0;
    throw e;
  }
  return 0;
}
