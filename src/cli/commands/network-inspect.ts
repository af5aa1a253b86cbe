import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { inspectNetwork, type EngineContext, type NetworkResource } from '../../engine/index.js';
import { printError } from '../errors.js';
import { parseTemplate, type Template } from '../template/index.js';

export const spec: CommandSpec = {
  path: 'network inspect',
  usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  minArgs: 1,
  flags: [{ long: 'format', short: 'f', type: 'string', help: 'Format output using a template like {{.Name}}' }],
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
  const found: NetworkResource[] = [];
  let status = 0;
  for (const ref of p.args) {
    try {
      found.push(inspectNetwork(ctx, ref));
    } catch (e) {
      printError(e);
      status = 1;
    }
  }
  if (template) process.stdout.write(found.map((o) => template.execute(o) + '\n').join(''));
  else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return status;
}
