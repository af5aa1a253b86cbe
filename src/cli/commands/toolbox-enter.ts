import type { CommandSpec, Parsed } from '../flags.js';
import { runInToolbox, type EngineContext } from '../../engine/index.js';
import { attachedIO } from './run.js';
import { passedEnv, toolboxCaller, toolboxName } from '../toolbox-caller.js';

export const spec: CommandSpec = {
  path: 'toolbox enter',
  usage: 'toolbox enter [NAME]',
  summary: 'Enter a toolbox: your login shell in it, in the directory you are in (started if stopped)',
  maxArgs: 1,
  flags: [],
};

/** The shell's exit status. Without a terminal the shell reads its commands from stdin. */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const io = attachedIO();
  return runInToolbox(
    ctx,
    toolboxName(p.args[0]),
    toolboxCaller(),
    {
      cwd: process.cwd(),
      env: passedEnv(),
      ...(process.env.DISPLAY ? { display: process.env.DISPLAY } : {}),
      tty: io.stdinIsTTY,
      interactive: true,
    },
    io,
  );
}
