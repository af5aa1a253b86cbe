import type { CommandSpec, Parsed } from '../flags.js';
import { bool } from '../flags.js';
import { removeToolbox, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'toolbox rm',
  usage: 'toolbox rm [OPTIONS] NAME [NAME...]',
  summary: 'Remove toolboxes (your home directory is not touched)',
  minArgs: 1,
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Remove a running toolbox too' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const force = bool(p, 'force');
  return reportEach(p.args, {}, async (name) => {
    await removeToolbox(ctx, name, force);
    process.stdout.write(`${name}\n`);
  });
}
