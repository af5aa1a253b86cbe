import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { DenError } from '../../common/errors.js';
import { loadArchive, type EngineContext } from '../../engine/index.js';
import { familiarName, parseReference } from '../../images/index.js';
import { interruptible } from '../interrupt.js';

export const spec: CommandSpec = {
  path: 'load',
  usage: 'load [OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  maxArgs: 0,
  flags: [
    { long: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const source = str(p, 'input') ?? '-';
  if (source === '-' && process.stdin.isTTY) {
    throw new DenError('InvalidArgument', 'DEN0962', 'requested load from stdin, but stdin is empty', {
      hint: 'use -i FILE, or redirect: den load < FILE',
    });
  }
  const images = await interruptible((signal) =>
    loadArchive(ctx, { source, signal, onWarning: (message) => process.stderr.write(`warning: ${message}\n`) }),
  );
  // As docker, -q only silences progress, which den does not show: what was loaded is still said.
  for (const image of images) {
    for (const m of image.moved) {
      const name = familiarName(parseReference(m.name));
      process.stdout.write(
        `The image ${name} already exists, renaming the old one with ID ${m.from} to empty string\n`,
      );
    }
    if (image.names.length === 0) process.stdout.write(`Loaded image ID: ${image.id}\n`);
    for (const name of image.names) process.stdout.write(`Loaded image: ${familiarName(parseReference(name))}\n`);
  }
  return 0;
}
