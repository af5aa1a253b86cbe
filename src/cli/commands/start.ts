import type { CommandSpec, Parsed } from '../flags.js';
import { bool, str, usageError } from '../flags.js';
import {
  DEFAULT_DETACH_KEYS,
  parseDetachKeys,
  startAttached,
  startContainer,
  type EngineContext,
} from '../../engine/index.js';
import { reportEach } from '../report.js';
import { attachedIO } from './run.js';
import { attachStatus } from './attach.js';

export const spec: CommandSpec = {
  path: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  minArgs: 1,
  failureStatus: 1,
  flags: [
    { long: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    { long: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
  ],
};

/**
 * Without -a each container starts in the background, watched by its monitor, and its name (as
 * given) is printed. With -a (one container) den attaches to it through its monitor from before it
 * runs, as `den attach` does (stdin with -i), and exits with its status; the detach keys leave it
 * running.
 */
export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  if (bool(p, 'attach') || bool(p, 'interactive')) {
    if (p.args.length > 1) throw usageError(spec, 'you cannot start and attach multiple containers at once');
    const keys = str(p, 'detach-keys');
    const outcome = await startAttached(
      ctx,
      p.args[0]!,
      {
        stdin: bool(p, 'interactive'),
        detachKeys: keys === undefined ? DEFAULT_DETACH_KEYS : parseDetachKeys(keys),
        sigProxy: true,
      },
      { ...attachedIO(), stderr: process.stderr },
    );
    return attachStatus(outcome);
  }
  return reportEach(p.args, { failureStatus: spec.failureStatus! }, async (ref) => {
    await startContainer(ctx, ref);
    process.stdout.write(`${ref}\n`);
  });
}
