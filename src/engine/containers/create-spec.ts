import { DenError, invalidArgument } from '../../common/errors.js';
import { constants } from 'node:os';
import type {
  ContainerLimits,
  DeviceSpec,
  MountSpec,
  ContainerNetworking,
  HealthConfig,
  LogConfig,
  RestartPolicy,
} from '../../containers/index.js';
import type { ImageHealthcheck } from '../../images/index.js';
import { parseIdMapSpec, validateIdMap, type IdMap } from '../../idmap/index.js';
import { parseNetworkMode, type NetworkRequest } from '../../network/index.js';
import type { SecuritySpec } from './security.js';

/**
 * What a container is to be, as the engine takes it: typed, every docker string syntax already
 * parsed. The CLI builds it from flags (`den create`, `den run`); an API server builds the same
 * from the JSON of a create request. Nothing in it refers to the caller's world: `-e NAME` has
 * been resolved against the caller's environment and env files have been read, by the caller.
 *
 *   const spec: CreateSpec = {
 *     image: 'busybox', command: ['sh', '-c', 'id'], env: ['A=1'],
 *     binds: [parseVolume('/srv/data:/data:ro')], network: parseNetwork('none'),
 *     userns: parseUserns('auto', [], []), tty: false, interactive: false, autoRemove: true, readOnly: false,
 *   };
 *   const record = await createContainer(ctx, spec);
 */
export interface CreateSpec {
  /** The image's name or id, as the user gave it. */
  image: string;
  /** Arguments after the image: replace the image's CMD. */
  command: string[];
  /** Replaces the image's ENTRYPOINT and drops its CMD, as docker does; `[]` clears it. */
  entrypoint?: string[];
  /** NAME=VALUE entries, applied over the image's in order (a later one wins). */
  env: string[];
  workdir?: string;
  /** -u: a user or uid, optionally :group or :gid, looked up in the image. */
  user?: string;
  name?: string;
  hostname?: string;
  readOnly: boolean;
  /** -v (docker's HostConfig.Binds: bind mounts and volumes), parseVolume's form. */
  binds: MountSpec[];
  /** --mount and --tmpfs (parseMount, parseTmpfs), docker's HostConfig.Mounts and Tmpfs. */
  mounts?: MountSpec[];
  /** --volumes-from CONTAINER[:ro|rw]. */
  volumesFrom?: string[];
  /** --shm-size, bytes. */
  shmSize?: number;
  /** --device, parseDevice's form. */
  devices?: DeviceSpec[];
  /** --network; { kind: 'default' } for the host's default network. */
  network: NetworkRequest;
  /** -p, -P, --expose, --dns*, --add-host, --mac-address, --network-alias, parsed. */
  networkSettings?: Partial<ContainerNetworking>;
  /** An OCI runtime's name (crun, runc) or path; the engine's default when absent. */
  runtime?: string;
  userns: UsernsRequest;
  tty: boolean;
  interactive: boolean;
  /** docker's StdinOnce: the first attach's end of input closes the container's stdin (the API's create). */
  stdinOnce?: boolean;
  autoRemove: boolean;
  /** --label, over the image's. */
  labels?: Record<string, string>;
  restartPolicy?: RestartPolicy;
  /** parseSignal's form; the image's STOPSIGNAL when absent. */
  stopSignal?: string;
  /** Seconds; docker's 10 when absent. */
  stopTimeout?: number;
  log?: LogConfig;
  /** The --health-* flags (healthcheckOf merges them with the image's HEALTHCHECK at create). */
  health?: HealthFlags;
  /**
   * --memory, --cpus, --pids-limit, --ulimit ... as given (limits.ts parses docker's syntax); the
   * engine applies docker's rules (swap twice the memory unless given, 0 for none).
   */
  limits?: ContainerLimits;
  /** --privileged, --cap-add, --cap-drop, --security-opt, --group-add (parseSecurity); docker's defaults when absent. */
  security?: SecuritySpec;
}

/**
 * --userns modes, as podman names them:
 *   auto[:size=N]  a range of its own, allocated without overlap: as root from the pool of the
 *                  system user den, rootless from the caller's subordinate ids
 *   host           rootless: the session's own mapping; as root: ids map one to one
 *   --uidmap/--gidmap  an explicit mapping; rootless, its host ids are the session's
 *   keep-id[:uid=U,gid=G]  rootless: the caller's uid and gid are the same inside
 *   default        none asked for: the engine's configuration or den's choice (defaultUserns)
 */
export type UsernsRequest =
  | { mode: 'default' }
  | { mode: 'host' }
  | { mode: 'auto'; size?: number }
  | { mode: 'keep-id'; uid?: number; gid?: number }
  | { mode: 'explicit'; uidMap: IdMap; gidMap: IdMap };

/** `--userns`, `--uidmap` and `--gidmap` together (they exclude each other). */
export function parseUserns(userns: string | undefined, uidmaps: string[], gidmaps: string[]): UsernsRequest {
  if (uidmaps.length > 0 || gidmaps.length > 0) {
    if (userns !== undefined) throw invalidArgument('DEN0670', '--userns cannot be combined with --uidmap or --gidmap');
    const uidMap = uidmaps.flatMap((m) => parseIdMapSpec(m, '--uidmap'));
    const gidMap = gidmaps.length > 0 ? gidmaps.flatMap((m) => parseIdMapSpec(m, '--gidmap')) : uidMap;
    if (uidMap.length === 0) throw invalidArgument('DEN0671', '--gidmap needs --uidmap as well');
    validateIdMap(uidMap, 'uid');
    validateIdMap(gidMap, 'gid');
    return { mode: 'explicit', uidMap, gidMap };
  }
  if (userns === undefined || userns === '') return { mode: 'default' };
  if (userns === 'host') return { mode: 'host' };
  const auto = /^auto(?::(.*))?$/.exec(userns);
  if (auto) {
    if (auto[1] === undefined) return { mode: 'auto' };
    const size = /^size=([0-9]+)$/.exec(auto[1]);
    if (!size || Number(size[1]) < 1)
      throw invalidArgument('DEN0672', `--userns=${userns}: expected auto or auto:size=N`);
    return { mode: 'auto', size: Number(size[1]) };
  }
  const keep = /^keep-id(?::(.*))?$/.exec(userns);
  if (keep) {
    const request: UsernsRequest & { mode: 'keep-id' } = { mode: 'keep-id' };
    for (const option of keep[1] ? keep[1].split(',') : []) {
      const m = /^(uid|gid)=([0-9]+)$/.exec(option);
      if (!m) throw invalidArgument('DEN0679', `--userns=${userns}: expected keep-id[:uid=U,gid=G]`);
      request[m[1] as 'uid' | 'gid'] = Number(m[2]);
    }
    return request;
  }
  if (userns === 'nomap') {
    throw new DenError('FailedPrecondition', 'DEN0673', `--userns=${userns} is not supported yet`, {
      hint: 'use --userns=host (rootless) or --userns=auto (root)',
    });
  }
  throw invalidArgument('DEN0674', `invalid --userns "${userns}"`, {
    hint: 'use auto[:size=N], host, or --uidmap/--gidmap',
  });
}

/** `--network` (network/network-mode.ts); absent: the default network. */
export function parseNetwork(network: string | undefined): NetworkRequest {
  return network === undefined ? { kind: 'default' } : parseNetworkMode(network);
}

export { parseDevice, parseMount, parseTmpfs, parseVolume } from './mount-spec.js';

/**
 * The message for `-e =VALUE`: the value is not repeated, since it may be the password the entry
 * was meant to pass (error messages end up in terminals, CI logs and bug reports).
 */
export const EMPTY_ENV_NAME = 'invalid environment variable "=...": empty name (the value is not shown)';

/**
 * `-e` entries as docker reads them: NAME=VALUE, or NAME alone to pass the caller's value through
 * (dropped when the caller has none). `lookup` is the caller's environment: the CLI's own, never
 * the engine's process (inside a server that would hand the server's environment to a container).
 */
export function resolveEnv(entries: readonly string[], lookup: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq === 0) throw invalidArgument('DEN0624', EMPTY_ENV_NAME);
    if (eq > 0) {
      out.push(entry);
      continue;
    }
    const value = lookup(entry);
    if (value !== undefined) out.push(`${entry}=${value}`);
  }
  return out;
}

/** The lines of an --env-file that are entries: blank lines and # comments are not. */
export function envFileEntries(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** `--restart no|always|unless-stopped|on-failure[:N]`, as docker parses it. */
export function parseRestartPolicy(text: string | undefined): RestartPolicy | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(no|always|unless-stopped|on-failure)(?::(.*))?$/.exec(text);
  const count = m?.[2];
  if (!m || (count !== undefined && !/^[0-9]+$/.test(count))) {
    throw invalidArgument('DEN1101', `invalid restart policy "${text}"`, {
      hint: 'use no, always, unless-stopped or on-failure[:max-retries]',
    });
  }
  const name = m[1] as RestartPolicy['name'];
  if (count !== undefined && name !== 'on-failure') {
    throw invalidArgument(
      'DEN1101',
      `invalid restart policy "${text}": maximum retry count can only be used with 'on-failure'`,
    );
  }
  return { name, maximumRetryCount: count === undefined ? 0 : Number(count) };
}

/** `--label KEY=VALUE` (a KEY alone is an empty value, as docker has it). */
export function parseLabels(entries: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === '') throw invalidArgument('DEN1104', `invalid label "${entry}": empty name`);
    labels[key] = eq < 0 ? '' : entry.slice(eq + 1);
  }
  return labels;
}

/** A signal as docker takes it: a name with or without SIG (TERM, SIGTERM) or a number. */
export function parseSignal(text: string, what = 'signal'): string {
  const upper = text.toUpperCase();
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return text;
  } else {
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (name in constants.signals || /^SIGRTM(IN|AX)([+-][0-9]+)?$/.test(name)) return name;
  }
  throw invalidArgument('DEN1103', `invalid ${what} "${text}"`, { hint: 'give a name (TERM, SIGKILL) or a number' });
}

/**
 * `--log-driver` and `--log-opt`. den writes one format, conmon's k8s-file (json-file, docker's
 * default name, is accepted and written the same way, as podman does); `none` keeps nothing.
 * max-size bounds the file (conmon starts it afresh when full); max-file is accepted only as 1,
 * since conmon keeps no older files, and saying otherwise would be a lie about what is kept.
 */
export function parseLogConfig(driver: string | undefined, opts: readonly string[]): LogConfig {
  const name = driver ?? 'k8s-file';
  if (name !== 'k8s-file' && name !== 'json-file' && name !== 'none') {
    throw invalidArgument('DEN1105', `unknown log driver "${name}"`, { hint: 'use k8s-file, json-file or none' });
  }
  const given: Record<string, string> = {};
  let maxSize = 0;
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'max-size') {
      maxSize = parseBytes(value, `--log-opt ${opt}`);
    } else if (key === 'max-file') {
      if (value !== '1') {
        throw invalidArgument('DEN1105', `--log-opt ${opt}: den keeps one log file per container`, {
          hint: 'use max-file=1 with max-size, or leave max-file out',
        });
      }
    } else if (key !== 'tag' && key !== 'labels' && key !== 'env' && key !== 'mode') {
      throw invalidArgument('DEN1105', `unknown log opt '${key}' for ${name} log driver`);
    }
    given[key] = value;
  }
  return { driver: name, maxSize, opts: given };
}

/** docker's sizes: 10, 10b, 10k, 10kb, 1.5m, 2g (powers of 1024). */
export function parseBytes(text: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (!m)
    throw invalidArgument('DEN1105', `${what}: invalid size "${text}"`, { hint: 'use a number with b, k, m or g' });
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** Go's time.ParseDuration, as docker reads --health-interval and friends; nanoseconds. */
export function parseDuration(text: string, what: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === '0') return 0;
  const part = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) throw invalidArgument('DEN1106', `${what}: invalid duration "${text}"`, { hint: 'use 30s, 1m30s, 500ms' });
    total += Number(m[1]) * units[m[2]!]!;
    at = part.lastIndex;
  }
  if (text === '') throw invalidArgument('DEN1106', `${what}: invalid duration ""`, { hint: 'use 30s, 1m30s, 500ms' });
  return Math.round(total);
}

/** The --health-* flags, each overriding the image's HEALTHCHECK field by field, as docker does. */
export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
  none: boolean;
}

/**
 * A --health-* duration: Go's syntax, as docker's flags take it. docker refuses a negative one, and
 * one below 1 ms (0 means the default).
 */
function healthDuration(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  const sign = /^[-+]/.exec(text)?.[0];
  const ns = parseDuration(sign ? text.slice(1) : text, flag);
  if (sign === '-' && ns !== 0) throw invalidArgument('DEN1106', `${flag} cannot be negative`);
  if (ns !== 0 && ns < 1e6) throw invalidArgument('DEN1106', `${flag} cannot be less than 1ms`);
  return ns;
}

/** What `--no-healthcheck` (and an image's HEALTHCHECK NONE) records. */
const NO_HEALTHCHECK: HealthConfig = { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, retries: 0 };

/**
 * The container's health check, as docker makes it: the flags first (docker's CLI: an empty
 * --health-cmd is no --health-cmd, and --no-healthcheck conflicts with any --health-* that is not
 * zero), then merged over the image's HEALTHCHECK field by field (docker's daemon: a field the
 * flags leave at zero, the test included, takes the image's value). --health-cmd is always a
 * shell command, ['CMD-SHELL', cmd]. Undefined when neither flags nor image give one.
 */
export function healthcheckOf(
  flags: HealthFlags,
  image: Partial<ImageHealthcheck> | undefined,
): HealthConfig | undefined {
  const cmd = flags.cmd === '' ? undefined : flags.cmd;
  const interval = healthDuration(flags.interval, '--health-interval');
  const timeout = healthDuration(flags.timeout, '--health-timeout');
  const startPeriod = healthDuration(flags.startPeriod, '--health-start-period');
  const retries = flags.retries ?? 0;
  if (retries < 0) throw invalidArgument('DEN1106', '--health-retries cannot be negative');
  const given = cmd !== undefined || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0;
  if (flags.none) {
    if (given) throw invalidArgument('DEN1106', '--no-healthcheck conflicts with --health-* options');
    return NO_HEALTHCHECK;
  }
  const test = cmd !== undefined ? ['CMD-SHELL', cmd] : (image?.Test ?? []);
  if (!given && test.length === 0) return undefined;
  if (test[0] === 'NONE') return NO_HEALTHCHECK;
  return {
    test,
    interval: interval || image?.Interval || 0,
    timeout: timeout || image?.Timeout || 0,
    startPeriod: startPeriod || image?.StartPeriod || 0,
    retries: retries || image?.Retries || 0,
  };
}
