import { spawn } from 'node:child_process';
import { signalNumber } from '../../common/exec.js';
import type { EngineContext } from '../context.js';

/**
 * `den unshare`: runs a command inside the rootless session, as its root, where the caller's
 * subordinate ids are ids like any other (podman unshare). As root there is no session: the
 * command runs as it is. Returns the command's exit status.
 */
export async function runInSession(ctx: EngineContext, argv: readonly [string, ...string[]]): Promise<number> {
  const [file, ...args] = ctx.ns.wrap([...argv]);
  const child = spawn(file!, args, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
}
