import type { ErrorCode } from '../common/error-codes.js';
import type { Writable } from 'node:stream';
import { DenError } from '../common/errors.js';
import { humanDuration } from '../containers/index.js';

/** Docker's column layout: headers and cells padded to the widest, three spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/**
 * `--format`: `json` prints one JSON object per line (docker's behaviour), `table` the default
 * table, and anything else is a Go-template-like string where {{.Field}} is replaced and
 * {{json .}} prints the whole object.
 */
export function formatRows(
  format: string | undefined,
  objects: Record<string, unknown>[],
  headers: string[],
  fields: string[],
): string {
  if (format === undefined || format === 'table' || format === '') {
    return table(
      headers,
      objects.map((o) => fields.map((f) => String(o[f] ?? ''))),
    );
  }
  if (format === 'json') return objects.map((o) => JSON.stringify(o) + '\n').join('');
  return objects.map((o) => renderTemplate(format.replace(/^table\s+/, ''), o) + '\n').join('');
}

export function renderTemplate(template: string, o: Record<string, unknown>): string {
  return template
    .replace(/\{\{\s*json\s+\.\s*\}\}/g, () => JSON.stringify(o))
    .replace(/\{\{\s*json\s+\.([\w.]+)\s*\}\}/g, (_m, path: string) => JSON.stringify(lookup(o, path)) ?? 'null')
    .replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (_m, path: string) => String(lookup(o, path) ?? ''))
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
}

/** A dotted path (HostConfig.UsernsMode) into an object; undefined where it leads nowhere. */
function lookup(o: unknown, path: string): unknown {
  let v = o;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export function ago(iso: string, now = Date.now()): string {
  return `${humanDuration(now - Date.parse(iso))} ago`;
}

/** Sizes as docker prints them: decimal units, three significant digits. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : Number(v.toPrecision(3))}${units[u]}`;
}

/**
 * Where an archive goes (save, export): the -o file, or standard output unless that is a terminal,
 * which docker refuses with these words. `code` is the command's own error code.
 */
export function archiveOutput(path: string | undefined, code: ErrorCode): { path: string } | { stream: Writable } {
  if (path !== undefined) return { path };
  if (process.stdout.isTTY) {
    throw new DenError('InvalidArgument', code, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
  return { stream: process.stdout };
}
