import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str, usageError } from '../flags.js';
import {
  attachContainer,
  DEFAULT_DETACH_KEYS,
  parseDetachKeys,
  type AttachOutcome,
  type EngineContext,
} from '../../engine/index.js';
import { attachedIO } from './run.js';

export const spec: CommandSpec = {
  path: 'attach',
  usage: 'attach [OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  minArgs: 1,
  maxArgs: 1,
  failureStatus: 1,
  flags: [
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { long: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
    { long: 'sig-proxy', type: 'bool', help: 'Proxy all received signals to the process (default true)' },
  ],
};

/**
 * docker's attach: exits with the container's status when it exits. Detaching with the keys
 * (ctrl-p ctrl-q unless --detach-keys) leaves it running, and says so as docker does: "read escape
 * sequence" on stderr, status 1.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const keys = str(p, 'detach-keys');
  const sigProxy = p.flags.get('sig-proxy') !== false;
  if (keys === '') throw usageError(spec, 'invalid argument "" for "--detach-keys": empty');
  const outcome = await attachContainer(
    ctx,
    p.args[0]!,
    {
      stdin: !bool(p, 'no-stdin'),
      detachKeys: keys === undefined ? DEFAULT_DETACH_KEYS : parseDetachKeys(keys),
      sigProxy,
    },
    { ...attachedIO(), stderr: process.stderr },
  );
  return attachStatus(outcome);
}

/** den's status when an attach ended (attach, start -a), and what docker says on detaching. */
export function attachStatus(outcome: AttachOutcome): number {
  switch (outcome.ended) {
    case 'exit':
      return outcome.exitCode;
    case 'detach-keys':
      process.stderr.write('read escape sequence\n');
      return 1;
    case 'output-closed':
      return 1;
  }
}
