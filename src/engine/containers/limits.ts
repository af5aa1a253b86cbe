/**
 * Resource limits in docker's syntax and by docker's rules: the flag values as docker's CLI parses
 * them (go-units' sizes and ulimits, big.Rat CPUs, Go's integers, with their error messages), the
 * checks docker's daemon makes (minimum memory, swap against memory, the CPUs there are), and the
 * OCI config's `linux.resources` and `process.rlimits` they become.
 *
 *   parseMemoryBytes('512m')     // 536870912
 *   parseNanoCpus('1.5')         // 1500000000
 *   parseUlimit('nofile=1024:2048')  // { name: 'nofile', soft: 1024, hard: 2048 }
 *   resolveLimits({ memory: 536870912 }, 2)  // { memory: 536870912, memorySwap: 1073741824 }
 *   ociResources({ memory: 536870912, memorySwap: 1073741824, nanoCpus: 1500000000 })
 *   // { memory: { limit: 536870912, swap: 1073741824 }, cpu: { quota: 150000, period: 100000 } }
 *
 * Parse errors carry docker's words; the CLI puts them after docker's `invalid argument "V" for
 * "--flag" flag:`.
 */
import { invalidArgument } from '../../common/errors.js';
import type { ContainerLimits, Ulimit } from '../../containers/index.js';
import type { LimitController } from '../../cgroups/index.js';
import { ociRlimit, ULIMIT_NAMES, type OciResources, type OciRlimit } from '../../runtime/index.js';

/** docker's smallest --memory and --memory-reservation (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** The CFS period docker gives --cpus: 100 ms, in microseconds. */
export const CPU_PERIOD_US = 100_000;
/** The most CPUs a --cpuset-cpus list may name (docker's bound against absurd lists), unless the host has more. */
const MAX_CPUSET_CPU = 8192;

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

const malformed = (message: string) => invalidArgument('DEN0690', message);

/**
 * go-units' RAMInBytes, as docker's --memory takes it: a decimal number, then optionally a space
 * and a unit b, k, m, g, t or p (powers of 1024), any case, with an optional trailing b or ib.
 */
export function parseMemoryBytes(value: string): number {
  let sep = -1;
  for (let i = value.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(value[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep < 0) throw malformed(`invalid size: '${value}'`);
  const num = value[sep] === ' ' ? value.slice(0, sep) : value.slice(0, sep + 1);
  let sfx = value.slice(sep + 1);
  const size = parseGoFloat(num);
  if (size < 0) throw malformed(`invalid size: '${value}'`);
  if (sfx === '') return goInt64(size);
  const badSuffix = () => malformed(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw badSuffix();
    return goInt64(size);
  }
  const power = 'kmgtp'.indexOf(sfx[0]!);
  if (power < 0) throw badSuffix();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw badSuffix();
  return goInt64(size * 1024 ** (power + 1));
}

/** --memory-swap: a size, or -1 for unlimited swap. */
export function parseMemorySwap(value: string): number {
  return value === '-1' ? -1 : parseMemoryBytes(value);
}

/**
 * --cpus: a rational number (1.5, 1e-1, 3/2) of CPUs, in billionths; a value finer than a
 * billionth is refused, as docker refuses it.
 */
export function parseNanoCpus(value: string): number {
  let nano: { num: bigint; den: bigint } | undefined;
  const fraction = /^([+-]?)([0-9]+)\/([0-9]+)$/.exec(value);
  const decimal = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(value);
  if (fraction && BigInt(fraction[3]!) !== 0n) {
    const sign = fraction[1] === '-' ? -1n : 1n;
    nano = { num: sign * BigInt(fraction[2]!) * 1_000_000_000n, den: BigInt(fraction[3]!) };
  } else if (decimal && `${decimal[2]}${decimal[3] ?? ''}` !== '' && Math.abs(Number(decimal[4] ?? 0)) < 10_000) {
    const sign = decimal[1] === '-' ? -1n : 1n;
    const frac = decimal[3] ?? '';
    const mantissa = sign * BigInt(`${decimal[2]}${frac}` || '0');
    const shift = 9 + Number(decimal[4] ?? 0) - frac.length;
    nano =
      shift >= 0 ? { num: mantissa * 10n ** BigInt(shift), den: 1n } : { num: mantissa, den: 10n ** BigInt(-shift) };
  }
  if (!nano) throw malformed(`failed to parse ${value} as a rational number`);
  if (nano.num % nano.den !== 0n) throw malformed('value is too precise');
  const n = nano.num / nano.den;
  // Beyond int64 Go's Int64() is undefined; the daemon's range check refuses it either way.
  return Number(n > INT64_MAX ? INT64_MAX : n < INT64_MIN ? INT64_MIN : n);
}

/** An int64 flag (--cpu-shares, --pids-limit) as Go's strconv.ParseInt(value, 0, 64) reads it. */
export function parseInt64(value: string): number {
  const syntax = () => malformed(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  const m = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=[0-7_]))?([0-9a-fA-F_]+)$/.exec(value);
  if (!m) throw syntax();
  const prefix = (m[2] ?? '').toLowerCase();
  const base = prefix === '0x' ? 16 : prefix === '0b' ? 2 : prefix === '0o' || prefix === '0' ? 8 : 10;
  let digits = m[3]!;
  // Underscores only with a base prefix, and only between digits (or after the prefix).
  if (digits.includes('_')) {
    if (!prefix || /__|_$/.test(digits)) throw syntax();
    digits = digits.replace(/_/g, '');
  }
  if (base === 10 && digits.length > 1 && digits.startsWith('0')) throw syntax();
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base]!;
  if (!valid.test(digits)) throw syntax();
  const magnitude = BigInt(base === 10 ? digits : `0${prefix === '0' ? 'o' : prefix[1]}${digits}`);
  const n = m[1] === '-' ? -magnitude : magnitude;
  if (n > INT64_MAX || n < INT64_MIN) {
    throw malformed(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  return Number(n);
}

/** --ulimit NAME=SOFT[:HARD] (go-units' ParseUlimit): HARD defaults to SOFT, -1 is unlimited. */
export function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw malformed(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  if (!Object.hasOwn(ULIMIT_NAMES, name)) throw malformed(`invalid ulimit type: ${name}`);
  const parts = value.slice(eq + 1).split(':');
  if (parts.length > 2) {
    throw malformed(
      `too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``,
    );
  }
  const decimal = (text: string) => {
    if (!/^[+-]?[0-9]+$/.test(text)) {
      throw malformed(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
    }
    return parseInt64(text.replace(/^([+-]?)0+(?=[0-9])/, '$1'));
  };
  const hard = parts.length === 2 ? decimal(parts[1]!) : undefined;
  const soft = decimal(parts[0]!);
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) {
      throw malformed(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    }
    if (soft > h) throw malformed(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { name, soft, hard: h };
}

/** --ulimit given several times: one per name, the last one winning, sorted by name (docker's UlimitOpt). */
export function mergeUlimits(ulimits: readonly Ulimit[]): Ulimit[] {
  const byName = new Map(ulimits.map((u) => [u.name, u]));
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const bad = (message: string) => invalidArgument('DEN0691', message);

/**
 * The limits a container gets from those asked for, by docker's daemon's rules: unset values (0)
 * dropped, swap twice the memory unless given, a --pids-limit of 0 or below unlimited, and every
 * combination docker refuses refused with its message (`cpus`: how many this process may run on,
 * Go's runtime.NumCPU). Undefined when no limit remains. Whether a --cpuset-cpus names CPUs the
 * container may have depends on its cgroup: checkCpusetAvailable.
 */
export function resolveLimits(asked: ContainerLimits | undefined, cpus: number): ContainerLimits | undefined {
  if (!asked) return undefined;
  const memory = asked.memory ?? 0;
  let swap = asked.memorySwap ?? 0;
  const reservation = asked.memoryReservation ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) {
    throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0)
    throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (reservation !== 0 && reservation < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (memory > 0 && swap === 0) swap = memory * 2;
  const nanoCpus = asked.nanoCpus ?? 0;
  if (nanoCpus < 0 || nanoCpus > cpus * 1e9) {
    throw bad(`range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  }
  const shares = asked.cpuShares ?? 0;
  if (shares < 0) throw bad(`invalid CPU shares (${shares}): value must be a positive integer`);
  const cpuset = asked.cpusetCpus ?? '';
  if (cpuset !== '') cpusetCpus(cpuset, MAX_CPUSET_CPU);
  const pids = asked.pidsLimit ?? 0;
  const ulimits = mergeUlimits(asked.ulimits ?? []);
  const limits: ContainerLimits = {
    ...(memory > 0 ? { memory } : {}),
    ...(memory > 0 || swap === -1 ? { memorySwap: swap } : {}),
    ...(reservation > 0 ? { memoryReservation: reservation } : {}),
    ...(nanoCpus > 0 ? { nanoCpus } : {}),
    ...(shares > 0 ? { cpuShares: shares } : {}),
    ...(cpuset !== '' ? { cpusetCpus: cpuset } : {}),
    ...(pids > 0 ? { pidsLimit: pids } : {}),
    ...(ulimits.length > 0 ? { ulimits } : {}),
  };
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** --cpuset-cpus as a list of CPUs, at most `max`; refused in docker's words. */
function cpusetCpus(cpuset: string, max: number): number[] {
  try {
    return cpuList(cpuset, max);
  } catch (e) {
    throw invalidArgument('DEN0692', `Invalid value ${cpuset} for cpuset cpus: ${(e as Error).message}`);
  }
}

/** Refuses a --cpuset-cpus that names CPUs outside `available` (the kernel's list form). */
export function checkCpusetAvailable(cpuset: string, available: string): void {
  const have = cpuList(available, Number.MAX_SAFE_INTEGER);
  const asked = cpusetCpus(cpuset, Math.max(MAX_CPUSET_CPU, ...have));
  const set = new Set(have);
  if (asked.some((c) => !set.has(c))) {
    throw invalidArgument('DEN0692', `Requested CPUs are not available - requested ${cpuset}, available: ${available}`);
  }
}

/** A CPU list (`0-2,5`) as docker's parseUintList reads it; throws docker's words. */
export function cpuList(text: string, max: number): number[] {
  const out = new Set<number>();
  if (text === '') return [];
  const invalid = () => new Error(`invalid format: ${text}`);
  const number = (s: string) => {
    if (!/^[+-]?[0-9]+$/.test(s)) throw invalid();
    const n = Number(s);
    if (n > max) throw new Error(`value of out range, maximum is ${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const cut = part.indexOf('-');
    if (cut < 0) {
      out.add(number(part));
      continue;
    }
    const lo = number(part.slice(0, cut));
    const hi = number(part.slice(cut + 1));
    if (hi < lo) throw invalid();
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out];
}

/** The cgroup controllers the limits need (--ulimit needs none: the runtime sets it with setrlimit). */
export function controllersFor(limits: ContainerLimits | undefined): LimitController[] {
  if (!limits) return [];
  const out: LimitController[] = [];
  if (limits.memory || limits.memoryReservation || (limits.memorySwap ?? 0) > 0) out.push('memory');
  if (limits.nanoCpus || limits.cpuShares) out.push('cpu');
  if (limits.cpusetCpus) out.push('cpuset');
  if (limits.pidsLimit) out.push('pids');
  return out;
}

/** The flags that asked for a controller, for messages (of the limits as asked, before resolveLimits). */
export function flagsFor(limits: ContainerLimits, controller: LimitController): string[] {
  const flags: Record<LimitController, [string, unknown][]> = {
    memory: [
      ['--memory', limits.memory],
      ['--memory-swap', (limits.memorySwap ?? 0) > 0],
      ['--memory-reservation', limits.memoryReservation],
    ],
    cpu: [
      ['--cpus', limits.nanoCpus],
      ['--cpu-shares', limits.cpuShares],
    ],
    cpuset: [['--cpuset-cpus', limits.cpusetCpus]],
    pids: [['--pids-limit', limits.pidsLimit]],
  };
  return flags[controller].filter(([, v]) => v).map(([f]) => f);
}

/** `linux.resources` for the limits, as docker's daemon writes it; undefined when there is none. */
export function ociResources(limits: ContainerLimits | undefined): OciResources | undefined {
  if (!limits) return undefined;
  const r: OciResources = {};
  const memory = {
    ...(limits.memory ? { limit: limits.memory } : {}),
    ...(limits.memoryReservation ? { reservation: limits.memoryReservation } : {}),
    ...((limits.memorySwap ?? 0) > 0 ? { swap: limits.memorySwap } : {}),
  };
  if (Object.keys(memory).length > 0) r.memory = memory;
  const cpu = {
    ...(limits.cpuShares ? { shares: limits.cpuShares } : {}),
    ...(limits.nanoCpus ? { quota: Math.trunc((limits.nanoCpus * CPU_PERIOD_US) / 1e9), period: CPU_PERIOD_US } : {}),
    ...(limits.cpusetCpus ? { cpus: limits.cpusetCpus } : {}),
  };
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (limits.pidsLimit) r.pids = { limit: limits.pidsLimit };
  return Object.keys(r).length > 0 ? r : undefined;
}

/** `process.rlimits` for the limits' --ulimit entries. */
export function ociRlimits(limits: ContainerLimits | undefined): OciRlimit[] {
  return (limits?.ulimits ?? []).map((u) => ociRlimit(u.name, u.soft, u.hard));
}

/** Go's strconv.ParseFloat for the decimal numbers a size starts with. */
function parseGoFloat(text: string): number {
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) {
    throw malformed(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  }
  const n = Number(text);
  if (!Number.isFinite(n)) throw malformed(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: value out of range`);
  return n;
}

/** Go's int64(f) on amd64: truncated; out of range it is the smallest int64. */
function goInt64(f: number): number {
  return f >= 2 ** 63 ? -(2 ** 63) : Math.trunc(f);
}
