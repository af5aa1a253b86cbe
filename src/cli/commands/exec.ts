import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str } from '../flags.js';
import { execContainer, type EngineContext } from '../../engine/index.js';
import { attachedIO, envFromFlags } from './run.js';

export const spec: CommandSpec = {
  path: 'exec',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  stopAtPositional: true,
  minArgs: 2,
  failureStatus: 1,
  flags: [
    { long: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { long: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { long: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { long: 'env', short: 'e', type: 'list', help: 'Set environment variables', value: 'list' },
    { long: 'env-file', type: 'list', help: 'Read in a file of environment variables', value: 'list' },
    { long: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { long: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
    { long: 'privileged', type: 'bool', help: 'Give extended privileges to the command' },
  ],
};

/**
 * docker's exec: the command's own exit status; 126 when it cannot be run, 127 when it is not
 * found; 1 when the container is not running. With -d nothing is printed.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const [container, ...command] = p.args as [string, ...string[]];
  return execContainer(
    ctx,
    container,
    {
      command,
      env: envFromFlags(p),
      ...(str(p, 'user') !== undefined ? { user: str(p, 'user') } : {}),
      ...(str(p, 'workdir') !== undefined ? { workdir: str(p, 'workdir') } : {}),
      privileged: bool(p, 'privileged'),
      tty: bool(p, 'tty'),
      interactive: bool(p, 'interactive'),
      detach: bool(p, 'detach'),
    },
    attachedIO(),
  );
}
