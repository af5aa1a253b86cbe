import { existsSync, readFileSync } from 'node:fs';
import {
  isActive,
  mountsOf,
  type ContainerRecord,
  type HealthConfig,
  type HealthState,
  type MountSpec,
} from '../../containers/index.js';
import { connectsNamespace, portKey, recordedNetworkMode } from '../../network/index.js';
import type { Digest } from '../../content/index.js';
import { MASKED_PATHS, READONLY_PATHS } from '../../runtime/index.js';
import type { EngineContext } from '../context.js';
import { isRunning } from './container-state.js';
import { networkFiles, networkOf, publishedPorts, userNetworkAttachments } from './container-network.js';

/**
 * A container as docker's Engine API (version 1.41, GET /containers/{id}/json) describes it, with
 * docker's field names and types. Fields den has no notion of carry docker's value for "not set"
 * (an empty string, 0, false, null), so clients that read them find the type they expect. The CLI's
 * `inspect` prints it; the API server will serve the same object.
 */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: GraphDriverData;
  Mounts: MountPoint[];
  Config: ContainerConfigJson;
  NetworkSettings: NetworkSettings;
}

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  /** The container's init process on the host while it runs; 0 otherwise. */
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present once a container with a health check has started, as docker has it. */
  Health?: HealthJson;
}

/** docker's State.Health. */
export interface HealthJson {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

/**
 * docker's container.HealthConfig: durations in nanoseconds; fields at their zero are left out
 * (docker's omitempty), so `--no-healthcheck` reads {"Test": ["NONE"]}.
 */
export interface HealthConfigJson {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface GraphDriverData {
  Name: string;
  Data: Record<string, string>;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volumes: the volume's name. */
  Name?: string;
  Source: string;
  Destination: string;
  /** Volumes: local. */
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/**
 * Docker's container.Config: what a container was created with, and (ImageInspect's Config) the
 * defaults an image gives the containers made from it. One type for both, as in docker.
 */
export interface ContainerConfigJson {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  /** Where docker has it, after Cmd. */
  Healthcheck?: HealthConfigJson;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Runtime: string;
  ConsoleSize: [number, number];
  Isolation: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  BlkioWeightDevice: object[];
  BlkioDeviceReadBps: object[];
  BlkioDeviceWriteBps: object[];
  BlkioDeviceReadIOps: object[];
  BlkioDeviceWriteIOps: object[];
  CpuPeriod: number;
  CpuQuota: number;
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: object[];
  DeviceCgroupRules: string[] | null;
  DeviceRequests: object[] | null;
  KernelMemory: number;
  KernelMemoryTCP: number;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
  PidsLimit: number | null;
  Ulimits: { Name: string; Hard: number; Soft: number }[] | null;
  CpuCount: number;
  CpuPercent: number;
  IOMaximumIOps: number;
  IOMaximumBandwidth: number;
  MaskedPaths: string[];
  ReadonlyPaths: string[];
  /** den's own: the id maps of a container with a user namespace of its own (podman's name). */
  IDMappings: { UidMap: string[]; GidMap: string[] } | null;
}

export interface EndpointSettings {
  IPAMConfig: object | null;
  Links: string[] | null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
}

export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  SandboxKey: string;
  SecondaryIPAddresses: object[] | null;
  SecondaryIPv6Addresses: object[] | null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** Docker's zero time: what it reports for a time that has not happened. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The container's init pid, which the runtime wrote when it started it. Only while den's monitor
 * says the container runs: a pid file left by an earlier run names a process that is gone, or
 * someone else's.
 */
export function containerInitPid(ctx: EngineContext, c: ContainerRecord): number {
  if (!isRunning(c)) return 0;
  try {
    const pid = Number(readFileSync(ctx.layout.bundle(c.id).pid, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0; // the runtime has not written it yet
  }
}

/**
 * Docker's inspect of a container, from den's record (reconcile it first, so a container whose
 * monitor died does not read as running). Records made before den kept the entrypoint apart show
 * their whole command line as the Cmd and no Entrypoint.
 */
export function inspectContainer(ctx: EngineContext, c: ContainerRecord): ContainerInspect {
  const b = ctx.layout.bundle(c.id);
  const image = ctx.images.byId(c.imageId as Digest);
  const imageConfig = image?.config.config ?? {};
  const pid = containerInitPid(ctx, c);
  const kept = c.config.cmd !== undefined || c.config.entrypoint !== undefined;
  const entrypoint = kept ? (c.config.entrypoint ?? null) : null;
  const cmd = kept ? (c.config.cmd ?? null) : c.config.args;
  const network = c.config.network;
  const net = c.config.networking;
  const exposed = net ? Object.fromEntries(net.exposed.map((k) => [k, {}])) : imageConfig.ExposedPorts;
  const limits = c.config.limits ?? {};
  const mounts = mountsOf(c.config);
  const inspect: ContainerInspect = {
    Id: c.id,
    Created: c.createdAt,
    Path: c.config.args[0] ?? '',
    Args: c.config.args.slice(1),
    State: {
      Status: c.status,
      // docker's Running is true while paused too: the process is there, frozen.
      Running: c.status === 'running' || c.status === 'paused',
      Paused: c.status === 'paused',
      Restarting: c.status === 'restarting',
      OOMKilled: c.status === 'exited' && existsSync(b.oom),
      Dead: false,
      Pid: pid,
      // A record without a status is one whose monitor died before den recorded LOST_EXIT_CODE:
      // -1, as `den ps` shows it.
      ExitCode: c.status === 'exited' || c.status === 'restarting' ? (c.exitCode ?? -1) : 0,
      Error: '',
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
      ...(c.health ? { Health: healthJson(c.health) } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: b.resolvConf,
    HostnamePath: b.hostname,
    HostsPath: b.hosts,
    // A detached container's log, once it has one (as docker's, empty before the first start); one
    // run attached has none (its output went to the terminal).
    LogPath: c.config.log?.driver !== 'none' && existsSync(b.log) ? b.log : '',
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: nonEmpty(mounts.filter((m) => m.origin === 'v' && !(m.type === 'volume' && m.anonymous)).map(bindString)),
      ContainerIDFile: '',
      LogConfig: { Type: c.config.log?.driver ?? 'k8s-file', Config: c.config.log?.opts ?? {} },
      NetworkMode: network,
      PortBindings: portBindings(c),
      RestartPolicy: {
        Name: c.config.restartPolicy?.name ?? 'no',
        MaximumRetryCount: c.config.restartPolicy?.maximumRetryCount ?? 0,
      },
      AutoRemove: c.config.autoRemove,
      VolumeDriver: '',
      VolumesFrom: nonEmpty(c.config.volumesFrom),
      ...hostConfigMounts(mounts),
      CapAdd: nonEmpty(c.config.security?.capAdd),
      CapDrop: nonEmpty(c.config.security?.capDrop),
      CgroupnsMode: 'private',
      Dns: net?.dns ?? [],
      DnsOptions: net?.dnsOptions ?? [],
      DnsSearch: net?.dnsSearch ?? [],
      ExtraHosts: net?.extraHosts.length ? net.extraHosts.map((h) => `${h.name}:${h.address}`) : null,
      GroupAdd: nonEmpty(c.config.security?.groupAdd),
      IpcMode: 'private',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: c.config.security?.privileged ?? false,
      PublishAllPorts: net?.publishAll ?? false,
      ReadonlyRootfs: c.config.readOnly,
      SecurityOpt: nonEmpty(c.config.security?.securityOpt),
      UTSMode: '',
      UsernsMode: c.config.usernsMode === 'explicit' ? '' : c.config.usernsMode,
      ShmSize: c.config.shmSize ?? 64 * 1024 * 1024,
      Runtime: c.config.runtime,
      ConsoleSize: [0, 0],
      Isolation: '',
      CpuShares: limits.cpuShares ?? 0,
      Memory: limits.memory ?? 0,
      NanoCpus: limits.nanoCpus ?? 0,
      CgroupParent: '',
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: limits.cpusetCpus ?? '',
      CpusetMems: '',
      Devices: (c.config.devices ?? []).map((d) => ({
        PathOnHost: d.host,
        PathInContainer: d.container,
        CgroupPermissions: d.permissions,
      })),
      DeviceCgroupRules: null,
      DeviceRequests: null,
      KernelMemory: 0,
      KernelMemoryTCP: 0,
      MemoryReservation: limits.memoryReservation ?? 0,
      MemorySwap: limits.memorySwap ?? 0,
      MemorySwappiness: null,
      OomKillDisable: false,
      PidsLimit: limits.pidsLimit ?? null,
      // docker's Ulimit: Name, Hard, Soft, in that order.
      Ulimits: limits.ulimits?.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })) ?? null,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyPaths: [...READONLY_PATHS],
      IDMappings: c.config.idMap
        ? {
            UidMap: c.config.idMap.uid.map((e) => `${e.containerID}:${e.hostID}:${e.size}`),
            GidMap: c.config.idMap.gid.map((e) => `${e.containerID}:${e.hostID}:${e.size}`),
          }
        : null,
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: c.config.layers
          .map((l) => ctx.layout.layerDir(l))
          .reverse()
          .join(':'),
        UpperDir: b.upper,
        WorkDir: b.work,
        MergedDir: b.rootfs,
      },
    },
    Mounts: mounts.filter((m) => m.origin !== 'tmpfs').map((m) => mountPoint(ctx, m)),
    Config: {
      Hostname: c.config.hostname,
      Domainname: '',
      User: c.config.user,
      // den run attaches stdout and stderr (there is no -d); stdin with -i.
      AttachStdin: c.config.interactive,
      AttachStdout: true,
      AttachStderr: true,
      ...(exposed && Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
      Tty: c.config.tty,
      OpenStdin: c.config.interactive,
      StdinOnce: c.config.interactive,
      Env: c.config.env,
      Cmd: cmd,
      ...(c.config.healthcheck ? { Healthcheck: healthConfigJson(c.config.healthcheck) } : {}),
      Image: c.imageName,
      Volumes: configVolumes(imageConfig.Volumes, mounts),
      WorkingDir: c.config.cwd,
      Entrypoint: entrypoint,
      OnBuild: null,
      Labels: c.config.labels ?? imageConfig.Labels ?? {},
      ...(c.config.stopSignal ? { StopSignal: c.config.stopSignal } : {}),
      ...(c.config.stopTimeout !== undefined ? { StopTimeout: c.config.stopTimeout } : {}),
    },
    NetworkSettings: networkSettings(ctx, c, pid),
  };
  // docker's State.Health is a pointer left out of its JSON when nil: a template still finds the
  // field ({{.State.Health}} prints <nil>, {{json .State.Health}} null), JSON output does not show it.
  if (!c.health) Object.defineProperty(inspect.State, 'Health', { value: null, enumerable: false });
  return inspect;
}

function healthJson(h: HealthState): HealthJson {
  return {
    Status: h.status,
    FailingStreak: h.failingStreak,
    Log: h.log.map((p) => ({ Start: p.start, End: p.end, ExitCode: p.exitCode, Output: p.output })),
  };
}

/** The check as the container was created with it: zeros stay zeros (docker's defaults apply when it runs). */
function healthConfigJson(h: HealthConfig): HealthConfigJson {
  return {
    ...(h.test.length > 0 ? { Test: h.test } : {}),
    ...(h.interval ? { Interval: h.interval } : {}),
    ...(h.timeout ? { Timeout: h.timeout } : {}),
    ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

/** docker's HostConfig.PortBindings: -p as asked, an empty HostPort for "any free port". */
function portBindings(c: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[]> {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.config.networking?.ports ?? []) {
    const hostPort = !p.hostPorts
      ? ''
      : p.hostPorts[0] === p.hostPorts[1]
        ? `${p.hostPorts[0]}`
        : `${p.hostPorts[0]}-${p.hostPorts[1]}`;
    (bindings[portKey(p)] ??= []).push({ HostIp: p.hostIp, HostPort: hostPort });
  }
  return bindings;
}

/**
 * docker's NetworkSettings: the ports a running container's start took (exposed ones without a
 * host port are null, as docker shows them), its address on a user-mode network (every such
 * container is 10.0.2.100 behind its own helper), and the namespace file while it runs.
 */
function networkSettings(ctx: EngineContext, c: ContainerRecord, pid: number): NetworkSettings {
  const network = c.config.network;
  const running = isActive(c.status);
  const address = running ? networkOf(ctx, c).address : undefined;
  const mode = recordedNetworkMode(network);
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  if (running) {
    for (const key of c.config.networking?.exposed ?? []) ports[key] = null;
    for (const p of publishedPorts(ctx, c)) {
      const list = (ports[portKey(p)] ??= []);
      if (p.hostIp) list.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
      else
        list.push({ HostIp: '0.0.0.0', HostPort: String(p.hostPort) }, { HostIp: '::', HostPort: String(p.hostPort) });
    }
  }
  const sandbox = !running
    ? ''
    : connectsNamespace(mode)
      ? networkFiles(ctx, c).netnsFile
      : mode.kind === 'none' && pid > 0
        ? `/proc/${pid}/ns/net`
        : '';
  // On a user network the address is the network store's, as the last start's connect gave it.
  const attached = mode.kind === 'network' ? userNetworkAttachments(ctx, c)[0] : undefined;
  const mac = attached?.mac ?? c.config.networking?.macAddress ?? '';
  const ip = attached?.ip ?? address?.ip ?? '';
  const prefix = attached?.prefixLength ?? address?.prefix ?? 0;
  const gateway = attached?.gateway ?? address?.gateway ?? '';
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: ports,
    SandboxKey: sandbox,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: gateway,
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: ip,
    IPPrefixLen: prefix,
    IPv6Gateway: '',
    MacAddress: mac,
    Networks: {
      [mode.kind === 'pasta' || mode.kind === 'slirp4netns' ? mode.kind : network]: {
        IPAMConfig: null,
        Links: null,
        Aliases: c.config.networking?.aliases.length ? c.config.networking.aliases : null,
        NetworkID: attached?.networkId ?? '',
        EndpointID: '',
        Gateway: gateway,
        IPAddress: ip,
        IPPrefixLen: prefix,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: mac,
        DriverOpts: null,
      },
    },
  };
}

/** docker's JSON for an empty list in HostConfig: null. */
function nonEmpty(list: readonly string[] | undefined): string[] | null {
  return list && list.length > 0 ? [...list] : null;
}

/** A mount as -v would have written it (docker's HostConfig.Binds). */
function bindString(m: MountSpec): string {
  if (m.type === 'tmpfs') return m.destination;
  const opts = [
    ...(m.readOnly ? ['ro'] : []),
    ...(m.chown ? ['U'] : []),
    ...(m.idmap ? ['idmap'] : []),
    ...(m.type === 'volume' && m.noCopy ? ['nocopy'] : []),
    ...(m.type === 'bind' && m.propagation ? [m.propagation] : []),
  ];
  const source = m.type === 'bind' ? m.source : m.name;
  return `${source}:${m.destination}${opts.length ? `:${opts.join(',')}` : ''}`;
}

/** HostConfig.Mounts (--mount) and HostConfig.Tmpfs (--tmpfs), present only when given, as docker's. */
function hostConfigMounts(mounts: readonly MountSpec[]): Record<string, unknown> {
  const given = mounts.filter((m) => m.origin === 'mount');
  const tmpfs = mounts.filter((m): m is MountSpec & { type: 'tmpfs' } => m.origin === 'tmpfs' && m.type === 'tmpfs');
  return {
    ...(given.length
      ? {
          Mounts: given.map((m) => ({
            Type: m.type,
            ...(m.type === 'bind'
              ? { Source: m.source }
              : m.type === 'volume' && !m.anonymous
                ? { Source: m.name }
                : {}),
            Target: m.destination,
            ...(m.readOnly ? { ReadOnly: true } : {}),
            ...(m.type === 'bind' && m.propagation ? { BindOptions: { Propagation: m.propagation } } : {}),
            ...(m.type === 'volume' && m.noCopy ? { VolumeOptions: { NoCopy: true } } : {}),
            ...(m.type === 'tmpfs' && (m.size !== undefined || m.mode !== undefined)
              ? {
                  TmpfsOptions: {
                    ...(m.size !== undefined ? { SizeBytes: m.size } : {}),
                    ...(m.mode !== undefined ? { Mode: m.mode } : {}),
                  },
                }
              : {}),
          })),
        }
      : {}),
    ...(tmpfs.length
      ? {
          Tmpfs: Object.fromEntries(
            tmpfs.map((m) => [
              m.destination,
              [
                ...m.options,
                ...(m.readOnly ? ['ro'] : []),
                ...(m.size !== undefined ? [`size=${m.size}`] : []),
                ...(m.mode !== undefined ? [`mode=${m.mode.toString(8)}`] : []),
              ].join(','),
            ]),
          ),
        }
      : {}),
  };
}

/** One of inspect's Mounts, as docker describes a mount point. */
function mountPoint(ctx: EngineContext, m: MountSpec): MountPoint {
  const mode =
    m.type === 'tmpfs'
      ? ''
      : [m.readOnly ? 'ro' : '', m.chown ? 'U' : '', m.idmap ? 'idmap' : ''].filter(Boolean).join(',');
  if (m.type === 'volume') {
    return {
      Type: 'volume',
      Name: m.name,
      Source: ctx.layout.volumeData(m.name),
      Destination: m.destination,
      Driver: 'local',
      Mode: mode,
      RW: !m.readOnly,
      Propagation: '',
    };
  }
  if (m.type === 'tmpfs')
    return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: !m.readOnly, Propagation: '' };
  return {
    Type: 'bind',
    Source: m.source,
    Destination: m.destination,
    Mode: mode,
    RW: !m.readOnly,
    Propagation: m.propagation ?? 'rprivate',
  };
}

/** Config.Volumes: the image's VOLUMEs and the container's anonymous volumes, as docker lists them. */
function configVolumes(
  image: Record<string, object> | undefined,
  mounts: readonly MountSpec[],
): Record<string, object> | null {
  const volumes: Record<string, object> = { ...(image ?? {}) };
  for (const m of mounts)
    if (m.type === 'volume' && m.anonymous && m.origin !== 'volumes-from') volumes[m.destination] = {};
  return Object.keys(volumes).length ? volumes : null;
}
