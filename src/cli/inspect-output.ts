import { printError } from './errors.js';
import { parseTemplate, type Template } from './template/index.js';

/**
 * docker's inspect output, for every `inspect` verb: the template is parsed before anything is
 * looked up (a bad one prints nothing else and exits 64, EX_USAGE), each object that is found is
 * printed (as a JSON array, or the template once per object), and each one that is not says so on
 * stderr and makes the status 1. `found` are objects already at hand (volume inspect --all).
 */
export function printInspected<T>(
  format: string | undefined,
  refs: readonly string[],
  lookup: (ref: string) => T,
  found: T[] = [],
): number {
  let template: Template | undefined;
  try {
    template = format && format !== 'json' ? parseTemplate(format) : undefined;
  } catch (e) {
    printError(e);
    return 64;
  }
  let status = 0;
  for (const ref of refs) {
    try {
      found.push(lookup(ref));
    } catch (e) {
      printError(e);
      status = 1;
    }
  }
  if (template) process.stdout.write(found.map((o) => template.execute(o) + '\n').join(''));
  else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return status;
}
