import type { OciIdMaps } from '../idmap/index.js';
import type { PortRequest } from '../network/index.js';
import type { ContainerStatus } from './lifecycle.js';

/** A bind mount as records made before volumes kept it (`binds`); newer records keep `mounts`. */
export interface BindSpec {
  source: string;
  destination: string;
  readOnly: boolean;
}

/** docker's bind propagation modes (--mount bind-propagation=, -v's options). */
export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/**
 * One mount of a container, as -v, --mount, --tmpfs, --volumes-from and the image's VOLUME ask for
 * it (docs/volumes.md). `origin` says which, for inspect's HostConfig (Binds, Mounts, Tmpfs).
 *
 *   bind    a host path; `idmap` true or false as asked (:idmap), absent: den's default
 *           (as root, for a container with a range of its own: idmapped, files keep their owners)
 *   volume  a named volume (den volume), or an anonymous one (a name of 64 hex digits) that goes
 *           with the container when it is removed with -v or --rm
 *   tmpfs   a memory file system, the container's own
 */
export type MountSpec =
  | {
      type: 'bind';
      source: string;
      destination: string;
      readOnly: boolean;
      propagation?: Propagation;
      /** :idmap (true), idmap=false; absent: den's default. */
      idmap?: boolean;
      /** :U: the source is given to the container's ids (chowned) before it starts. */
      chown?: boolean;
      origin: MountOrigin;
    }
  | {
      type: 'volume';
      name: string;
      destination: string;
      readOnly: boolean;
      /** volume-nocopy / :nocopy: an empty volume is not filled from the image. */
      noCopy?: boolean;
      chown?: boolean;
      idmap?: boolean;
      /** Made for this container (the image's VOLUME, -v /path): removed with it by rm -v and --rm. */
      anonymous?: boolean;
      origin: MountOrigin;
    }
  | {
      type: 'tmpfs';
      destination: string;
      readOnly: boolean;
      /** Bytes; absent: the kernel's default (half of memory). */
      size?: number;
      /** Octal permission bits of its root; absent: 1777. */
      mode?: number;
      /** More mount options (--tmpfs's: exec, noexec, nosuid, ...). */
      options: string[];
      origin: MountOrigin;
    };

/** Where a mount came from: -v (HostConfig.Binds), --mount, --tmpfs, the image's VOLUME, --volumes-from. */
export type MountOrigin = 'v' | 'mount' | 'tmpfs' | 'image' | 'volumes-from';

/** A host device given to the container (--device HOST[:CONTAINER[:PERMISSIONS]]). */
export interface DeviceSpec {
  host: string;
  container: string;
  /** Any of r, w, m. */
  permissions: string;
}

/** A container's mounts, whatever den made the record: older ones kept only bind mounts. */
export function mountsOf(config: Pick<ContainerConfig, 'mounts' | 'binds'>): MountSpec[] {
  return config.mounts ?? (config.binds ?? []).map((b) => ({ type: 'bind' as const, ...b, origin: 'v' as const }));
}

/**
 * Resource limits as docker's HostConfig keeps them (bytes, billionths of a CPU, docker's --ulimit
 * entries); a field that is absent sets no limit.
 */
export interface ContainerLimits {
  /** --memory, bytes. */
  memory?: number;
  /** --memory-swap: memory plus swap, bytes; -1 unlimited swap. */
  memorySwap?: number;
  /** --memory-reservation: the soft limit, bytes. */
  memoryReservation?: number;
  /** --cpus, in billionths of a CPU (docker's NanoCpus). */
  nanoCpus?: number;
  /** --cpu-shares: the relative weight. */
  cpuShares?: number;
  /** --cpuset-cpus: the CPUs it may run on, in the kernel's list form (0-3,6). */
  cpusetCpus?: string;
  /** --pids-limit, above 0. */
  pidsLimit?: number;
  /** --ulimit, one per name, sorted by name; -1 unlimited. */
  ulimits?: Ulimit[];
}

/** One --ulimit, as docker's HostConfig.Ulimits holds it. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** The id maps of a container with a user namespace of its own (OCI linux.uidMappings form). */
export type ContainerIdMap = OciIdMaps;

/** Everything den needs to (re)start a container, resolved at create time and stored with it. */
export interface ContainerConfig {
  /** What the runtime executes: the entrypoint, then the command. */
  args: string[];
  /**
   * The entrypoint and command `args` was made of, as docker's Config.Entrypoint and Config.Cmd
   * (null: none). Records made before den kept them have neither: their args stand as the Cmd.
   */
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  env: string[];
  cwd: string;
  /** What -u asked for (or the image's User; empty when neither names one), kept for inspect. */
  user: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  tty: boolean;
  interactive: boolean;
  /**
   * docker's StdinOnce (`docker run -i` attached): the end of the first attached client's input
   * closes the container's stdin, as the end of a pipe into `den run -i` does.
   */
  stdinOnce?: boolean;
  readOnly: boolean;
  /** Records made before volumes: their bind mounts (mountsOf reads either). */
  binds?: BindSpec[];
  /** Every mount (-v, --mount, --tmpfs, --volumes-from, the image's VOLUME), in docker's order. */
  mounts?: MountSpec[];
  /** --volumes-from as given, for inspect. */
  volumesFrom?: string[];
  /** --shm-size, bytes; absent: docker's 64 MiB. */
  shmSize?: number;
  /** --device. */
  devices?: DeviceSpec[];
  /**
   * docker's HostConfig.NetworkMode, resolved at create: none, host, pasta[:...], slirp4netns[:...],
   * container:ID or a network's name (network/network-mode.ts reads it).
   */
  network: string;
  /** Published ports and name resolution; absent in records made before networking landed. */
  networking?: ContainerNetworking;
  runtime: string;
  autoRemove: boolean;
  /** Chain ids (hex) of the image's layers, bottom first: the overlay's lower directories. */
  layers: string[];
  /** --userns as resolved: host (the session's or one-to-one maps), auto, or explicit. */
  usernsMode: 'host' | 'auto' | 'explicit' | 'keep-id';
  /** The container's own maps; absent when it shares the rootless session's user namespace. */
  idMap?: ContainerIdMap;
  /**
   * Rootless, with maps that shift ids: how the image is shown shifted (engine/shifted-layers).
   * Records made before there was a choice have none, and mean fuse.
   */
  shiftMethod?: 'fuse' | 'copy' | 'helper';
  /** With shiftMethod copy: the name of the mapping's copies under shifted/. */
  shiftKey?: string;
  /** --label, over the image's labels. */
  labels?: Record<string, string>;
  /** --restart; absent: no. */
  restartPolicy?: RestartPolicy;
  /** The signal `den stop` sends first: --stop-signal, else the image's STOPSIGNAL, else SIGTERM. */
  stopSignal?: string;
  /** Seconds `den stop` waits before SIGKILL: --stop-timeout (docker's default 10). */
  stopTimeout?: number;
  /** Where a detached container's output goes (--log-driver, --log-opt). */
  log?: LogConfig;
  /** --health-* over the image's HEALTHCHECK; absent or test ['NONE']: none. */
  healthcheck?: HealthConfig;
  /** Resource limits (--memory, --cpus, --ulimit ...); absent: none. */
  limits?: ContainerLimits;
  /**
   * The container's cgroup, as the runtime is given it (linux.cgroupsPath) and as /proc/PID/cgroup
   * names it: `/den/<id>` as root, `<delegated parent>/<id>` rootless with limits. Absent: none den
   * chose (rootless without limits, where the runtime makes none; records made before den chose one).
   */
  cgroupsPath?: string;
  /** --privileged, --cap-add, --cap-drop, --security-opt, --group-add; absent in records made before them: the defaults. */
  security?: SecurityConfig;
}

/** A container's confinement as resolved at create (docker's HostConfig keeps the flags as given). */
export interface SecurityConfig {
  privileged: boolean;
  /** The flags as given, for inspect's HostConfig.CapAdd, CapDrop, SecurityOpt and GroupAdd. */
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  groupAdd: string[];
  /** What the container's root may do: docker's default set with --cap-add and --cap-drop applied. */
  capabilities: string[];
  noNewPrivileges: boolean;
  /** default: the distribution's profile; unconfined: none; text: a profile read at create (seccomp=FILE). */
  seccomp: 'default' | 'unconfined' | { text: string };
  /** Where the host has AppArmor: the profile asked for (apparmor=NAME). */
  apparmorProfile?: string;
  /** --group-add keep-groups: the caller's supplementary groups stay (crun). */
  keepGroups: boolean;
}

/** What a container asked of its network at create, as docker's Config and HostConfig keep it. */
export interface ContainerNetworking {
  /** -p, as asked: a port may still be any free one, chosen at each start. */
  ports: PortRequest[];
  /** The image's EXPOSE and --expose, docker's "80/tcp" keys. */
  exposed: string[];
  /** -P: every exposed port to a free host port. */
  publishAll: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** --add-host NAME:ADDRESS; the address host-gateway is the host. */
  extraHosts: { name: string; address: string }[];
  macAddress?: string;
  /** --network-alias: more names on user networks. */
  aliases: string[];
}

/** docker's HostConfig.RestartPolicy. */
export interface RestartPolicy {
  name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** on-failure:N; 0 means without limit. */
  maximumRetryCount: number;
}

export interface LogConfig {
  /** k8s-file is what den writes; json-file is accepted as its docker name and written the same way. */
  driver: 'k8s-file' | 'json-file' | 'none';
  /** max-size in bytes; 0: unbounded. */
  maxSize: number;
  /** docker's --log-opt as given, for inspect. */
  opts: Record<string, string>;
}

/** docker's HealthConfig, durations in nanoseconds as docker keeps them. */
export interface HealthConfig {
  /** ['CMD', ...argv], ['CMD-SHELL', command] or ['NONE']. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  retries: number;
}

/** docker's State.Health. */
export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  log: HealthProbe[];
}

export interface HealthProbe {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

/** Who watches a running container: the den that runs it attached, or conmon for a detached one. */
export type MonitorKind = 'attached' | 'conmon';

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  imageName: string;
  config: ContainerConfig;
  status: ContainerStatus;
  /**
   * The den process watching the container while it runs (its monitor), not the container's init:
   * den knows the container is still running while this process lives.
   */
  pid: number | null;
  pidStart: string | null;
  /** What kind of process `pid` is. */
  monitor: MonitorKind | null;
  /** The container's init (docker's State.Pid), while it runs. */
  initPid: number | null;
  exitCode: number | null;
  /** How often its restart policy started it again. */
  restartCount: number;
  /** Stopped by den stop or kill: restart policies leave it stopped. */
  stopRequested: boolean;
  health: HealthState | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Docker's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
export function describeStatus(c: ContainerRecord, now = Date.now()): string {
  switch (c.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(c.startedAt ?? c.createdAt))}${healthSuffix(c)}`;
    case 'exited':
      return `Exited (${c.exitCode ?? -1}) ${humanDuration(now - Date.parse(c.finishedAt ?? c.createdAt))} ago`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(c.startedAt ?? c.createdAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${c.exitCode ?? -1}) ${humanDuration(now - Date.parse(c.finishedAt ?? c.createdAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
  }
}

/** docker's health note after "Up ...": " (healthy)", " (unhealthy)", " (health: starting)". */
function healthSuffix(c: ContainerRecord): string {
  if (!c.health) return '';
  return c.health.status === 'starting' ? ' (health: starting)' : ` (${c.health.status})`;
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const d = Math.round(h / 24);
  if (d < 14) return `${d} days`;
  return `${Math.round(d / 7)} weeks`;
}
