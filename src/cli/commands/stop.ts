import type { CommandSpec, Parsed } from '../flags.js';
import { stopContainer, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';
import { stopOptions } from './restart.js';

export const spec: CommandSpec = {
  path: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [
    { long: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', value: 'string' },
    { long: 'timeout', short: 't', type: 'string', help: 'Seconds to wait before killing the container', value: 'int' },
  ],
};

/** docker's stop: the stop signal, SIGKILL after the timeout; each container's name as given is printed. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const options = stopOptions(p, spec);
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    await stopContainer(ctx, ref, options);
    process.stdout.write(`${ref}\n`);
  });
}
