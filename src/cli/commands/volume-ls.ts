import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str } from '../flags.js';
import { listVolumes, parseVolumeFilters, type EngineContext } from '../../engine/index.js';
import { formatRows, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'volume ls',
  usage: 'volume ls [OPTIONS]',
  summary: 'List volumes',
  maxArgs: 0,
  flags: [
    {
      long: 'filter',
      short: 'f',
      type: 'list',
      value: 'filter',
      help: 'Provide filter values: name=, driver=, label=KEY[=VALUE], dangling=true|false',
    },
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.Name}}' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
  ],
};

/** docker's `volume ls` table (docker/cli formatter/volume.go). */
const VOLUME_FORMAT: ListFormat = {
  defaultTable: 'table {{.Driver}}\t{{.Name}}',
  titles: { Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS' },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const volumes = listVolumes(ctx, parseVolumeFilters(list(p, 'filter'), ['name', 'driver', 'label', 'dangling']));
  if (bool(p, 'quiet')) {
    process.stdout.write(volumes.map((v) => `${v.Name}\n`).join(''));
    return 0;
  }
  const rows = volumes.map((v) => ({
    Driver: v.Driver,
    Name: v.Name,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
  }));
  process.stdout.write(formatRows(str(p, 'format'), rows, VOLUME_FORMAT));
  return 0;
}
