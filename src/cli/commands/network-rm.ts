import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { isDenError } from '../../common/errors.js';
import { removeNetwork, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'network rm',
  usage: 'network rm [OPTIONS] NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Do not error if the network does not exist' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const force = bool(p, 'force');
  return reportEach(p.args, {}, async (ref) => {
    try {
      removeNetwork(ctx, ref);
    } catch (e) {
      if (force && isDenError(e) && e.kind === 'NotFound') return;
      throw e;
    }
    process.stdout.write(`${ref}\n`);
  });
}
