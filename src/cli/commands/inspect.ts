import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { notFound } from '../../common/errors.js';
import {
  inspectContainer,
  inspectImage,
  reconcile,
  type ContainerInspect,
  type EngineContext,
  type ImageInspect,
} from '../../engine/index.js';
import { parseTemplate, type Template } from '../template/index.js';
import { printError } from '../errors.js';

export const spec: CommandSpec = {
  path: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on containers and images',
  minArgs: 1,
  flags: [
    { long: 'format', short: 'f', type: 'string', help: 'Format output using a template like {{.Id}}' },
    { long: 'type', type: 'string', help: 'Only inspect objects of this type: container or image' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const type = str(p, 'type');
  const format = str(p, 'format');
  // docker parses the template before it looks anything up: a bad one prints nothing else, and
  // exits 64 (EX_USAGE), where a template that fails on an object exits 1 as a missing object does.
  let template: Template | undefined;
  try {
    template = format && format !== 'json' ? parseTemplate(format) : undefined;
  } catch (e) {
    printError(e);
    return 64;
  }
  const found: (ContainerInspect | ImageInspect)[] = [];
  let status = 0;
  for (const ref of p.args) {
    try {
      found.push(inspectOne(ctx, ref, type));
    } catch (e) {
      printError(e);
      status = 1;
    }
  }
  if (template) process.stdout.write(found.map((o) => template.execute(o) + '\n').join(''));
  else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return status;
}

function inspectOne(ctx: EngineContext, ref: string, type: string | undefined): ContainerInspect | ImageInspect {
  if (type !== 'image') {
    try {
      return inspectContainer(ctx, reconcile(ctx, ctx.containers.resolve(ref)));
    } catch (e) {
      if (type === 'container') throw e;
    }
  }
  const image = ctx.images.find(ref);
  if (!image) throw notFound('DEN0702', `no such object: ${ref}`);
  return inspectImage(ctx, image);
}
