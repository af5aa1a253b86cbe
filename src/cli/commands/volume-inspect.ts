import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { inspectVolume, listVolumes, type EngineContext, type VolumeInspect } from '../../engine/index.js';
import { printError } from '../errors.js';
import { parseTemplate, type Template } from '../template/index.js';

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
  const format = str(p, 'format');
  let template: Template | undefined;
  try {
    template = format && format !== 'json' ? parseTemplate(format) : undefined;
  } catch (e) {
    printError(e);
    return 64;
  }
  if (p.args.length === 0 && !bool(p, 'all')) {
    printError(new Error('"den volume inspect" requires at least 1 argument (or --all)'));
    return 1;
  }
  const found: VolumeInspect[] = bool(p, 'all') ? listVolumes(ctx) : [];
  let status = 0;
  for (const name of p.args) {
    try {
      found.push(inspectVolume(ctx, name));
    } catch (e) {
      printError(e);
      status = 1;
    }
  }
  if (template) process.stdout.write(found.map((o) => template.execute(o) + '\n').join(''));
  else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return status;
}
