import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DenError, failedPrecondition, invalidArgument } from '../../common/errors.js';
import { findExecutable, signalNumber } from '../../common/exec.js';
import { readdirOrEmpty, writePrivateFile } from '../../common/fs.js';
import type { ContainerRecord } from '../../containers/index.js';
import { buildExecProcess, ociConfigJson, readRuntimeFailure, type OciRuntime } from '../../runtime/index.js';
import { ownerAliveOfName, ownerTag } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { containerEvent } from '../events.js';
import { findRuntime } from '../runtimes.js';
import {
  attachedTerminal,
  listenForConsole,
  runtimeAttached,
  type AttachIO,
  type RunFailure,
} from './attached-runtime.js';
import { runningContainer } from './container-state.js';
import { setEnvEntry } from './create-container.js';
import { resolveUser } from './image-users.js';
import { ociRlimits } from './limits.js';

/** `den exec` as the engine takes it: docker's flags, the caller's part resolved. */
export interface ExecSpec {
  /** The command and its arguments (not empty). */
  command: string[];
  /** -e and --env-file entries in order, `NAME` alone already resolved by the caller (or removing NAME). */
  env: string[];
  /** -u USER[:GROUP], looked up in the container's /etc/passwd; absent: the container's user. */
  user?: string;
  /** -w, an absolute path; absent: the container's working directory. */
  workdir?: string;
  privileged: boolean;
  tty: boolean;
  interactive: boolean;
  /** -d: start it and return, leaving it to run on its own. */
  detach: boolean;
}

/**
 * `den exec`: runs one more process in a running container, through the OCI runtime's `exec`
 * (rootless, inside the session like every runtime call), which enters the container's
 * namespaces and applies its confinement (exec-process.ts). Attached, den relays stdio, terminal
 * and signals as `den run` does (attached-runtime.ts) and returns the process's exit status;
 * with `detach` it returns 0 once the process runs. The runtime's own failures become DenErrors
 * with a RunFailure reason (docker's 127 for a missing command, 126 for one that cannot run).
 */
export async function execContainer(ctx: EngineContext, ref: string, spec: ExecSpec, io: AttachIO): Promise<number> {
  if (spec.workdir !== undefined && !isAbsolute(spec.workdir)) {
    throw invalidArgument(
      'DEN0620',
      `the working directory "${spec.workdir}" is invalid: it needs to be an absolute path`,
    );
  }
  const c = runningContainer(ctx, ref, 'exec');
  const runtime = findRuntime(ctx, c.config.runtime);
  const tty = spec.detach ? spec.tty : attachedTerminal(ctx, spec, io, runtime, c.config.runtime);
  const files = execFiles(ctx, c);
  // docker's events: exec_create and exec_start, then exec_die with the status (when den sees it).
  const execId = randomBytes(32).toString('hex');
  const command = spec.command.join(' ');
  try {
    writePrivateFile(files.process, ociConfigJson(execProcess(ctx, c, spec, tty, io.consoleSize)));
    ctx.emit(containerEvent(c, `exec_create: ${command}`, { execID: execId }));
    ctx.emit(containerEvent(c, `exec_start: ${command}`, { execID: execId }));
    const status = spec.detach
      ? await execDetached(ctx, c, runtime, files, tty)
      : await execAttached(ctx, c, runtime, files, spec, tty, io);
    const failure = readRuntimeFailure(files.log);
    if (!spec.detach) {
      const exitCode = failure ? (failure.reason === 'command-not-found' ? 127 : 126) : status;
      ctx.emit(containerEvent(c, 'exec_die', { execID: execId, exitCode: String(exitCode) }));
    }
    if (failure) {
      throw new DenError('FailedPrecondition', 'DEN0650', `OCI runtime exec failed: ${failure.message}`, {
        reason: failure.reason satisfies RunFailure,
      });
    }
    if (spec.detach && status !== 0) {
      throw failedPrecondition('DEN1120', `container ${c.name}: the OCI runtime's exec exited with status ${status}`, {
        hint: 'run it without -d to see what the runtime says',
      });
    }
    return status;
  } finally {
    rmSync(files.process, { force: true });
    rmSync(files.log, { force: true });
  }
}

async function execAttached(
  ctx: EngineContext,
  c: ContainerRecord,
  runtime: OciRuntime,
  files: ExecFiles,
  spec: ExecSpec,
  tty: boolean,
  io: AttachIO,
): Promise<number> {
  let releaseSignals = () => {};
  try {
    return await runtimeAttached(ctx, {
      containerId: c.id,
      tty,
      interactive: spec.interactive,
      io,
      runtime,
      argv: async (consoleSocket) =>
        ctx.ns.wrap(
          runtime.execArgv(c.id, files.process, {
            logFile: files.log,
            detach: false,
            ...(consoleSocket ? { consoleSocket } : {}),
          }),
        ),
      onFinished: (release) => (releaseSignals = release),
    });
  } finally {
    releaseSignals();
  }
}

/**
 * `exec -d`: the runtime returns once the process runs, its stdio /dev/null. With -t the runtime
 * sends the process's terminal to den, which must not close it (that hangs the terminal up): a
 * `cat` of its own session holds it and discards the output, as docker's daemon does when nobody
 * is attached, and ends with the terminal.
 */
async function execDetached(
  ctx: EngineContext,
  c: ContainerRecord,
  runtime: OciRuntime,
  files: ExecFiles,
  tty: boolean,
): Promise<number> {
  const consoleSocket = tty ? listenForConsole(ctx, c.id) : undefined;
  try {
    const master = consoleSocket?.receive();
    const argv = ctx.ns.wrap(
      runtime.execArgv(c.id, files.process, {
        logFile: files.log,
        detach: true,
        ...(consoleSocket ? { consoleSocket: consoleSocket.path } : {}),
      }),
    );
    const status = await new Promise<number>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
    if (status !== 0 || !master) return status;
    // The runtime sent the terminal before it exited; a runtime that did not never will.
    let late = false;
    const fd = await Promise.race([master, sleep(TERMINAL_WAIT_MS, undefined, { ref: false })]);
    if (fd === undefined) {
      late = true;
      void master.then((f) => f !== undefined && late && closeSync(f));
    } else holdTerminal(ctx, fd);
    return status;
  } finally {
    consoleSocket?.close();
  }
}

/** How long den waits for the terminal of a process the runtime has started. */
const TERMINAL_WAIT_MS = 5000;

function holdTerminal(ctx: EngineContext, master: number): void {
  try {
    const cat = findExecutable('cat', ctx.config.searchPath) ?? 'cat';
    const holder = spawn(cat, [], { stdio: [master, 'ignore', 'ignore'], detached: true });
    holder.on('error', () => {});
    holder.unref();
  } finally {
    closeSync(master);
  }
}

/** The process.json of the exec: the container's confinement, the spec's command, user, environment and directory. */
function execProcess(
  ctx: EngineContext,
  c: ContainerRecord,
  spec: ExecSpec,
  tty: boolean,
  consoleSize: { height: number; width: number } | undefined,
): Record<string, unknown> {
  const b = ctx.layout.bundle(c.id);
  let containerSpec: unknown;
  try {
    containerSpec = JSON.parse(readFileSync(b.config, 'utf8'));
  } catch (e) {
    throw failedPrecondition('DEN1121', `container ${c.name}: cannot read its OCI config: ${(e as Error).message}`, {
      hint: `the container's bundle is damaged: remove it (den rm -f ${c.name})`,
    });
  }
  const env = new Map<string, string>();
  for (const e of c.config.env) setEnvEntry(env, e);
  if (tty && !env.has('TERM')) env.set('TERM', 'xterm');
  let user = { uid: c.config.uid, gid: c.config.gid, additionalGids: c.config.additionalGids };
  if (spec.user !== undefined) {
    // The container's own /etc/passwd: its upper directory (users added in it) over the image's layers.
    const files = [b.upper, ...c.config.layers.map((l) => ctx.layout.layerDir(l)).reverse()];
    const resolved = resolveUser(spec.user, files);
    user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
    // HOME follows the user where it was the container user's home, not one set on purpose.
    if (env.get('HOME') === resolveUser(c.config.user || '0', files).home) env.set('HOME', resolved.home);
  }
  for (const e of spec.env) setEnvEntry(env, e);
  return buildExecProcess(containerSpec, {
    args: spec.command,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: spec.workdir ?? c.config.cwd,
    ...user,
    terminal: tty,
    ...(consoleSize ? { consoleSize } : {}),
    privileged: spec.privileged,
    rlimits: ociRlimits(c.config.limits),
  });
}

interface ExecFiles {
  process: string;
  log: string;
}

/**
 * An exec's process.json and runtime log, in the container's directory under its own name (its
 * owner, so that what a killed den left is removed by the next exec, and a random part).
 */
function execFiles(ctx: EngineContext, c: ContainerRecord): ExecFiles {
  const dir = join(ctx.layout.bundle(c.id).dir, 'exec');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirOrEmpty(dir)) {
    if (!ownerAliveOfName(name)) rmSync(join(dir, name), { force: true });
  }
  const base = join(dir, `${ownerTag()}-${Math.random().toString(16).slice(2, 10)}`);
  return { process: `${base}.json`, log: `${base}.log` };
}
