import type { ContainerRecord } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { reconcile } from './container-state.js';
import { startDetached } from './start-detached.js';

/**
 * `den system boot`: what a daemon does when it comes up, for a daemonless engine. After a reboot
 * no monitor is left, so every container that was up reads as exited (reconcile); those whose
 * restart policy says so are started again: `always` ones, and `unless-stopped` ones that no user
 * stopped, as docker's daemon does at its start. Run once at boot (docs/services.md gives the
 * systemd unit); running it again starts only what is not up.
 */
export async function restartAtBoot(
  ctx: EngineContext,
): Promise<{ started: ContainerRecord[]; failed: { container: ContainerRecord; error: Error }[] }> {
  const started: ContainerRecord[] = [];
  const failed: { container: ContainerRecord; error: Error }[] = [];
  for (const listed of ctx.containers.list()) {
    const c = reconcile(ctx, listed);
    const policy = c.config.restartPolicy?.name;
    const due = policy === 'always' || (policy === 'unless-stopped' && !c.stopRequested);
    if (!due || c.status !== 'exited') continue;
    try {
      started.push(await startDetached(ctx, c));
    } catch (e) {
      failed.push({ container: c, error: e as Error });
    }
  }
  return { started, failed };
}
