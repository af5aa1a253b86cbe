import { readFileSync } from 'node:fs';
import { dockerConfigPath } from '../common/docker-config.js';
import { errnoCode } from '../common/errors.js';

/** The keys of docker's config.json that set a list command's default --format. */
export type FormatKey = 'psFormat' | 'imagesFormat';

/**
 * The default --format of `den ps` (psFormat) or `den images` (imagesFormat) that docker's
 * config.json sets, as the docker CLI takes it when --format is not given; undefined when the file
 * or the key is not there. The CLI reads it, not the engine: it is the caller's file. Like docker,
 * which warns about a config file it cannot load and goes on without it, a file den cannot read or
 * parse, or a value that is not a string, is a warning on stderr and no format.
 */
export function configuredFormat(key: FormatKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = dockerConfigPath(env);
  const ignored = (why: string): undefined => {
    process.stderr.write(`warning: docker's config file ${path}: ${why}; ${key} ignored\n`);
    return undefined;
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return ignored(`cannot read it (${code ?? (e as Error).message})`);
  }
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text around the error, which may hold a password.
    return ignored('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ignored('not a JSON object');
  const value = (doc as Record<string, unknown>)[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return ignored(`"${key}" is not a string`);
  return value;
}
