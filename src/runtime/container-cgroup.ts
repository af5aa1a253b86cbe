import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { parseMountinfo, type MountEntry } from '../common/mountinfo.js';

/**
 * A running container's cgroup, found the way the kernel tells it: /proc/INIT/cgroup names the
 * cgroup of each hierarchy, the mount table where each hierarchy is mounted. A container has a
 * cgroup of its own when the runtime made one (as root; rootless only where a cgroup v2 subtree
 * is delegated to the user): its init is then in another cgroup than its monitor. Where it has
 * none, what is known of it comes from /proc of its processes (procStats).
 *
 * Vocabulary: a *hierarchy* is a cgroup file system, v1 (one per controller or group of them:
 * cpu, memory, freezer ...) or v2 (one for all, "unified"); a *membership* maps a hierarchy's key
 * (its controllers, or "" for v2) to the process's cgroup path in it.
 */
export interface ContainerCgroup {
  /** 2 when the container's controllers are on the unified hierarchy, else 1 (legacy or hybrid). */
  version: 1 | 2;
  /** The directory of the container's cgroup in the hierarchy that has `controller` (v2: all of them). */
  dir(controller: string): string | undefined;
}

/** "4:memory:/x" lines into hierarchy key -> path; v2's line has the empty key. */
export function parseMembership(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    m.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return m;
}

function membership(pid: number): Map<string, string> | undefined {
  try {
    return parseMembership(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The hierarchy key ("cpu,cpuacct", "" for v2) of the mount, and the cgroup path at its root. */
function hierarchyOf(m: MountEntry, keys: readonly string[]): string | undefined {
  if (m.fsType === 'cgroup2') return '';
  if (m.fsType !== 'cgroup') return undefined;
  const options = m.superOptions.split(',');
  return keys.find((k) => k !== '' && k.split(',').every((c) => options.includes(c)));
}

/**
 * The container's cgroup, from its init's membership, or undefined when it has none of its own
 * (every hierarchy places it where its monitor is) or its init is gone.
 */
export function containerCgroup(
  initPid: number,
  monitorPid: number | null,
  mounts: readonly MountEntry[] = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')),
): ContainerCgroup | undefined {
  const init = membership(initPid);
  if (!init) return undefined;
  const monitor = monitorPid === null ? undefined : membership(monitorPid);
  const own = [...init].filter(([key, path]) => monitor?.get(key) !== path && key !== 'name=systemd');
  if (own.length === 0) return undefined;
  const dirs = new Map<string, string>();
  for (const m of mounts) {
    const key = hierarchyOf(m, [...init.keys()]);
    const path = key === undefined ? undefined : init.get(key);
    if (key === undefined || path === undefined || !own.some(([k]) => k === key)) continue;
    dirs.set(key, join(m.mountPoint, path));
  }
  // v2 holds the controllers only when the unified hierarchy is the only one with any (not hybrid).
  const unified = dirs.get('');
  const v1 = [...dirs.keys()].some((k) => k !== '');
  if (unified !== undefined && !v1) return { version: 2, dir: () => unified };
  if (!v1) return undefined;
  return {
    version: 1,
    dir: (controller) => [...dirs].find(([k]) => k.split(',').includes(controller))?.[1],
  };
}

/**
 * Why the container cannot be frozen, or undefined when it can: v1 needs its own cgroup in the
 * freezer hierarchy, v2 its own cgroup with cgroup.freeze (kernel 5.2), writable by the caller.
 */
export function freezerMissing(cgroup: ContainerCgroup | undefined): string | undefined {
  if (!cgroup) return 'it has no cgroup of its own';
  const dir = cgroup.dir('freezer');
  const file = cgroup.version === 2 ? 'cgroup.freeze' : 'freezer.state';
  if (dir === undefined) return 'no cgroup v1 freezer hierarchy is mounted';
  try {
    accessSync(join(dir, file), constants.W_OK);
    return undefined;
  } catch {
    return `${join(dir, file)} is missing or not writable`;
  }
}

/** Counters of a container at one moment: what `den stats` compares two of. */
export interface StatsSample {
  /** Where the numbers come from: the container's cgroup, or /proc of its processes. */
  source: 'cgroup' | 'proc';
  /** CPU time the container used, in nanoseconds. */
  cpuNs: number;
  /** CPU time the whole host used (/proc/stat), in nanoseconds, and its online CPUs. */
  systemNs: number;
  onlineCpus: number;
  memoryUsage: number;
  memoryLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
  netRx: number;
  netTx: number;
}

const read = (dir: string | undefined, file: string): string | undefined => {
  if (dir === undefined) return undefined;
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
};

const numberIn = (text: string | undefined): number | undefined => {
  const n = Number(text?.trim());
  return text !== undefined && Number.isFinite(n) ? n : undefined;
};

/** The value of `key` in a "key value" file (memory.stat, cpu.stat). */
function statValue(text: string | undefined, key: string): number | undefined {
  const line = text?.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? undefined : Number(line.slice(key.length + 1));
}

/** USER_HZ: /proc's unit of CPU time, 100 on every Linux den runs on. */
const TICKS_PER_SECOND = 100;
const NS_PER_TICK = 1e9 / TICKS_PER_SECOND;

/** The host's CPU time (/proc/stat's cpu line, as docker's system_cpu_usage) and its online CPUs. */
function hostCpu(): { systemNs: number; onlineCpus: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  const lines = text.split('\n');
  const ticks = lines[0]!.split(/\s+/).slice(1, 8).map(Number);
  return {
    systemNs: ticks.reduce((a, b) => a + b, 0) * NS_PER_TICK,
    onlineCpus: lines.filter((l) => /^cpu[0-9]+ /.test(l)).length || 1,
  };
}

/** Bytes the container's network interfaces moved, lo left out; none when it shares the host's. */
function networkOf(initPid: number, ownNetwork: boolean): { netRx: number; netTx: number } {
  let rx = 0;
  let tx = 0;
  if (!ownNetwork) return { netRx: 0, netTx: 0 };
  try {
    for (const line of readFileSync(`/proc/${initPid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (rest === undefined || name!.trim() === 'lo') continue;
      const f = rest.trim().split(/\s+/).map(Number);
      rx += f[0] ?? 0;
      tx += f[8] ?? 0;
    }
  } catch {
    // the container ended
  }
  return { netRx: rx, netTx: tx };
}

/** A limit file's value; "max", or v1's page-rounded 2^63, mean none: the host's memory stands. */
function limitOf(text: string | undefined): number {
  const n = numberIn(text);
  return n === undefined || n >= 2 ** 62 || n > totalmem() ? totalmem() : n;
}

/** Counters from the container's cgroup (v1 or v2), as docker's stats reads them. */
export function cgroupStats(cgroup: ContainerCgroup, initPid: number, ownNetwork: boolean): StatsSample {
  const host = hostCpu();
  const net = networkOf(initPid, ownNetwork);
  if (cgroup.version === 2) {
    const dir = cgroup.dir('');
    const memory = read(dir, 'memory.stat');
    const current = numberIn(read(dir, 'memory.current')) ?? 0;
    const io = (read(dir, 'io.stat') ?? '').split('\n');
    const sum = (key: string) => io.reduce((a, l) => a + Number(new RegExp(`\\b${key}=([0-9]+)`).exec(l)?.[1] ?? 0), 0);
    return {
      source: 'cgroup',
      cpuNs: (statValue(read(dir, 'cpu.stat'), 'usage_usec') ?? 0) * 1000,
      ...host,
      memoryUsage: Math.max(0, current - (statValue(memory, 'inactive_file') ?? 0)),
      memoryLimit: limitOf(read(dir, 'memory.max')),
      pids: numberIn(read(dir, 'pids.current')) ?? 0,
      blockRead: sum('rbytes'),
      blockWrite: sum('wbytes'),
      ...net,
    };
  }
  const memoryDir = cgroup.dir('memory');
  const usage = numberIn(read(memoryDir, 'memory.usage_in_bytes')) ?? 0;
  const inactive = statValue(read(memoryDir, 'memory.stat'), 'total_inactive_file') ?? 0;
  const blkio = cgroup.dir('blkio');
  const service =
    read(blkio, 'blkio.throttle.io_service_bytes') || read(blkio, 'blkio.io_service_bytes_recursive') || '';
  const ioSum = (op: string) =>
    service.split('\n').reduce((a, l) => {
      const f = l.split(' ');
      return f[1] === op ? a + Number(f[2]) : a;
    }, 0);
  return {
    source: 'cgroup',
    cpuNs: numberIn(read(cgroup.dir('cpuacct'), 'cpuacct.usage')) ?? 0,
    ...host,
    memoryUsage: inactive < usage ? usage - inactive : usage,
    memoryLimit: limitOf(read(memoryDir, 'memory.limit_in_bytes')),
    pids: numberIn(read(cgroup.dir('pids'), 'pids.current')) ?? 0,
    blockRead: ioSum('Read'),
    blockWrite: ioSum('Write'),
    ...net,
  };
}

/** A process's /proc/PID/stat fields after the command (field 3 on), or undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * The container's processes: its init and everything descended from it. Every den container has
 * a pid namespace of its own, whose orphans its init adopts, so the tree is all of it.
 */
export function containerProcesses(initPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const parent = Number(statFields(Number(name))?.[1]);
    if (!Number.isInteger(parent)) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const all: number[] = [];
  const queue = [initPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    all.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return all;
}

const PAGE_SIZE = 4096;

/**
 * Counters from /proc for a container without a cgroup of its own (rootless without delegation):
 * CPU time and threads from each process's stat, memory as the sum of their resident sets (shared
 * pages counted in each), block I/O from their io files where the caller may read them. No limit
 * applies but the host's memory.
 */
export function procStats(initPid: number, ownNetwork: boolean): StatsSample {
  let cpuTicks = 0;
  let pages = 0;
  let threads = 0;
  let blockRead = 0;
  let blockWrite = 0;
  for (const pid of containerProcesses(initPid)) {
    const f = statFields(pid);
    if (!f) continue;
    // Fields 14 and 15 (utime, stime) are 11 and 12 here; 20 (num_threads) is 17; 24 (rss) is 21.
    cpuTicks += Number(f[11]) + Number(f[12]);
    threads += Number(f[17]);
    pages += Number(f[21]);
    const io = read(`/proc/${pid}`, 'io');
    blockRead += statValue(io?.replace(/: /g, ' '), 'read_bytes') ?? 0;
    blockWrite += statValue(io?.replace(/: /g, ' '), 'write_bytes') ?? 0;
  }
  return {
    source: 'proc',
    cpuNs: cpuTicks * NS_PER_TICK,
    ...hostCpu(),
    memoryUsage: pages * PAGE_SIZE,
    memoryLimit: totalmem(),
    pids: threads,
    blockRead,
    blockWrite,
    ...networkOf(initPid, ownNetwork),
  };
}
