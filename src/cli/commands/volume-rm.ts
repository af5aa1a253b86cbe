import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { isDenError } from '../../common/errors.js';
import { removeVolume, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'volume rm',
  usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Do not error if the volume does not exist' }],
};

/** docker's rule: a volume a container uses (running or not) is refused, with or without -f. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const force = bool(p, 'force');
  return reportEach(p.args, {}, async (name) => {
    try {
      removeVolume(ctx, name);
    } catch (e) {
      if (force && isDenError(e) && e.kind === 'NotFound') return;
      throw e;
    }
    process.stdout.write(`${name}\n`);
  });
}
