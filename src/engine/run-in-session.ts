import { spawn } from 'node:child_process';
import { signalNumber } from '../common/exec.js';
import type { EngineContext } from './context.js';

/**
 * `den unshare`: runs a command inside the rootless session, as its root, where the caller's
 * subordinate ids are ids like any other (podman unshare). Without a command, the caller's shell.
 * As root there is no session: the command runs as it is. Returns the command's exit status.
 */
export async function runInSession(ctx: EngineContext, argv: readonly string[]): Promise<number> {
  const command = argv.length > 0 ? [...argv] : [process.env.SHELL || '/bin/sh'];
  const [file, ...args] = ctx.ns.wrap(command);
  const child = spawn(file!, args, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
}
