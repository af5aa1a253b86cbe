import { containerExited, type EngineContext } from '../engine/index.js';

/**
 * `den __exited ID`: a detached container's exit command, run by its monitor (conmon) when the
 * container ends. Not for people: it records the end, unmounts, and applies --rm and the restart
 * policy (engine/containers/container-exited.ts). Its parent is the monitor, for a moment.
 */
export async function exitedMain(args: readonly string[], ctx: EngineContext): Promise<number> {
  const id = args[0];
  if (!id || !/^[0-9a-f]{64}$/.test(id)) {
    process.stderr.write("den __exited: expected a container id (this is den's exit command for conmon)\n");
    return 2;
  }
  await containerExited(ctx, id, process.ppid);
  return 0;
}
