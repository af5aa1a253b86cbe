import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { removeContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'rm',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, async (ref) => {
    await removeContainer(ctx, ref, bool(p, 'force'));
    process.stdout.write(`${ref}\n`);
  });
}
