import type { CommandSpec, Parsed } from '../flags.js';
import { str, usageError } from '../flags.js';
import { parseSignal, restartContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'restart',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [
    { long: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', value: 'string' },
    { long: 'timeout', short: 't', type: 'string', help: 'Seconds to wait before killing the container', value: 'int' },
  ],
};

/** stop's and restart's -s and -t as the engine takes them: a parsed signal, whole seconds (-1: for ever). */
export function stopOptions(p: Parsed, command: CommandSpec): { signal?: string; timeoutSeconds?: number } {
  const signal = str(p, 'signal');
  const text = str(p, 'timeout');
  if (text !== undefined && (!/^-?[0-9]+$/.test(text) || Number(text) < -1)) {
    throw usageError(command, `invalid argument "${text}" for "-t, --timeout" flag: not a whole number`);
  }
  return {
    ...(signal !== undefined ? { signal: parseSignal(signal) } : {}),
    ...(text !== undefined ? { timeoutSeconds: Number(text) } : {}),
  };
}

/** docker's restart: a stop (as `den stop`), then a start in the background. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const options = stopOptions(p, spec);
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    await restartContainer(ctx, ref, options);
    process.stdout.write(`${ref}\n`);
  });
}
