import { invalidArgument } from '../common/errors.js';
import type { ContainerRecord, HealthConfig, HealthProbe, HealthState } from './container.js';

/**
 * Health checks as docker keeps them (its daemon/health.go), pure: what a container's check is once
 * docker's defaults fill its zeros, what one probe's result does to the container's health, and
 * the values `ps --filter health=` takes. The engine runs the probes (engine/containers/health-check.ts).
 *
 * Vocabulary: the *check* is the container's HealthConfig (the image's HEALTHCHECK under the
 * --health-* flags); a *probe* is one run of its test inside the container; the *health* is the
 * record's State.Health (status, the count of failures in a row, and the last five probes).
 *
 *   starting --success--> healthy --`retries` failures in a row--> unhealthy --success--> healthy
 *      |                                                               ^
 *      `--`retries` failures in a row, counted once the start period is over--'
 */

/** docker's values for a check's fields left at 0. */
export const HEALTH_DEFAULTS = { interval: 30e9, timeout: 30e9, startPeriod: 0, retries: 3 } as const;

/** How many probes docker keeps in State.Health.Log, oldest first. */
export const HEALTH_LOG_ENTRIES = 5;

/** The most bytes of a probe's output docker keeps; "..." marks the cut. */
export const HEALTH_OUTPUT_LIMIT = 4096;

export type HealthStatus = HealthState['status'];

/** What `ps --filter health=` matches: a status, or none for a container that has no health (yet). */
export type HealthFilterValue = HealthStatus | 'none';

const FILTER_VALUES: readonly HealthFilterValue[] = ['starting', 'healthy', 'unhealthy', 'none'];

/**
 * The check a container runs, docker's defaults in place of its zeros; undefined when it has none
 * (no HEALTHCHECK, `--no-healthcheck`, or an image's HEALTHCHECK NONE).
 */
export function activeHealthcheck(check: HealthConfig | undefined): HealthConfig | undefined {
  if (!check || check.test.length === 0 || check.test[0] === 'NONE') return undefined;
  return {
    test: check.test,
    interval: check.interval || HEALTH_DEFAULTS.interval,
    timeout: check.timeout || HEALTH_DEFAULTS.timeout,
    startPeriod: check.startPeriod || HEALTH_DEFAULTS.startPeriod,
    retries: check.retries > 0 ? check.retries : HEALTH_DEFAULTS.retries,
  };
}

/**
 * The argv a probe runs inside the container: CMD's arguments as they are, CMD-SHELL's through
 * `/bin/sh -c` (arguments after the command become $0, $1..., as docker passes them); undefined for
 * a test of another kind, which docker does not run either.
 *
 *   ['CMD', 'pg_isready', '-q']      -> ['pg_isready', '-q']
 *   ['CMD-SHELL', 'curl -f x || exit 1'] -> ['/bin/sh', '-c', 'curl -f x || exit 1']
 */
export function probeArgv(test: readonly string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (rest.length === 0) return undefined;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', ...rest];
  return undefined;
}

/** The health a (re)started container begins with: starting, no failures, and the earlier probes kept, as docker keeps them. */
export function startingHealth(previous: HealthState | null): HealthState {
  return { status: 'starting', failingStreak: 0, log: previous?.log ?? [] };
}

/**
 * The health after one probe. A success makes the container healthy and clears the streak. A
 * failure (any other exit status, a timeout's -1 included) adds to the streak, and `retries` of
 * them in a row make it unhealthy; but while the container has never been healthy, a failure that
 * started within the start period counts for nothing.
 *
 * @param check the active check (activeHealthcheck): retries and startPeriod already defaulted
 * @param startedAt when the container's current run began (the record's startedAt)
 */
export function recordProbe(
  previous: HealthState | null,
  probe: HealthProbe,
  check: Pick<HealthConfig, 'retries' | 'startPeriod'>,
  startedAt: string,
): HealthState {
  const before = previous ?? startingHealth(null);
  const log = [...before.log, probe].slice(-HEALTH_LOG_ENTRIES);
  if (probe.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const sinceStartNs = (Date.parse(probe.start) - Date.parse(startedAt)) * 1e6;
  if (before.status === 'starting' && sinceStartNs < check.startPeriod) return { ...before, log };
  const failingStreak = before.failingStreak + 1;
  return { status: failingStreak >= check.retries ? 'unhealthy' : before.status, failingStreak, log };
}

/** A probe's output as docker keeps it: its first 4096 bytes (stdout and stderr as they came), "..." when cut. */
export function probeOutput(bytes: Buffer, truncated: boolean): string {
  const cut = bytes.length > HEALTH_OUTPUT_LIMIT || truncated;
  return bytes.subarray(0, HEALTH_OUTPUT_LIMIT).toString('utf8') + (cut ? '...' : '');
}

/** The health `ps --filter health=` sees: the record's status, or none. */
export function healthFilterValue(c: ContainerRecord): HealthFilterValue {
  return c.health?.status ?? 'none';
}

/**
 * `ps --filter health=VALUE` (repeated: any of them), as docker matches it. A container that has
 * no health check, or has one and was never started, is `none`.
 */
export function healthFilter(values: readonly string[]): (c: ContainerRecord) => boolean {
  for (const value of values) {
    if (!FILTER_VALUES.includes(value as HealthFilterValue)) {
      throw invalidArgument('DEN1133', `invalid filter "health=${value}"`, {
        hint: 'health is one of starting, healthy, unhealthy or none',
      });
    }
  }
  return (c) => values.includes(healthFilterValue(c));
}

/**
 * A duration as Go prints it (time.Duration's String), which docker's messages use:
 * 1500000000 -> "1.5s", 90e9 -> "1m30s", 5e8 -> "500ms", 3600e9 -> "1h0m0s".
 */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const n = Math.abs(ns);
  const decimal = (x: number) => String(Number(x.toFixed(9)));
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${decimal(n / 1e3)}µs`;
  if (n < 1e9) return `${sign}${decimal(n / 1e6)}ms`;
  const hours = Math.floor(n / 3600e9);
  const minutes = Math.floor((n % 3600e9) / 60e9);
  const seconds = `${decimal((n % 60e9) / 1e9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}
