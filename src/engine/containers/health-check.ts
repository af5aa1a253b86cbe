import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, DenError, failedPrecondition } from '../../common/errors.js';
import { runSync, signalNumber } from '../../common/exec.js';
import { writePrivateFile } from '../../common/fs.js';
import {
  activeHealthcheck,
  goDuration,
  HEALTH_OUTPUT_LIMIT,
  probeArgv,
  probeOutput,
  recordProbe,
  type ContainerRecord,
  type HealthConfig,
  type HealthProbe,
  type HealthState,
} from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import { findRuntime } from '../runtimes.js';
import { isRunning, reconcile } from './container-state.js';
import { healthLoopOf } from './health-scheduler.js';

/**
 * Health checks, daemonless: one probe is one run of the container's test inside it, through the
 * runtime's `exec` (with the container's own user, environment, working directory and
 * capabilities: its config.json's process with the test as its args), bounded by the check's
 * timeout, recorded in the container's health as docker records it (containers/health.ts).
 *
 * Two callers: `den healthcheck run` (a person, now), and the loop that probes a detached
 * container every interval (health-scheduler.ts) through `den __healthcheck ID`.
 */

/** `den healthcheck run`: what the probe got, and the container's health after it. */
export interface HealthcheckResult {
  probe: HealthProbe;
  health: HealthState;
}

/**
 * `den healthcheck run CONTAINER`: probes a running container once, now, and records the result
 * as a scheduled probe's would be. Refused for a container without a health check and for one
 * that is not running.
 */
export async function runHealthcheck(ctx: EngineContext, ref: string): Promise<HealthcheckResult> {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  const check = activeHealthcheck(c.config.healthcheck);
  if (!check) {
    throw failedPrecondition('DEN1130', `container ${c.name} has no health check`, {
      hint: 'give it one when creating it (--health-cmd), or use an image with a HEALTHCHECK',
    });
  }
  if (c.status === 'paused') {
    throw conflict('DEN1131', `container ${c.name} is paused: its health check cannot run`, {
      hint: 'unpause it first',
      reason: 'not-running',
    });
  }
  if (c.status !== 'running' || !isRunning(c)) throw notRunning(c);
  const result = await probeAndRecord(ctx, c, check);
  if (!result) throw notRunning(c);
  return result;
}

function notRunning(c: ContainerRecord): DenError {
  return conflict('DEN1131', `container ${c.name} is not running: its health check cannot run`, {
    hint: `start it first (den start ${c.name})`,
    reason: 'not-running',
  });
}

/** What a scheduled probe did: probed; skipped this round (paused); or done, the loop is to end. */
export type ScheduledProbe = 'probed' | 'skipped' | 'done';

/**
 * One round of a container's health-check loop (`den __healthcheck ID`, run by the loop whose pid
 * is `loopPid`). Done when the container is gone, no longer running (reconcile first: its monitor
 * may have died), or has another loop now (it was stopped and started again meanwhile); a paused
 * container is not probed, as docker does not probe one.
 */
export async function scheduledHealthcheck(ctx: EngineContext, id: string, loopPid: number): Promise<ScheduledProbe> {
  const found = ctx.containers.get(id);
  if (!found) return 'done';
  const current = healthLoopOf(ctx, id);
  if (current !== undefined && current !== loopPid) return 'done';
  const c = reconcile(ctx, found);
  const check = activeHealthcheck(c.config.healthcheck);
  if (!check || !probeArgv(check.test)) return 'done';
  if ((c.status !== 'running' && c.status !== 'paused') || !isRunning(c)) return 'done';
  if (c.status === 'paused') return 'skipped';
  return (await probeAndRecord(ctx, c, check)) ? 'probed' : 'done';
}

/** One probe, recorded; undefined when the container's run ended meanwhile (nothing recorded). */
async function probeAndRecord(
  ctx: EngineContext,
  c: ContainerRecord,
  check: HealthConfig,
): Promise<HealthcheckResult | undefined> {
  const startedAt = c.startedAt ?? c.createdAt;
  const probe = await runProbe(ctx, c, check);
  const health = ctx.containers.updateHealth(c.id, startedAt, (h) => recordProbe(h, probe, check, startedAt));
  return health && { probe, health };
}

/**
 * How long a probe's runtime may take to go once its process was killed at the timeout (its own
 * child gone, it has nothing left to wait for), and how long its output may still arrive after
 * it exited (a process the probe left in the background can hold the pipe open for ever).
 */
const AFTER_KILL_MS = 5_000;
const OUTPUT_GRACE_MS = 500;

/**
 * Runs the test in the container and collects stdout and stderr together, the first 4096 bytes
 * of them. At the timeout the probe's process group in the container is killed (the runtime puts
 * an exec'd process in a session of its own; its pid is in the pid file) and the probe fails with
 * -1, as docker's does. A test den cannot run (the runtime refusing the exec) fails the probe
 * with the runtime's status and words, not the command: the next probe may well work.
 */
async function runProbe(ctx: EngineContext, c: ContainerRecord, check: HealthConfig): Promise<HealthProbe> {
  const start = new Date().toISOString();
  const args = probeArgv(check.test);
  if (!args) {
    throw failedPrecondition('DEN1132', `container ${c.name}: health check ${JSON.stringify(check.test)} cannot run`, {
      hint: 'a test is ["CMD", program, args...], ["CMD-SHELL", command] or ["NONE"]',
    });
  }
  const b = ctx.layout.bundle(c.id);
  // One den runs one probe at a time: its pid keeps two dens' files apart.
  const processFile = join(b.dir, `health-${process.pid}.json`);
  const pidFile = join(b.dir, `health-${process.pid}.pid`);
  const spec = JSON.parse(readFileSync(b.config, 'utf8')) as { process: Record<string, unknown> };
  // The container's own process, but for what it runs and its terminal (a probe has none).
  const exec: Record<string, unknown> = { ...spec.process, args, terminal: false };
  delete exec.consoleSize;
  writePrivateFile(processFile, JSON.stringify(exec)); // the container's environment
  rmSync(pidFile, { force: true });
  try {
    const runtime = findRuntime(ctx, c.config.runtime);
    const argv = ctx.ns.wrap(runtime.execArgv(c.id, processFile, { detach: false, pidFile }));
    const r = await execBounded(argv, check.timeout / 1e6, () => killProbe(ctx, pidFile));
    const end = new Date().toISOString();
    if (r.timedOut) {
      const out = probeOutput(r.output, r.truncated);
      const message = `Health check exceeded timeout (${goDuration(check.timeout)})`;
      return { start, end, exitCode: -1, output: out ? `${message}: ${out}` : message };
    }
    return { start, end, exitCode: r.status, output: probeOutput(r.output, r.truncated) };
  } finally {
    rmSync(processFile, { force: true });
    rmSync(pidFile, { force: true });
  }
}

/**
 * Kills the probe's process and what it started: the process group of the pid the runtime wrote,
 * from inside the namespaces (rootless, the container's processes may belong to subordinate ids
 * only the session can signal).
 */
function killProbe(ctx: EngineContext, pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return; // the runtime has not started it yet: killing the runtime (execBounded does) is enough
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  // crun and runc give it a session of its own; a runtime that left it in den's group (the loop's,
  // for a scheduled probe) must not have den kill itself.
  const group = processGroupOf(pid);
  const killGroup = group !== undefined && group > 1 && group !== processGroupOf(process.pid);
  runSync(ctx.ns.wrap(['kill', '-KILL', '--', ...(killGroup ? [`-${group}`] : []), String(pid)]));
}

/** Field 5 of /proc/PID/stat. */
function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isSafeInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

interface BoundedResult {
  status: number;
  output: Buffer;
  truncated: boolean;
  timedOut: boolean;
}

/**
 * Runs argv with stdout and stderr into one buffer (kept to HEALTH_OUTPUT_LIMIT bytes, the rest
 * read and dropped); after `timeoutMs`, `kill` ends the work and the runtime is given a while to
 * exit before it is killed itself.
 */
function execBounded(argv: readonly string[], timeoutMs: number, kill: () => void): Promise<BoundedResult> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    const collect = (chunk: Buffer) => {
      const room = HEALTH_OUTPUT_LIMIT - kept;
      if (chunk.length > room) truncated = true;
      if (room > 0) {
        chunks.push(chunk.subarray(0, room));
        kept += Math.min(room, chunk.length);
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    let timedOut = false;
    let status = -1;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve({ status, output: Buffer.concat(chunks), truncated, timedOut });
    };
    // Node's timers take at most 2^31-1 ms (24.8 days); a longer timeout is as good as none.
    timers.push(
      setTimeout(
        () => {
          timedOut = true;
          kill();
          timers.push(setTimeout(() => child.kill('SIGKILL'), AFTER_KILL_MS));
        },
        Math.min(Math.max(timeoutMs, 1), 2 ** 31 - 1),
      ),
    );
    child.on('error', (e) => {
      collect(Buffer.from(`cannot run the health check: ${e.message}`));
      finish();
    });
    child.on('exit', (code, signal) => {
      status = code ?? 128 + signalNumber(signal);
      timers.push(setTimeout(finish, OUTPUT_GRACE_MS));
    });
    child.on('close', finish);
  });
}
