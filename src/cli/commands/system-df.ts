import { diskUsage, type EngineContext } from '../../engine/index.js';
import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { formatRows, humanSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'system df',
  usage: 'system df [OPTIONS]',
  summary: "Show den's disk usage",
  maxArgs: 0,
  flags: [{ long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.Type}}' }],
};

/** docker's `system df` table and column titles (docker/cli formatter/disk_usage.go). */
const DF_FORMAT: ListFormat = {
  defaultTable: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
  titles: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const u = diskUsage(ctx);
  const pct = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part / whole) * 100)}%)` : '');
  const rows = [
    {
      Type: 'Images',
      TotalCount: String(u.images.total),
      Active: String(u.images.active),
      Size: humanSize(u.images.bytes),
      Reclaimable: `${humanSize(u.images.reclaimable)}${pct(u.images.reclaimable, u.images.bytes)}`,
    },
    {
      Type: 'Containers',
      TotalCount: String(u.containers.total),
      Active: String(u.containers.active),
      Size: humanSize(u.containers.bytes),
      Reclaimable: `${humanSize(u.containers.reclaimable)}${pct(u.containers.reclaimable, u.containers.bytes)}`,
    },
    {
      Type: 'Blobs (as pulled)',
      TotalCount: '',
      Active: '',
      Size: humanSize(u.blobs.bytes),
      Reclaimable: '',
    },
  ];
  process.stdout.write(formatRows(str(p, 'format'), rows, DF_FORMAT));
  return 0;
}
