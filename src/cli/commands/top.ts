import type { CommandSpec, Parsed } from '../flags.js';
import { topContainer, type EngineContext } from '../../engine/index.js';
import { tabwrite } from '../output.js';

export const spec: CommandSpec = {
  path: 'top',
  usage: 'top CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  stopAtPositional: true,
  minArgs: 1,
  failureStatus: 1,
  flags: [],
};

/** docker's top table: ps's columns (default `ps -ef`), aligned as docker's CLI does (at least 20 wide). */
const TOP_MIN_WIDTH = 20;

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [container, ...psArgs] = p.args as [string, ...string[]];
  const top = topContainer(ctx, container, psArgs);
  const lines = [top.titles, ...top.processes].map((cells) => cells.join('\t') + '\n').join('');
  process.stdout.write(tabwrite(lines, TOP_MIN_WIDTH));
  return 0;
}
