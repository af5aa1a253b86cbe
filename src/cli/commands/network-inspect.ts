import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { inspectNetwork, type EngineContext, type NetworkResource } from '../../engine/index.js';
import { printInspected } from '../inspect-output.js';

export const spec: CommandSpec = {
  path: 'network inspect',
  usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  minArgs: 1,
  flags: [{ long: 'format', short: 'f', type: 'string', help: 'Format output using a template like {{.Name}}' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  return printInspected<NetworkResource>(str(p, 'format'), p.args, (ref) => inspectNetwork(ctx, ref));
}
