import type { CommandSpec, Parsed } from '../flags.js';
import { reclaimVolume, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'volume reclaim',
  usage: 'volume reclaim VOLUME [VOLUME...]',
  summary:
    "Give a volume's files back the owners the session's mapping sees (rootless, after a container with a range of its own used it)",
  minArgs: 1,
  flags: [],
};

/** Not docker's: den's repair of a rootless volume (docs/volumes.md). */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return reportEach(p.args, {}, async (name) => {
    const entries = await reclaimVolume(ctx, name);
    process.stdout.write(entries > 0 ? `${name}: ${entries} entries given back\n` : `${name}: already canonical\n`);
  });
}
