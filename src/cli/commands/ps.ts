import type { CommandSpec, Parsed } from '../flags.js';
import { bool, list, str, usageError } from '../flags.js';
import { describeStatus, mountsOf, type ContainerRecord } from '../../containers/index.js';
import {
  formatPortsColumn,
  listContainers,
  parseContainerFilters,
  publishedPorts,
  type EngineContext,
  type ListedContainer,
} from '../../engine/index.js';
import { configuredFormat } from '../configured-format.js';
import { ago, formatRows, goTime, humanSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'ps',
  usage: 'ps [OPTIONS]',
  summary: 'List containers',
  maxArgs: 0,
  failureStatus: 1,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    {
      long: 'filter',
      short: 'f',
      type: 'list',
      value: 'filter',
      help:
        'Filter output based on conditions provided: status=, name=, label=KEY[=VALUE], ancestor=IMAGE, exited=CODE, ' +
        'id=, before=CONTAINER, since=CONTAINER',
    },
    {
      long: 'format',
      type: 'string',
      help: "Format output: table, json, or a template like {{.ID}} (default: docker's config.json psFormat, else table)",
    },
    {
      long: 'last',
      short: 'n',
      type: 'string',
      value: 'int',
      help: 'Show n last created containers (includes all states)',
    },
    { long: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { long: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
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
  const quiet = bool(p, 'quiet');
  // Without --format, docker's config.json may set one (psFormat); -q wins over either.
  const format = str(p, 'format') || (quiet ? undefined : configuredFormat('psFormat'));
  const last = lastOf(p);
  // docker measures sizes when the format shows them, -s or not.
  const size = bool(p, 'size') || (!quiet && format !== undefined && format.includes('.Size'));
  const listed = listContainers(ctx, {
    all: bool(p, 'all'),
    filters: parseContainerFilters(list(p, 'filter')),
    ...(last !== undefined ? { last } : {}),
    size,
  });
  if (quiet) {
    process.stdout.write(listed.map(({ container: c }) => `${noTrunc ? c.id : c.id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  const table = bool(p, 'size') ? { ...PS_FORMAT, defaultTable: `${PS_FORMAT.defaultTable}\t{{.Size}}` } : PS_FORMAT;
  process.stdout.write(
    formatRows(
      format,
      listed.map((l) =>
        psRow(
          l,
          !noTrunc,
          formatPortsColumn(publishedPorts(ctx, l.container), l.container.config.networking?.exposed ?? []),
        ),
      ),
      table,
    ),
  );
  return 0;
}

/** -n N, or -l (docker's -n 1); docker's -n -1 (its default) means no limit. */
function lastOf(p: Parsed): number | undefined {
  const text = str(p, 'last');
  if (text !== undefined) {
    if (!/^-?[0-9]+$/.test(text))
      throw usageError(spec, `invalid argument "${text}" for "-n, --last" flag: not a number`);
    const n = Number(text);
    if (n > 0) return n;
  }
  return bool(p, 'latest') ? 1 : undefined;
}

/** docker's Ellipsis: at most `max` characters, the last one an ellipsis when cut. */
function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** docker's API Command: the arguments joined, those with a space in single quotes. */
function commandOf(c: ContainerRecord): string {
  return c.config.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ');
}

/** One container as docker's formatter shows it, every field docker's `ps --format` has. */
function psRow({ container: c, sizeRw, sizeRootFs }: ListedContainer, trunc: boolean, ports: string) {
  const labels = c.config.labels ?? {};
  // docker's MOUNTS: a volume's name, a bind's source (tmpfs mounts are not listed).
  const mounts = mountsOf(c.config).flatMap((m) =>
    m.type === 'tmpfs'
      ? []
      : [m.type === 'volume' ? (trunc ? ellipsis(m.name, 15) : m.name) : trunc ? ellipsis(m.source, 15) : m.source],
  );
  const sizeText = humanSize(sizeRw ?? 0);
  // In docker's order for `--format json`: its fields sorted by name (Label takes an argument, and is left out).
  return {
    Command: JSON.stringify(trunc ? ellipsis(commandOf(c), 20) : commandOf(c)),
    CreatedAt: goTime(c.createdAt),
    ID: trunc ? c.id.slice(0, 12) : c.id,
    Image: /^sha256:[0-9a-f]{64}$/.test(c.imageName) && trunc ? c.imageName.slice(7, 19) : c.imageName,
    Label: (key: unknown) => labels[String(key)] ?? '',
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: '0',
    Mounts: mounts.join(','),
    Names: c.name,
    Networks: c.config.network,
    Ports: ports,
    RunningFor: ago(c.createdAt),
    Size: sizeRootFs !== undefined && sizeRootFs > 0 ? `${sizeText} (virtual ${humanSize(sizeRootFs)})` : sizeText,
    State: c.status,
    Status: describeStatus(c),
  };
}
