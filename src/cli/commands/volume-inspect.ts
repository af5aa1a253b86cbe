import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { inspectVolume, listVolumes, type EngineContext, type VolumeInspect } from '../../engine/index.js';
import { printError } from '../errors.js';
import { printInspected } from '../inspect-output.js';

export const spec: CommandSpec = {
  path: 'volume inspect',
  usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  flags: [
    { long: 'format', short: 'f', type: 'string', help: 'Format output using a template like {{.Mountpoint}}' },
    { long: 'all', short: 'a', type: 'bool', help: 'Inspect all volumes' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  if (p.args.length === 0 && !bool(p, 'all')) {
    printError(new Error('"den volume inspect" requires at least 1 argument (or --all)'));
    return 1;
  }
  const all = bool(p, 'all') ? listVolumes(ctx) : [];
  return printInspected<VolumeInspect>(str(p, 'format'), p.args, (name) => inspectVolume(ctx, name), all);
}
