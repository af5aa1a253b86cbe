import { containerChanges, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';

export const spec: CommandSpec = {
  path: 'diff',
  usage: 'diff CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  minArgs: 1,
  maxArgs: 1,
  failureStatus: 1,
  flags: [],
};

/** docker's lines: `A /path` added, `C /path` changed, `D /path` deleted, a directory before what is in it. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const changes = await containerChanges(ctx, p.args[0]!);
  process.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
  return 0;
}
