import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { runSync, signalNumber } from '../common/exec.js';
import { trace } from '../common/trace.js';
import type { ContainerRecord } from '../containers/index.js';
import { OciRuntime } from '../runtime/index.js';
import { processStartTime } from '../session/index.js';
import { overlayMountArgv } from '../snapshots/index.js';
import type { EngineContext } from './context.js';
import { writeBundle } from './create-container.js';
import { cleanupContainerFiles } from './remove-container.js';
import { findRuntime } from './runtimes.js';

export interface AttachIO {
  /** Whether den's stdin is a terminal (raw mode for -t, and who gets terminal signals). */
  stdinIsTTY: boolean;
  consoleSize?: { height: number; width: number };
  setRawMode?: (raw: boolean) => void;
}

/** Signals den passes on to the container (docker's --sig-proxy), by way of the runtime. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT'];
/** Signals a terminal sends to its whole foreground process group. */
const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

/**
 * Starts a created container and stays attached until it exits: the runtime's stdio is den's own,
 * so container output never passes through Node.js. Returns the container's exit status; the
 * runtime's own failures become DenErrors with docker's codes (125, 126, 127).
 */
export async function runAttached(ctx: EngineContext, container: ContainerRecord, io: AttachIO): Promise<number> {
  let c = container;
  const b = ctx.layout.bundle(c.id);
  const runtime = findRuntime(ctx, c.config.runtime);
  const ns = ctx.ns;
  if (c.config.tty && !io.stdinIsTTY) {
    if (c.config.interactive) {
      throw new DenError('InvalidArgument', 'DEN0652', 'the input device is not a TTY', {
        hint: 'drop -t, or run den from a terminal',
        exitCode: 1,
      });
    }
    // The runtime can only give the container a pseudo-terminal when den has one to relay; without
    // it the container runs with plain stdio, as it would without -t.
    process.stderr.write('warning: -t without a terminal on stdin: running without a pseudo-terminal\n');
    c = { ...c, config: { ...c.config, tty: false } };
    writeBundle(ctx, c);
  } else if (c.config.tty && io.consoleSize) {
    writeBundle(ctx, c, io.consoleSize);
  }
  mountRootfs(ctx, c);
  trace('rootfs mounted');
  const logFile = join(b.dir, 'runtime.log');
  const pidFile = join(b.dir, 'pid');
  rmSync(logFile, { force: true });
  const [file, ...args] = ns.wrap(runtime.runArgv(c.id, b.dir, logFile, pidFile));
  // A child reading a terminal must be in the terminal's foreground process group; it then gets
  // the terminal's signals itself. Otherwise it gets a group of its own and den forwards.
  const sharesTerminal = io.stdinIsTTY && (c.config.tty || c.config.interactive);
  // With -t the runtime relays the terminal itself and needs it on its stdin, -i or not.
  const child = spawn(file!, args, {
    stdio: [c.config.interactive || c.config.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    detached: !sharesTerminal,
  });
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const handler = () => {
      if (sharesTerminal && TERMINAL_SIGNALS.has(sig)) return; // it has it already
      child.kill(sig);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  const rawMode = c.config.tty && io.stdinIsTTY && io.setRawMode;
  let status: number;
  try {
    if (rawMode) io.setRawMode!(true);
    ctx.containers.markRunning(c.id, process.pid, processStartTime(process.pid) ?? '');
    status = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
  } finally {
    if (rawMode) io.setRawMode!(false);
    for (const [sig, handler] of handlers) process.off(sig, handler);
  }
  trace('runtime exited');
  const failure = OciRuntime.readFailure(logFile);
  finishRun(ctx, c, failure ? null : status);
  trace('cleaned up');
  if (failure) {
    throw new DenError('FailedPrecondition', 'DEN0650', `OCI runtime ${runtime.name} failed: ${failure.message}`, {
      exitCode: failure.exitCode,
    });
  }
  return status;
}

function mountRootfs(ctx: EngineContext, c: ContainerRecord): void {
  const b = ctx.layout.bundle(c.id);
  const argv = overlayMountArgv({
    lowerDirs: c.config.layers.map((l) => ctx.layout.layerDir(l)).reverse(),
    upperDir: b.upper,
    workDir: b.work,
    target: b.rootfs,
  });
  const r = runSync(ctx.ns.wrap(argv));
  if (r.status !== 0) {
    throw new DenError(
      'FailedPrecondition',
      'DEN0651',
      `container ${c.name}: cannot mount its root file system: ${r.stderr.trim()}`,
      {
        hint: 'run `den system check` to see whether overlay mounts work here',
      },
    );
  }
}

/** After the container exited: unmount, and record the exit or (--rm) remove everything. */
function finishRun(ctx: EngineContext, c: ContainerRecord, exitCode: number | null): void {
  if (c.config.autoRemove) {
    cleanupContainerFiles(ctx, c);
    ctx.containers.delete(c.id);
    return;
  }
  runSync(ctx.ns.wrap(['umount', ctx.layout.bundle(c.id).rootfs]));
  ctx.containers.markExited(c.id, exitCode);
}
