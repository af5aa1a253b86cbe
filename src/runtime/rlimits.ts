/**
 * Resource limits of the container's processes (setrlimit, `process.rlimits` in the OCI config), by
 * docker's names (`--ulimit nofile=1024:2048`). The runtime sets them as the container's init
 * starts, with the privileges it runs with: lowering a limit always works, raising a hard limit
 * above the runtime's own needs CAP_SYS_RESOURCE in the initial user namespace, which a rootless
 * caller never has (and root on some hosts lacks). den's own limits are the runtime's, since it
 * starts it: `rlimitsAboveOwn` finds what would fail before the runtime says "Operation not permitted".
 */

/** RLIM_INFINITY: a limit of -1 in docker's syntax. */
export const RLIM_INFINITY = (1n << 64n) - 1n;

/** docker's --ulimit names (go-units' table, which leaves out `as`), and how /proc/PID/limits shows each. */
export const ULIMIT_NAMES: Readonly<Record<string, string>> = {
  core: 'Max core file size',
  cpu: 'Max cpu time',
  data: 'Max data size',
  fsize: 'Max file size',
  locks: 'Max file locks',
  memlock: 'Max locked memory',
  msgqueue: 'Max msgqueue size',
  nice: 'Max nice priority',
  nofile: 'Max open files',
  nproc: 'Max processes',
  rss: 'Max resident set',
  rtprio: 'Max realtime priority',
  rttime: 'Max realtime timeout',
  sigpending: 'Max pending signals',
  stack: 'Max stack size',
};

/** One entry of `process.rlimits`: `RLIMIT_NOFILE`, values as the kernel's unsigned 64 bits. */
export interface OciRlimit {
  type: string;
  soft: bigint;
  hard: bigint;
}

/** A limit as docker gives it (an int64, -1 unlimited) in the kernel's unsigned form. */
export function rlimitValue(value: number): bigint {
  return BigInt.asUintN(64, BigInt(value));
}

/** The OCI entry for docker's `name=soft:hard`. */
export function ociRlimit(name: string, soft: number, hard: number): OciRlimit {
  return { type: `RLIMIT_${name.toUpperCase()}`, soft: rlimitValue(soft), hard: rlimitValue(hard) };
}

/** The hard limits in a /proc/PID/limits text, by docker's names. */
export function hardLimits(procLimits: string): Map<string, bigint> {
  const byLabel = new Map(Object.entries(ULIMIT_NAMES).map(([name, label]) => [label, name]));
  const out = new Map<string, bigint>();
  for (const line of procLimits.split('\n')) {
    for (const [label, name] of byLabel) {
      if (!line.startsWith(label)) continue;
      const [, hard] = line.slice(label.length).trim().split(/\s+/);
      if (hard === 'unlimited') out.set(name, RLIM_INFINITY);
      else if (hard !== undefined && /^[0-9]+$/.test(hard)) out.set(name, BigInt(hard));
    }
  }
  return out;
}

/**
 * Whether a process may raise hard limits: CAP_SYS_RESOURCE (bit 24) in its effective set, counted
 * only in the initial user namespace (the identity map), from /proc/PID/status and uid_map texts.
 */
export function canRaiseHardLimits(procStatus: string, uidMap: string): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1];
  const initial = uidMap.trim().split(/\s+/).join(' ') === '0 0 4294967295';
  return initial && capEff !== undefined && ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n;
}

/** The rlimits whose hard limit is above `own`'s (by OCI type), each with den's own hard limit. */
export function rlimitsAboveOwn(
  asked: readonly OciRlimit[],
  own: ReadonlyMap<string, bigint>,
): { rlimit: OciRlimit; name: string; own: bigint }[] {
  const out: { rlimit: OciRlimit; name: string; own: bigint }[] = [];
  for (const rlimit of asked) {
    const name = rlimit.type.replace(/^RLIMIT_/, '').toLowerCase();
    const mine = own.get(name);
    if (mine !== undefined && rlimit.hard > mine) out.push({ rlimit, name, own: mine });
  }
  return out;
}
