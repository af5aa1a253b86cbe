import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  activeHealthcheck,
  probeArgv,
  startingHealth,
  type ContainerRecord,
  type HealthState,
} from '../../containers/index.js';
import { startHealthLoop, stopHealthLoop } from '../../monitor/index.js';
import { processStartTime } from '../../session/index.js';
import type { EngineContext } from '../context.js';

/**
 * Which health-check loop (monitor/health-loop.ts) probes a running container: its pid and start
 * time, in <runtimeDir>/health/<id>, so that every path by which a run ends can end its loop —
 * the container's exit command (`den __exited`), `den stop`, `den rm -f`, and reconcile when the
 * container's monitor died — and a loop that lost its place (its container started again with
 * another loop) can tell. The runtime directory goes with a reboot, and the loops with it.
 */
function loopFile(ctx: EngineContext, id: string): string {
  return join(ctx.paths.runtimeDir, 'health', id);
}

/** The container's loop, while the process the file names is still that one. */
export function healthLoopOf(ctx: EngineContext, id: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(loopFile(ctx, id), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !start) return undefined;
  return processStartTime(pid) === start ? pid : undefined;
}

/**
 * A container with a health check has just started (detached): its health is `starting` and a
 * loop probes it every interval from now on. `previous` is its health from the run before, whose
 * probes docker keeps in the log. A loop an earlier run left is ended first.
 */
export function startHealthChecks(ctx: EngineContext, c: ContainerRecord, previous: HealthState | null): void {
  const check = activeHealthcheck(c.config.healthcheck);
  const script = ctx.config.self.script;
  // A test of a kind docker does not know, docker does not run either (nor give a health).
  if (!check || !probeArgv(check.test) || !script) return;
  stopHealthChecks(ctx, c.id);
  ctx.containers.setHealth(c.id, startingHealth(previous));
  const pid = startHealthLoop(check.interval, [ctx.config.self.node, '--', script, '__healthcheck', c.id]);
  const file = loopFile(ctx, c.id);
  mkdirSync(join(ctx.paths.runtimeDir, 'health'), { recursive: true, mode: 0o700 });
  // Written whole and renamed, so a den reading it never sees half a line.
  writeFileSync(`${file}.tmp`, `${pid} ${processStartTime(pid) ?? ''}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Ends the container's health-check loop, if it has one (a probe under way with it). */
export function stopHealthChecks(ctx: EngineContext, id: string): void {
  const pid = healthLoopOf(ctx, id);
  // The file goes first: called from the loop's own probe (reconcile finding the monitor dead),
  // the kill ends this den too.
  rmSync(loopFile(ctx, id), { force: true });
  if (pid !== undefined) stopHealthLoop(pid);
}
