import type { Writable } from 'node:stream';
import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str, usageError } from '../flags.js';
import { containerLogs, parseLogTime, type EngineContext } from '../../engine/index.js';
import { formatTimestamp } from '../../monitor/index.js';

export const spec: CommandSpec = {
  path: 'logs',
  usage: 'logs [OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  minArgs: 1,
  maxArgs: 1,
  failureStatus: 1,
  flags: [
    { long: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    {
      long: 'since',
      type: 'string',
      help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      value: 'string',
    },
    {
      long: 'until',
      type: 'string',
      help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      value: 'string',
    },
    {
      long: 'tail',
      short: 'n',
      type: 'string',
      help: 'Number of lines to show from the end of the logs (default "all")',
    },
    { long: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { long: 'details', type: 'bool', help: 'Show extra details provided to logs' },
  ],
};

/** Writes, waiting for the pipe to drain when it is full: a 10 MB log to `head` must not pile up in memory. */
function write(stream: Writable, data: Buffer | string): Promise<void> | void {
  if (stream.write(data)) return;
  return new Promise((resolve) => stream.once('drain', resolve));
}

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const tailText = str(p, 'tail');
  let tail: number | undefined;
  if (tailText !== undefined && tailText !== 'all') {
    if (!/^-?[0-9]+$/.test(tailText)) throw usageError(spec, `invalid argument "${tailText}" for "-n, --tail" flag`);
    tail = Number(tailText) < 0 ? undefined : Number(tailText); // docker reads a negative tail as all
  }
  const since = str(p, 'since');
  const until = str(p, 'until');
  const timestamps = bool(p, 'timestamps');
  await containerLogs(
    ctx,
    p.args[0]!,
    {
      follow: bool(p, 'follow'),
      ...(since !== undefined ? { since: parseLogTime(since, '--since') } : {}),
      ...(until !== undefined ? { until: parseLogTime(until, '--until') } : {}),
      ...(tail !== undefined ? { tail } : {}),
    },
    (line) => {
      const out = line.stream === 'stdout' ? process.stdout : process.stderr;
      const prefix = timestamps ? `${formatTimestamp(line.time)} ` : '';
      const text = line.complete ? Buffer.concat([line.text, Buffer.from('\n')]) : line.text;
      return write(out, prefix ? Buffer.concat([Buffer.from(prefix), text]) : text);
    },
  );
  return 0;
}
