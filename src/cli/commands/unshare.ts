import type { CommandSpec, Parsed } from '../flags.js';
import { runInSession, type EngineContext } from '../../engine/index.js';

export const spec: CommandSpec = {
  path: 'unshare',
  usage: 'unshare [COMMAND [ARG...]]',
  summary: "Run a command in den's rootless session (as root there), e.g. to fix ownership in a volume",
  stopAtPositional: true,
  // As run (and podman unshare): the command's own status, 125 when den fails to start it.
  failureStatus: 125,
  flags: [],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  // Without a command, the caller's shell, as podman unshare does.
  const [command = process.env.SHELL || '/bin/sh', ...args] = p.args;
  return runInSession(ctx, [command, ...args]);
}
