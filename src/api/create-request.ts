/**
 * POST /containers/create's body (docker's Config with HostConfig and NetworkingConfig) into the
 * CreateSpec the CLI builds from `den create`'s flags, through the same parsers: a bind, a port,
 * a restart policy, a capability means the same over the socket as on the command line.
 *
 * docker's clients send every field, most of them zero. A field den does not take is refused
 * (400, naming it) only when it asks for something (not null, "", 0, false, [] or {}); fields
 * that dockerd itself ignores on create (the client's ContainerIDFile, AttachStd*, ArgsEscaped,
 * ConsoleSize) and fields docker's schema does not have are ignored, as dockerd's decoder does.
 */
import { invalidArgument } from '../common/errors.js';
import {
  parseAddHost,
  parseDnsServer,
  parseExpose,
  parseLabels,
  parseLogConfig,
  parseMacAddress,
  parseNetwork,
  parsePublish,
  parseRestartPolicy,
  parseSecurity,
  parseSignal,
  parseUserns,
  parseVolume,
  parseMount,
  parseTmpfs,
  parseDevice,
  resolveEnv,
  type ContainerLimits,
  type CreateSpec,
  type MountSpec,
  type HealthFlags,
  type PortRequest,
} from '../engine/index.js';

type Json = Record<string, unknown>;

/**
 * docker fields den does not implement yet, with the values that ask for nothing beyond the
 * zero ones.
 */
const REFUSED_CONFIG: Record<string, readonly unknown[]> = {
  Domainname: [],
  OnBuild: [],
};
const REFUSED_HOST_CONFIG: Record<string, readonly unknown[]> = {
  Links: [],
  DeviceRequests: [],
  DeviceCgroupRules: [],
  IpcMode: ['private', 'shareable'],
  PidMode: [],
  UTSMode: [],
  Cgroup: [],
  CgroupParent: [],
  CgroupnsMode: ['private'],
  Sysctls: [],
  StorageOpt: [],
  OomScoreAdj: [],
  OomKillDisable: [],
  BlkioWeight: [],
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: [],
  BlkioDeviceWriteBps: [],
  BlkioDeviceReadIOps: [],
  BlkioDeviceWriteIOps: [],
  CpuPeriod: [],
  CpuQuota: [],
  CpuRealtimePeriod: [],
  CpuRealtimeRuntime: [],
  CpusetMems: [],
  CpuCount: [],
  CpuPercent: [],
  IOMaximumIOps: [],
  IOMaximumBandwidth: [],
  KernelMemory: [],
  KernelMemoryTCP: [],
  MemorySwappiness: [-1],
  Init: [],
  MaskedPaths: [],
  ReadonlyPaths: [],
  VolumeDriver: [],
  Isolation: ['default'],
};

const isZero = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === 0 ||
  v === false ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

function refuseUnsupported(section: string, body: Json, refused: Record<string, readonly unknown[]>): void {
  for (const [key, allowed] of Object.entries(refused)) {
    const v = body[key];
    if (isZero(v) || allowed.includes(v)) continue;
    throw invalidArgument('DEN1404', `${section}.${key} ${JSON.stringify(v)}: den does not support it yet`, {
      hint: 'leave it out (docs/api.md lists what den takes)',
    });
  }
}

function field<T>(
  body: Json,
  key: string,
  type: 'string' | 'number' | 'boolean' | 'array' | 'object',
  section: string,
): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const ok =
    type === 'array'
      ? Array.isArray(v)
      : type === 'object'
        ? typeof v === 'object' && !Array.isArray(v)
        : typeof v === type;
  if (!ok) throw invalidArgument('DEN1404', `${section}.${key}: expected ${type === 'array' ? 'a list' : `a ${type}`}`);
  return v as T;
}

function strings(body: Json, key: string, section: string): string[] {
  const v = body[key];
  // docker's StrSlice: a list, or one string.
  if (typeof v === 'string') return [v];
  const list = field<unknown[]>(body, key, 'array', section) ?? [];
  if (list.some((e) => typeof e !== 'string'))
    throw invalidArgument('DEN1404', `${section}.${key}: expected a list of strings`);
  return list as string[];
}

function stringMap(body: Json, key: string, section: string): Record<string, string> {
  const map = field<Json>(body, key, 'object', section) ?? {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') throw invalidArgument('DEN1404', `${section}.${key}.${k}: expected a string`);
  }
  return map as Record<string, string>;
}

/** A port binding as `-p` writes it, so that parsePublish checks it as it checks the flag. */
function publishSpec(port: string, binding: Json): string {
  const ip = typeof binding.HostIp === 'string' ? binding.HostIp : '';
  const hostPort = typeof binding.HostPort === 'string' ? binding.HostPort : '';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  if (host) return `${host}:${hostPort}:${port}`;
  return hostPort ? `${hostPort}:${port}` : port;
}

function portRequests(hostConfig: Json): PortRequest[] {
  const bindings = field<Json>(hostConfig, 'PortBindings', 'object', 'HostConfig') ?? {};
  const out: PortRequest[] = [];
  for (const [port, list] of Object.entries(bindings)) {
    const entries = Array.isArray(list) && list.length > 0 ? (list as Json[]) : [{}];
    for (const b of entries) out.push(...parsePublish(publishSpec(port, b ?? {})));
  }
  return out;
}

/** Go's durations in the API are nanoseconds; den's health flags take Go's duration text. */
const nanos = (v: unknown): string | undefined =>
  typeof v === 'number' && v > 0 ? `${Math.round(v / 1e6)}ms` : undefined;

/** A POSIX shell word, for a CMD-form health test run through `sh -c` as --health-cmd is. */
const shellWord = (w: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

function healthOf(config: Json): HealthFlags | undefined {
  const hc = field<Json>(config, 'Healthcheck', 'object', 'Config');
  if (!hc) return undefined;
  const test = strings(hc, 'Test', 'Config.Healthcheck');
  const flags: HealthFlags = { none: test[0] === 'NONE' };
  if (test[0] === 'CMD-SHELL') flags.cmd = test.slice(1).join(' ');
  else if (test[0] === 'CMD') flags.cmd = test.slice(1).map(shellWord).join(' ');
  else if (test.length > 0 && test[0] !== 'NONE') {
    throw invalidArgument(
      'DEN1404',
      `Config.Healthcheck.Test ${JSON.stringify(test)}: expected NONE, CMD or CMD-SHELL first`,
    );
  }
  const interval = nanos(hc.Interval);
  const timeout = nanos(hc.Timeout);
  const startPeriod = nanos(hc.StartPeriod);
  if (interval) flags.interval = interval;
  if (timeout) flags.timeout = timeout;
  if (startPeriod) flags.startPeriod = startPeriod;
  if (typeof hc.Retries === 'number' && hc.Retries > 0) flags.retries = hc.Retries;
  return flags;
}

function limitsOf(hostConfig: Json): ContainerLimits | undefined {
  const n = (key: string) => {
    const v = field<number>(hostConfig, key, 'number', 'HostConfig');
    return v === undefined || v === 0 ? undefined : v;
  };
  const limits: ContainerLimits = {};
  const set = <K extends keyof ContainerLimits>(k: K, v: ContainerLimits[K] | undefined) => {
    if (v !== undefined) limits[k] = v;
  };
  set('memory', n('Memory'));
  set('memorySwap', n('MemorySwap'));
  set('memoryReservation', n('MemoryReservation'));
  set('nanoCpus', n('NanoCpus'));
  set('cpuShares', n('CpuShares'));
  const cpuset = field<string>(hostConfig, 'CpusetCpus', 'string', 'HostConfig');
  if (cpuset) limits.cpusetCpus = cpuset;
  const pids = n('PidsLimit');
  if (pids !== undefined && pids > 0) limits.pidsLimit = pids;
  const ulimits = field<Json[]>(hostConfig, 'Ulimits', 'array', 'HostConfig') ?? [];
  if (ulimits.length > 0) {
    limits.ulimits = ulimits
      .map((u) => ({ name: String(u.Name), soft: Number(u.Soft), hard: Number(u.Hard) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** The CreateSpec for a create request's body and its `name` query parameter. */
export function createSpecFromRequest(body: Json, name: string | undefined): CreateSpec {
  const config = body;
  const hostConfig = field<Json>(body, 'HostConfig', 'object', 'body') ?? {};
  const networking = field<Json>(body, 'NetworkingConfig', 'object', 'body') ?? {};
  refuseUnsupported('Config', config, REFUSED_CONFIG);
  refuseUnsupported('HostConfig', hostConfig, REFUSED_HOST_CONFIG);

  const image = field<string>(config, 'Image', 'string', 'Config');
  if (!image)
    throw invalidArgument('DEN1404', 'Config.Image: no image given', {
      hint: 'name the image to create the container from',
    });

  const entrypoint =
    config.Entrypoint === undefined || config.Entrypoint === null ? undefined : strings(config, 'Entrypoint', 'Config');
  const networkMode = field<string>(hostConfig, 'NetworkMode', 'string', 'HostConfig');
  const disabled = field<boolean>(config, 'NetworkDisabled', 'boolean', 'Config') === true;
  const endpoints = field<Json>(networking, 'EndpointsConfig', 'object', 'NetworkingConfig') ?? {};
  const aliases: string[] = [];
  for (const [net, endpoint] of Object.entries(endpoints)) {
    const e = (endpoint ?? {}) as Json;
    aliases.push(...strings(e, 'Aliases', `NetworkingConfig.EndpointsConfig.${net}`));
    const ipam = e.IPAMConfig as Json | null | undefined;
    if (ipam && (ipam.IPv4Address || ipam.IPv6Address)) {
      throw invalidArgument(
        'DEN1404',
        `NetworkingConfig.EndpointsConfig.${net}.IPAMConfig: den does not take a fixed address at create yet`,
        {
          hint: 'leave --ip out, or connect the container with den network connect --ip',
        },
      );
    }
  }
  const mac = field<string>(config, 'MacAddress', 'string', 'Config');
  const logConfig = field<Json>(hostConfig, 'LogConfig', 'object', 'HostConfig');
  const logType = logConfig && typeof logConfig.Type === 'string' && logConfig.Type !== '' ? logConfig.Type : undefined;
  const logOpts = Object.entries(logConfig ? stringMap(logConfig, 'Config', 'HostConfig.LogConfig') : {}).map(
    ([k, v]) => `${k}=${v}`,
  );
  const restart = field<Json>(hostConfig, 'RestartPolicy', 'object', 'HostConfig');
  const restartName = restart && typeof restart.Name === 'string' ? restart.Name : '';
  const retries = restart && typeof restart.MaximumRetryCount === 'number' ? restart.MaximumRetryCount : 0;
  const usernsMode = field<string>(hostConfig, 'UsernsMode', 'string', 'HostConfig');
  const stopSignal = field<string>(config, 'StopSignal', 'string', 'Config');
  const stopTimeout = field<number>(config, 'StopTimeout', 'number', 'Config');
  const health = healthOf(config);
  const limits = limitsOf(hostConfig);
  const labels = stringMap(config, 'Labels', 'Config');

  return {
    image,
    command: strings(config, 'Cmd', 'Config'),
    // docker's clients send [""] for `--entrypoint ""`: no entrypoint at all.
    ...(entrypoint !== undefined
      ? { entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint }
      : {}),
    // NAME without a value takes the caller's: the client resolved it, so one left here has none.
    env: resolveEnv(strings(config, 'Env', 'Config'), () => undefined),
    workdir: field<string>(config, 'WorkingDir', 'string', 'Config') || undefined,
    user: field<string>(config, 'User', 'string', 'Config') || undefined,
    name: name || undefined,
    hostname: field<string>(config, 'Hostname', 'string', 'Config') || undefined,
    readOnly: field<boolean>(hostConfig, 'ReadonlyRootfs', 'boolean', 'HostConfig') === true,
    ...mountRequests(config, hostConfig),
    network: parseNetwork(disabled ? 'none' : networkMode || undefined),
    networkSettings: {
      ports: portRequests(hostConfig),
      publishAll: field<boolean>(hostConfig, 'PublishAllPorts', 'boolean', 'HostConfig') === true,
      exposed: Object.keys(field<Json>(config, 'ExposedPorts', 'object', 'Config') ?? {}).flatMap(parseExpose),
      dns: strings(hostConfig, 'Dns', 'HostConfig').map(parseDnsServer),
      dnsSearch: strings(hostConfig, 'DnsSearch', 'HostConfig'),
      dnsOptions: strings(hostConfig, 'DnsOptions', 'HostConfig'),
      extraHosts: strings(hostConfig, 'ExtraHosts', 'HostConfig').map(parseAddHost),
      ...(mac ? { macAddress: parseMacAddress(mac) } : {}),
      aliases,
    },
    runtime: field<string>(hostConfig, 'Runtime', 'string', 'HostConfig') || undefined,
    userns: parseUserns(usernsMode || undefined, [], []),
    tty: field<boolean>(config, 'Tty', 'boolean', 'Config') === true,
    interactive: field<boolean>(config, 'OpenStdin', 'boolean', 'Config') === true,
    ...(field<boolean>(config, 'StdinOnce', 'boolean', 'Config') === true ? { stdinOnce: true } : {}),
    autoRemove: field<boolean>(hostConfig, 'AutoRemove', 'boolean', 'HostConfig') === true,
    labels: parseLabels(Object.entries(labels).map(([k, v]) => `${k}=${v}`)),
    ...(restartName && restartName !== 'no'
      ? { restartPolicy: parseRestartPolicy(retries > 0 ? `${restartName}:${retries}` : restartName) }
      : {}),
    ...(stopSignal ? { stopSignal: parseSignal(stopSignal, 'stop signal') } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(logType !== undefined || logOpts.length > 0 ? { log: parseLogConfig(logType, logOpts) } : {}),
    ...(health ? { health } : {}),
    ...(limits ? { limits } : {}),
    security: parseSecurity(
      {
        privileged: field<boolean>(hostConfig, 'Privileged', 'boolean', 'HostConfig') === true,
        capAdd: strings(hostConfig, 'CapAdd', 'HostConfig'),
        capDrop: strings(hostConfig, 'CapDrop', 'HostConfig'),
        securityOpt: strings(hostConfig, 'SecurityOpt', 'HostConfig'),
        groupAdd: strings(hostConfig, 'GroupAdd', 'HostConfig'),
      },
      // docker's clients send a seccomp profile's text, not its path (they read the file).
      (text) => text,
    ),
  };
}

/**
 * The mounts of a create: HostConfig.Binds (-v's text), Config.Volumes (the docker CLI sends
 * `-v /path` as an anonymous volume there), HostConfig.Mounts (--mount's objects), Tmpfs,
 * VolumesFrom, ShmSize and Devices, into the CreateSpec fields the CLI's flags fill.
 */
function mountRequests(
  config: Json,
  hostConfig: Json,
): Pick<CreateSpec, 'binds' | 'mounts' | 'volumesFrom' | 'shmSize' | 'devices'> {
  const binds = strings(hostConfig, 'Binds', 'HostConfig').map(parseVolume);
  for (const path of Object.keys(field<Json>(config, 'Volumes', 'object', 'Config') ?? {})) {
    if (!binds.some((b) => b.destination === path)) binds.push(parseVolume(path));
  }
  const mounts: MountSpec[] = [];
  const given = hostConfig.Mounts;
  if (given !== undefined && given !== null) {
    if (!Array.isArray(given)) throw invalidArgument('DEN1404', 'HostConfig.Mounts: expected an array');
    for (const m of given as Json[]) mounts.push(parseMount(mountText(m)));
  }
  const tmpfs = field<Json>(hostConfig, 'Tmpfs', 'object', 'HostConfig') ?? {};
  for (const [path, options] of Object.entries(tmpfs)) {
    mounts.push(parseTmpfs(typeof options === 'string' && options !== '' ? `${path}:${options}` : path));
  }
  const from = strings(hostConfig, 'VolumesFrom', 'HostConfig');
  const shm = field<number>(hostConfig, 'ShmSize', 'number', 'HostConfig');
  const devices = hostConfig.Devices;
  const deviceSpecs = Array.isArray(devices)
    ? (devices as Json[]).map((d) =>
        parseDevice(
          [d.PathOnHost, d.PathInContainer || d.PathOnHost, d.CgroupPermissions || 'rwm'].map(String).join(':'),
        ),
      )
    : [];
  return {
    binds,
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(from.length > 0 ? { volumesFrom: from } : {}),
    ...(shm ? { shmSize: shm } : {}),
    ...(deviceSpecs.length > 0 ? { devices: deviceSpecs } : {}),
  };
}

/** One of HostConfig.Mounts (docker's mount.Mount) as --mount's text, quoted for its CSV reader. */
function mountText(m: Json): string {
  const q = (v: unknown) => `"${String(v).replace(/"/g, '""')}"`;
  const parts = [`type=${q(m.Type ?? 'volume')}`];
  if (typeof m.Source === 'string' && m.Source !== '') parts.push(`source=${q(m.Source)}`);
  if (typeof m.Target === 'string') parts.push(`target=${q(m.Target)}`);
  if (m.ReadOnly === true) parts.push('readonly');
  const bind = (m.BindOptions ?? {}) as Json;
  if (typeof bind.Propagation === 'string' && bind.Propagation !== '')
    parts.push(`bind-propagation=${q(bind.Propagation)}`);
  const volume = (m.VolumeOptions ?? {}) as Json;
  if (volume.NoCopy === true) parts.push('volume-nocopy');
  const tmpfs = (m.TmpfsOptions ?? {}) as Json;
  if (typeof tmpfs.SizeBytes === 'number' && tmpfs.SizeBytes > 0) parts.push(`tmpfs-size=${tmpfs.SizeBytes}`);
  if (typeof tmpfs.Mode === 'number' && tmpfs.Mode > 0) parts.push(`tmpfs-mode=${tmpfs.Mode.toString(8)}`);
  return parts.join(',');
}
