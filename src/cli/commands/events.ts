import type { CommandSpec, Parsed } from '../flags.js';
import { list, str } from '../flags.js';
import { followEvents, parseLogTime, type EngineContext } from '../../engine/index.js';
import { formatEventJson, formatEventLine, parseEventFilters, type DenEvent } from '../../events/index.js';
import { renderTemplate } from '../output.js';

export const spec: CommandSpec = {
  path: 'events',
  usage: 'events [OPTIONS]',
  summary: 'Get real time events from the server',
  maxArgs: 0,
  failureStatus: 1,
  flags: [
    {
      long: 'filter',
      short: 'f',
      type: 'list',
      value: 'filter',
      help: 'Filter output based on conditions provided: type=, event=, container=, image=, label=KEY[=VALUE]',
    },
    { long: 'format', type: 'string', help: 'Format output: json, or a template like {{.Action}}' },
    { long: 'since', type: 'string', help: 'Show all events created since timestamp' },
    { long: 'until', type: 'string', help: 'Stream events until this timestamp' },
  ],
};

/**
 * docker's `events`: the journal's events as they come (and from --since, what it keeps), until
 * --until, or until interrupted.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const filters = parseEventFilters(list(p, 'filter'));
  const sinceText = str(p, 'since');
  const untilText = str(p, 'until');
  const since = sinceText !== undefined ? parseLogTime(sinceText, '--since') : undefined;
  const until = untilText !== undefined ? parseLogTime(untilText, '--until') : undefined;
  const format = str(p, 'format');
  const render = rendererFor(format);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A reader that went away (`den events | head -1`) ends the following.
  process.stdout.on('error', onSignal);
  try {
    await followEvents(ctx, {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      filters,
      signal: stop.signal,
      onEvent: (e) => process.stdout.write(`${render(e)}\n`),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** docker's line by default; `json` (and `{{json .}}`) the event's JSON with all of timeNano's digits. */
function rendererFor(format: string | undefined): (e: DenEvent) => string {
  if (format === undefined || format === '') return formatEventLine;
  if (format === 'json' || /^\{\{ *json +\. *\}\}$/.test(format)) return formatEventJson;
  // A template sees timeNano as a number (docker's int64; a double here, exact to the microsecond).
  return (e) => renderTemplate(format, { ...e, timeNano: Number(e.timeNano) });
}
