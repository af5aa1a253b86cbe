import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { failedPrecondition, invalidArgument } from '../../common/errors.js';
import { isActive } from '../../containers/index.js';
import { LogReader, parseTimestamp, type LogLine } from '../../monitor/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from './container-state.js';
import { parseDuration } from './create-spec.js';

export interface LogsOptions {
  /** Keep printing what the container writes until it stops. */
  follow: boolean;
  /** Only lines written at or after / before this time (nanoseconds since the epoch). */
  since?: bigint;
  until?: bigint;
  /** Only the last N lines (of those since/until select); absent: all. */
  tail?: number;
  /** Ends a follow early (an API client that went away). */
  signal?: AbortSignal;
}

/** How often a followed log is read again. */
const FOLLOW_POLL_MS = 100;

/**
 * `den logs`: a detached container's output as its monitor logged it, each line to `emit` (which
 * may return a promise to hold the reader back, for a slow pipe). Lines of stdout and stderr stay
 * apart; a line the container has not ended (no newline yet) comes last, marked incomplete.
 */
export async function containerLogs(
  ctx: EngineContext,
  ref: string,
  options: LogsOptions,
  emit: (line: LogLine) => void | Promise<void>,
): Promise<void> {
  let c = reconcile(ctx, ctx.containers.resolve(ref));
  if (c.config.log?.driver === 'none') {
    throw failedPrecondition(
      'DEN1110',
      `configured logging driver does not support reading: container ${c.name} logs to none`,
      {
        hint: 'create the container with --log-driver k8s-file (the default) to keep its output',
      },
    );
  }
  const path = ctx.layout.bundle(c.id).log;
  const reader = new LogReader(path);
  const selected = (l: LogLine) =>
    (options.since === undefined || l.time >= options.since) &&
    (options.until === undefined || l.time <= options.until);
  // Without -f the unfinished line is the log's last: --tail counts it, as docker does.
  let lines = [...reader.read(), ...(options.follow ? [] : reader.unfinished())].filter(selected);
  if (options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail);
  for (const line of lines) await emit(line);
  if (options.follow) {
    while (
      isActive(c.status) &&
      !options.signal?.aborted &&
      (options.until === undefined || BigInt(Date.now()) * 1_000_000n < options.until)
    ) {
      await sleep(FOLLOW_POLL_MS);
      for (const line of reader.read().filter(selected)) await emit(line);
      c = reconcile(ctx, ctx.containers.get(c.id) ?? { ...c, status: 'exited' });
    }
    // What the monitor wrote between the last read and the end.
    for (const line of reader.read().filter(selected)) await emit(line);
  }
  if (!existsSync(path)) return;
  for (const line of reader.unfinished().filter(selected)) await emit(line);
}

/**
 * docker's --since and --until: an RFC 3339 time (2026-12-07T18:00:00Z, or without a zone: UTC),
 * a Unix time in seconds (1765000000 or 1765000000.5), or a duration before now (10m, 1h30m).
 */
export function parseLogTime(text: string, flag: string, now = Date.now()): bigint {
  if (/^[0-9]+(\.[0-9]{1,9})?$/.test(text)) {
    const [seconds, fraction = ''] = text.split('.');
    return BigInt(seconds!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  }
  const stamp = parseTimestamp(/(Z|[+-]\d\d:\d\d)$/.test(text) ? text : `${text}Z`);
  if (stamp !== undefined) return stamp;
  const dateOnly = /^\d{4}-\d\d-\d\d$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN;
  if (!Number.isNaN(dateOnly)) return BigInt(dateOnly) * 1_000_000n;
  try {
    return BigInt(now) * 1_000_000n - BigInt(parseDuration(text, flag));
  } catch {
    throw invalidArgument('DEN1112', `${flag}: invalid time "${text}"`, {
      hint: 'give an RFC 3339 time (2026-12-07T18:00:00Z), Unix seconds, or a duration before now (10m)',
    });
  }
}
