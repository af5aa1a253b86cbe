import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { imageHistory, type EngineContext } from '../../engine/index.js';
import { ago, formatRows, humanSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'history',
  usage: 'history [OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { long: 'human', short: 'H', type: 'bool', help: 'Print sizes and dates in human readable format (default true)' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.ID}}' },
  ],
};

/** docker's CREATED BY column: 45 characters, the last an ellipsis. */
const CREATED_BY_WIDTH = 45;

/** docker's `history` table and column titles (docker/cli formatter/history.go). */
const HISTORY_FORMAT: ListFormat = {
  defaultTable: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
  titles: {
    ID: 'IMAGE',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    CreatedBy: 'CREATED BY',
    Size: 'SIZE',
    Comment: 'COMMENT',
  },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const noTrunc = bool(p, 'no-trunc');
  const human = p.flags.get('human') !== false;
  const rows = imageHistory(ctx, p.args[0]!).map((h) => {
    const createdBy = h.createdBy.replace(/\t/g, ' ');
    return {
      ID: h.id === undefined ? '<missing>' : noTrunc ? h.id : h.id.slice(7, 19),
      CreatedSince: h.created === undefined ? 'N/A' : human ? ago(h.created) : h.created,
      CreatedAt: h.created ?? '',
      CreatedBy:
        noTrunc || createdBy.length <= CREATED_BY_WIDTH ? createdBy : `${createdBy.slice(0, CREATED_BY_WIDTH - 1)}…`,
      Size: human ? humanSize(h.size) : String(h.size),
      Comment: h.comment,
    };
  });
  if (bool(p, 'quiet')) {
    process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    return 0;
  }
  process.stdout.write(formatRows(str(p, 'format'), rows, HISTORY_FORMAT));
  return 0;
}
