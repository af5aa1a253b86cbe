import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str, usageError } from '../flags.js';
import { checkStore, checkSystem, type CheckResult, type EngineContext } from '../../engine/index.js';
import { formatRows, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'system check',
  usage: 'system check [OPTIONS]',
  summary: 'Tell what this host supports and how to fix what is missing',
  maxArgs: 0,
  flags: [
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.id}}' },
    { long: 'store', type: 'bool', help: "Check den's store instead: blobs, images, layers, leftovers, modes" },
  ],
};

/** For `--format 'table {{.id}}...'`: den's own titles (docker has no such command). */
const CHECK_FORMAT: ListFormat = {
  defaultTable: 'table {{.status}}\t{{.id}}\t{{.detail}}',
  titles: { id: 'CHECK', status: 'STATUS', detail: 'DETAIL', fix: 'FIX' },
};

const LABEL: Record<CheckResult['status'], string> = { ok: 'ok', warn: 'warn', fail: 'FAIL' };

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const format = str(p, 'format');
  if (format !== undefined && format.trim() === '')
    throw usageError(spec, '--format needs a value: table, json or a template');
  const results = bool(p, 'store') ? await checkStore(ctx) : checkSystem(ctx, { env: process.env });
  process.stdout.write(render(results, format));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** One line per check, the fix indented under anything that is not ok; or JSON, or a template per check. */
export function render(results: readonly CheckResult[], format?: string): string {
  if (format === 'json') return JSON.stringify(results, null, 2) + '\n';
  if (format !== undefined && format !== 'table') return formatRows(format, results, CHECK_FORMAT);
  const width = Math.max(...results.map((r) => r.id.length)) + 2;
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${LABEL[r.status].padEnd(6)}${r.id.padEnd(width)}${r.detail}`);
    if (r.status !== 'ok' && r.fix) lines.push(`${' '.repeat(6)}fix: ${r.fix}`);
  }
  return lines.join('\n') + '\n';
}
