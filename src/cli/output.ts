import type { ErrorCode } from '../common/error-codes.js';
import type { Writable } from 'node:stream';
import { DenError } from '../common/errors.js';
import { humanDuration } from '../containers/index.js';
import { parseTemplate } from './template/index.js';

/** How a listing command formats its rows: docker's default table and its column titles. */
export interface ListFormat {
  /** What no `--format` (and `--format table`) means, docker's: `table {{.ID}}\t{{.Image}}...`. */
  defaultTable: string;
  /**
   * Column titles by field (docker's header map per command: ID is "CONTAINER ID" for ps, "IMAGE
   * ID" for images). A field without one is titled by its name: CreatedAt is "CREATED AT".
   */
  titles: Readonly<Record<string, string>>;
}

/**
 * `--format` for a listing, as docker's formatter does it: `json` prints each row as JSON on a line;
 * a format starting with `table` prints a header row (the template over the column titles) and
 * aligns the columns its tabs separate (docker's tabwriter); anything else is a Go template printed
 * once per row. `\t` and `\n` in the format are a tab and a newline.
 */
export function formatRows(format: string | undefined, rows: readonly object[], list: ListFormat): string {
  const f = format === undefined || format === '' || format === 'table' ? list.defaultTable : format;
  if (f === 'json') return rows.map((o) => JSON.stringify(o) + '\n').join('');
  const isTable = f.startsWith('table');
  const body = (isTable ? f.slice('table'.length) : f)
    .replace(/^ +| +$/g, '')
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
  const template = parseTemplate(body);
  const lines = rows.map((o) => template.execute(o) + '\n').join('');
  if (!isTable) return lines;
  const titles: Record<string, string> = {};
  for (const key of new Set(rows.flatMap((o) => Object.keys(o)))) titles[key] = titleOf(key);
  return tabwrite(`${template.header({ ...titles, ...list.titles })}\n${lines}`);
}

/** A field's default column title: CreatedAt -> CREATED AT. */
function titleOf(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}

/**
 * One Go template over one value (inspect, version), docker's way: no escapes are replaced, and a
 * template that does not parse or fails on the value is an error (DEN0709, DEN0710).
 */
export function renderTemplate(format: string, value: unknown): string {
  return parseTemplate(format).execute(value);
}

/** Where docker's tabwriter puts columns: at least 10 wide, 3 spaces after the widest cell. */
const TAB_MIN_WIDTH = 10;
const TAB_PADDING = 3;

/**
 * Go's text/tabwriter as docker's formatter sets it up (minwidth 10, padding 3, spaces): a cell is
 * text ended by a tab; a column's width is set by the block of consecutive lines that have a cell
 * in it; the text after a line's last tab is not a cell and is never padded. `den top` sets a
 * minimum width of its own (docker's top: 20).
 */
export function tabwrite(text: string, minWidth = TAB_MIN_WIDTH): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  const widths: number[] = [];
  let out = '';
  const write = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      cells.forEach((c, j) => {
        out += c;
        if (j < widths.length && j < cells.length - 1) out += ' '.repeat(Math.max(0, widths[j]! - width(c)));
      });
      if (i < lines.length - 1) out += '\n';
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i]!.length - 1) continue;
      // A block of lines with a cell in this column starts here.
      write(line0, i);
      line0 = i;
      let w = minWidth;
      for (; i < line1 && column < lines[i]!.length - 1; i++) w = Math.max(w, width(lines[i]![column]!) + TAB_PADDING);
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--;
    }
    write(line0, line1);
  };
  format(0, lines.length);
  return out;
}

/**
 * A time as docker's CLI prints a container's CreatedAt (Go's time.String of whole seconds), in
 * UTC: `2026-12-07 18:21:05 +0000 UTC`.
 */
export function goTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export function ago(iso: string, now = Date.now()): string {
  return `${humanDuration(now - Date.parse(iso))} ago`;
}

// Sizes are common/sizes.ts's, which the engine's messages use too.
export { humanSize, scaledSize } from '../common/sizes.js';

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
