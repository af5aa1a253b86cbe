import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { archiveOutput } from '../output.js';
import { saveArchive, type ArchiveFormat, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'save',
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  minArgs: 1,
  flags: [
    { long: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' },
    {
      long: 'format',
      type: 'string',
      help: 'Archive format: docker-archive (default) or oci-archive',
      value: 'format',
    },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const output = archiveOutput(str(p, 'output'), 'DEN0966');
  await saveArchive(ctx, {
    refs: p.args,
    format: (str(p, 'format') ?? 'docker-archive') as ArchiveFormat,
    output,
  });
  return 0;
}
