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
import { printInspected } from '../inspect-output.js';

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
  return printInspected<ContainerInspect | ImageInspect>(format, p.args, (ref) => inspectOne(ctx, ref, type));
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
