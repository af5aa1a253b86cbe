import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { describeStatus } from '../../containers/index.js';
import { reconcile, type EngineContext } from '../../engine/index.js';
import { configuredFormat } from '../configured-format.js';
import { ago, formatRows, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'ps',
  usage: 'ps [OPTIONS]',
  summary: 'List containers',
  maxArgs: 0,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    {
      long: 'format',
      type: 'string',
      help: "Format output: table, json, or a template like {{.ID}} (default: docker's config.json psFormat, else table)",
    },
  ],
};

/** docker's `ps` table and column titles (docker/cli formatter/container.go). */
const PS_FORMAT: ListFormat = {
  defaultTable: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  titles: {
    ID: 'CONTAINER ID',
    Image: 'IMAGE',
    Command: 'COMMAND',
    CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED',
    Status: 'STATUS',
    State: 'STATE',
    Ports: 'PORTS',
    Names: 'NAMES',
    Size: 'SIZE',
    Labels: 'LABELS',
    Mounts: 'MOUNTS',
    Networks: 'NETWORKS',
    LocalVolumes: 'LOCAL VOLUMES',
  },
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const noTrunc = bool(p, 'no-trunc');
  const containers = ctx.containers
    .list()
    .map((c) => reconcile(ctx, c))
    .filter((c) => bool(p, 'all') || c.status === 'running');
  if (bool(p, 'quiet')) {
    process.stdout.write(containers.map((c) => `${noTrunc ? c.id : c.id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  const rows = containers.map((c) => {
    const command = c.config.args.join(' ');
    return {
      ID: noTrunc ? c.id : c.id.slice(0, 12),
      Image: c.imageName,
      Command: noTrunc ? command : JSON.stringify(command.length > 20 ? `${command.slice(0, 19)}…` : command),
      CreatedAt: c.createdAt,
      RunningFor: ago(c.createdAt),
      Status: describeStatus(c),
      State: c.status,
      Ports: '',
      Names: c.name,
    };
  });
  // Without --format, docker's config.json may set one (psFormat).
  process.stdout.write(formatRows(str(p, 'format') || configuredFormat('psFormat'), rows, PS_FORMAT));
  return 0;
}
