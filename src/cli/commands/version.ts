import type { CommandSpec } from '../flags.js';
import { DEN_VERSION } from '../version.js';

export const spec: CommandSpec = {
  path: 'version',
  usage: 'version',
  summary: 'Show the den version',
  maxArgs: 0,
  flags: [],
};

export async function handler(): Promise<number> {
  process.stdout.write(`den version ${DEN_VERSION}\nnode ${process.version}\n`);
  return 0;
}
