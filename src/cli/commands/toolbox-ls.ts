import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { listToolboxes, type EngineContext } from '../../engine/index.js';
import { ago, formatRows, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'toolbox ls',
  usage: 'toolbox ls [OPTIONS]',
  summary: 'List your toolboxes, running or not',
  maxArgs: 0,
  flags: [
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.Name}}' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display names' },
  ],
};

const TOOLBOX_FORMAT: ListFormat = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Image}}\t{{.Shares}}\t{{.Created}}',
  titles: {
    ID: 'CONTAINER ID',
    Name: 'NAME',
    Status: 'STATUS',
    Image: 'IMAGE',
    Shares: 'SHARES',
    Created: 'CREATED',
    User: 'USER',
  },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const toolboxes = listToolboxes(ctx);
  if (bool(p, 'quiet')) {
    process.stdout.write(toolboxes.map((t) => `${t.container.name}\n`).join(''));
    return 0;
  }
  const rows = toolboxes.map(({ container: c, user, shares }) => ({
    ID: c.id.slice(0, 12),
    Name: c.name,
    Status: c.status,
    Image: c.imageName,
    Shares: shares.join(',') || '-',
    Created: ago(c.createdAt),
    User: user,
  }));
  process.stdout.write(formatRows(str(p, 'format'), rows, TOOLBOX_FORMAT));
  return 0;
}
