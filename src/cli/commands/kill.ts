import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { killContainer, parseSignal, type EngineContext } from '../../engine/index.js';
import { reportEach } from '../report.js';

export const spec: CommandSpec = {
  path: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [{ long: 'signal', short: 's', type: 'string', help: 'Signal to send to the container (default KILL)' }],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const signal = parseSignal(str(p, 'signal') ?? 'KILL');
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    killContainer(ctx, ref, signal);
    process.stdout.write(`${ref}\n`);
  });
}
