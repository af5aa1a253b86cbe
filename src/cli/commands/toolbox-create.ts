import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { checkToolboxName, createToolbox, defaultToolboxName, type EngineContext } from '../../engine/index.js';
import { attachedIO } from './run.js';
import {
  defaultImage,
  ensureToolboxImage,
  hostName,
  SHARE_FLAGS,
  shareFromFlags,
  toolboxCaller,
} from '../toolbox-caller.js';

export const spec: CommandSpec = {
  path: 'toolbox create',
  usage: 'toolbox create [OPTIONS] [NAME]',
  summary: 'Create a toolbox: a container that is your own workspace (your user, home, shell and network)',
  maxArgs: 1,
  flags: [
    {
      long: 'image',
      short: 'i',
      type: 'string',
      value: 'IMAGE',
      help: 'The image (default debian:12, or DEN_TOOLBOX_IMAGE); it should have sudo',
    },
    ...SHARE_FLAGS,
  ],
};

/** Prints the toolbox's name; the name defaults to the image's (debian-toolbox). */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const image = str(p, 'image') ?? defaultImage();
  const name = checkToolboxName(p.args[0] ?? defaultToolboxName(image));
  const user = toolboxCaller();
  const share = shareFromFlags(p);
  await ensureToolboxImage(ctx, image);
  await createToolbox(ctx, { name, image, user, hostname: hostName(), share }, attachedIO());
  process.stdout.write(`${name}\n`);
  return 0;
}
