import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { isDenError } from '../../common/errors.js';
import { removeContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'rm',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  minArgs: 1,
  flags: [
    { long: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { long: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
};

/** With -f a container that is not there is no failure, and docker says nothing of it. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const force = bool(p, 'force');
  const volumes = bool(p, 'volumes');
  return reportEach(p.args, {}, async (ref) => {
    try {
      await removeContainer(ctx, ref, force, volumes);
    } catch (e) {
      if (force && isDenError(e) && e.kind === 'NotFound') return;
      throw e;
    }
    process.stdout.write(`${ref}\n`);
  });
}
