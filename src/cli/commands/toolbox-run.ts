import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { runInToolbox, type EngineContext } from '../../engine/index.js';
import { attachedIO } from './run.js';
import { passedEnv, toolboxCaller, toolboxName } from '../toolbox-caller.js';

export const spec: CommandSpec = {
  path: 'toolbox run',
  usage: 'toolbox run [OPTIONS] COMMAND [ARG...]',
  summary: 'Run a command in a toolbox as you, in the directory you are in (started if stopped)',
  stopAtPositional: true,
  minArgs: 1,
  // toolbx's statuses: the command's own, 126 when it cannot run, 127 when it is not there.
  failureStatus: 125,
  flags: [
    { long: 'container', short: 'c', type: 'string', value: 'NAME', help: 'The toolbox (default debian-toolbox)' },
  ],
};

/** The command's exit status; it gets a terminal when den has one. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const io = attachedIO();
  return runInToolbox(
    ctx,
    toolboxName(str(p, 'container')),
    toolboxCaller(),
    {
      command: p.args,
      cwd: process.cwd(),
      env: passedEnv(),
      ...(process.env.DISPLAY ? { display: process.env.DISPLAY } : {}),
      tty: io.stdinIsTTY && process.stdout.isTTY === true,
      interactive: true,
    },
    io,
  );
}
