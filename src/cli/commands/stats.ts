import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import type { ContainerRecord } from '../../containers/index.js';
import {
  listContainers,
  sampleStats,
  statsBetween,
  type ContainerStats,
  type EngineContext,
} from '../../engine/index.js';
import { formatRows, humanSize, scaledSize, type ListFormat } from '../output.js';

export const spec: CommandSpec = {
  path: 'stats',
  usage: 'stats [OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  failureStatus: 1,
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'format', type: 'string', help: 'Format output: table, json, or a template like {{.Name}} {{.CPUPerc}}' },
    { long: 'no-stream', type: 'bool', help: 'Disable streaming stats and only pull the first result' },
    { long: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
  ],
};

/** docker's stats table and column titles. */
const STATS_FORMAT: ListFormat = {
  defaultTable:
    'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  titles: {
    Container: 'CONTAINER',
    ID: 'CONTAINER ID',
    Name: 'NAME',
    CPUPerc: 'CPU %',
    MemUsage: 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
  },
};

/** Between two samples: docker's daemon reads a container's counters about once a second. */
const INTERVAL_MS = 1000;

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const named = p.args.length > 0;
  // Containers by the name they were asked by (docker's .Container), or all running ones (-a: all).
  const targets = (): [string, ContainerRecord][] =>
    named
      ? p.args.map((ref) => [ref, ctx.containers.resolve(ref)])
      : listContainers(ctx, { all: bool(p, 'all') }).map(({ container: c }) => [c.id.slice(0, 12), c]);
  const noTrunc = bool(p, 'no-trunc');
  const stream = !bool(p, 'no-stream');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let told = false;
  try {
    let before = new Map(targets().map(([, c]) => [c.id, sampleStats(ctx, c)]));
    do {
      await sleep(INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      const now = targets().map(([asked, c]) => ({ asked, c, sample: sampleStats(ctx, c) }));
      const stats = now.map(({ asked, c, sample }) => ({ asked, s: statsBetween(c, before.get(c.id), sample) }));
      before = new Map(now.map(({ c, sample }) => [c.id, sample]));
      const fromProc = stats.filter(({ s }) => s.source === 'proc');
      if (fromProc.length > 0 && !told) {
        told = true;
        process.stderr.write(
          `note: ${fromProc.map(({ s }) => s.name).join(', ')}: no cgroup of its own (rootless without a delegated ` +
            'cgroup v2): CPU, memory (the resident sets of its processes, summed), block I/O and PIDs come from /proc, ' +
            "and the limit shown is the host's memory\n",
        );
      }
      const table = formatRows(
        str(p, 'format'),
        stats.map(({ asked, s }) => statsRow(asked, s, !noTrunc)),
        STATS_FORMAT,
      );
      process.stdout.write(stream && process.stdout.isTTY ? `\x1b[2J\x1b[H${table}` : table);
    } while (stream && !stop.signal.aborted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** Memory as docker's stats shows it: binary units, four significant digits. */
const binarySize = (bytes: number) => scaledSize(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 4);

/** One container's row, every field docker's `stats --format` has. */
function statsRow(asked: string, s: ContainerStats, trunc: boolean) {
  return {
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    Container: asked,
    ID: trunc ? s.id.slice(0, 12) : s.id,
    MemPerc: `${s.memoryPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.memoryUsage)} / ${binarySize(s.memoryLimit)}`,
    Name: s.name,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    PIDs: String(s.pids),
  };
}
