import { readdirSync, readlinkSync } from 'node:fs';
import { failedPrecondition, invalidArgument } from '../../common/errors.js';
import { findExecutable, runSync } from '../../common/exec.js';
import type { EngineContext } from '../context.js';
import { containerEvent } from '../events.js';
import { runningContainer } from './container-state.js';
import { containerInitPid } from './inspect-container.js';

/** docker's container top: ps's column titles, and the rows of the container's processes. */
export interface ContainerTop {
  titles: string[];
  /** One row per process, as many cells as titles (the last one, the command, keeps its spaces). */
  processes: string[][];
}

/** What `den top` runs when given no ps options, as docker: UID PID PPID C STIME TTY TIME CMD. */
const DEFAULT_PS_ARGS = ['-ef'];

/**
 * `den top`: the host's `ps` (with `psArgs`, default -ef), its rows kept for the container's
 * processes: those in its pid namespace (the namespace of its init), its exec'd processes
 * included. Pids, users and times are the host's, as docker shows them.
 */
export function topContainer(ctx: EngineContext, ref: string, psArgs: readonly string[]): ContainerTop {
  const c = runningContainer(ctx, ref, 'top');
  const init = containerInitPid(ctx, c);
  const pids = init > 0 ? processesInNamespaceOf(init) : new Set<number>();
  const args = psArgs.length > 0 ? psArgs : DEFAULT_PS_ARGS;
  const ps = findExecutable('ps', ctx.config.searchPath) ?? 'ps';
  const r = runSync([ps, ...args]);
  if (r.status !== 0) {
    throw failedPrecondition('DEN1126', `ps ${args.join(' ')} failed: ${r.stderr.trim() || `status ${r.status}`}`, {
      hint: "den top passes the options after the container to the host's ps (procps): see ps --help",
    });
  }
  const top = selectRows(r.stdout, pids, args);
  ctx.emit(containerEvent(c, 'top'));
  return top;
}

/**
 * The rows of ps's output whose PID column names one of `pids`: titles are the header's words;
 * a row's cells are its words, the last cell the rest of the line.
 */
export function selectRows(output: string, pids: ReadonlySet<number>, args: readonly string[]): ContainerTop {
  const [header = '', ...lines] = output.split('\n');
  const titles = words(header);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) {
    throw invalidArgument('DEN1125', `ps ${args.join(' ')}: its output has no PID column`, {
      hint: 'keep the pid in the columns asked for (ps -o pid,comm)',
    });
  }
  const processes: string[][] = [];
  for (const line of lines) {
    const cells = words(line);
    if (cells.length === 0) continue;
    const pid = Number(cells[pidColumn]);
    if (!pids.has(pid)) continue;
    const last = titles.length - 1;
    processes.push([...cells.slice(0, last), cells.slice(last).join(' ')]);
  }
  return { titles, processes };
}

/** Splits on ASCII blanks only: a command's non-ASCII spaces stay in it. */
function words(line: string): string[] {
  return line.split(/[ \t\n\v\f\r]+/).filter(Boolean);
}

/**
 * The processes in the pid namespace of `pid`: /proc/N/ns/pid names it. The caller may read it for
 * every process of its containers: rootless, it owns the user namespace they are in.
 */
export function processesInNamespaceOf(pid: number): Set<number> {
  const out = new Set<number>();
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return out; // gone meanwhile
  }
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === ns) out.add(Number(name));
    } catch {
      // exited meanwhile, a zombie, or not the caller's to look at
    }
  }
  return out;
}
