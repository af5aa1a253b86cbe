import { containerExited, EngineContext, engineConfigFromEnv } from '../engine/index.js';
import { printError } from './errors.js';

/**
 * `den __exited ID`: a detached container's exit command, run by its monitor (conmon) when the
 * container ends. Not for people: it records the end, unmounts, and applies --rm and the restart
 * policy (engine/containers/container-exited.ts). Its parent is the monitor, for a moment.
 */
export async function exitedMain(args: readonly string[]): Promise<number> {
  const id = args[0];
  if (!id || !/^[0-9a-f]{64}$/.test(id)) {
    process.stderr.write("den __exited: expected a container id (this is den's exit command for conmon)\n");
    return 2;
  }
  const config = engineConfigFromEnv(process.env, { node: process.execPath, script: process.argv[1] });
  const ctx = new EngineContext(config, { warning: (message) => process.stderr.write(`warning: ${message}\n`) });
  try {
    await containerExited(ctx, id, process.ppid);
    return 0;
  } catch (e) {
    printError(e);
    return 125;
  } finally {
    ctx.close();
  }
}
