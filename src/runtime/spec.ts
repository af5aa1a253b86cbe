import type { OciIdMapping } from '../idmap/index.js';
import type { OciRlimit } from './rlimits.js';
import { resolveSeccomp, type OciSeccomp, loadSeccompProfile } from './seccomp.js';

/** Docker's default capability set: what a container's root may do, and nothing more. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Paths Docker hides from containers (kernel internals, host hardware) or makes read-only. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** One extent of linux.uidMappings / gidMappings (idmap's OciIdMapping, declared once there). */
export type IdMapping = OciIdMapping;

export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/**
 * `linux.resources` as den asks for it (the OCI names and units: bytes, CFS microseconds). Memory
 * `swap` is memory plus swap, as docker's --memory-swap; the runtime translates for cgroup v2.
 */
export interface OciResources {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string };
  pids?: { limit: number };
}

/** Everything the OCI config of one container is made from. */
export interface SpecInput {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  hostname: string;
  rootfs: string;
  readOnlyRootfs: boolean;
  /**
   * 'new': a network namespace the runtime makes (loopback only); 'host': the caller's; a path: one
   * den made and connected (user-mode networks) or another container's, which the runtime joins.
   */
  networkNamespace: 'new' | 'host' | { path: string };
  /** Files den prepared for /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  binds: BindMount[];
  /** A user namespace of the container's own with these maps; absent: stay in the caller's (the rootless session's). */
  userns?: { uidMappings: IdMapping[]; gidMappings: IdMapping[] };
  /** True when den runs inside a rootless session: sysfs can't be mounted fresh with the host network. */
  rootless: boolean;
  seccompProfile?: string;
  annotations?: Record<string, string>;
  /** The container's cgroup (linux.cgroupsPath); absent: the runtime's choice, and no limits. */
  cgroupsPath?: string;
  /** Limits enforced by the container's cgroup; needs `cgroupsPath`. */
  resources?: OciResources;
  /** Limits set with setrlimit; absent ones are inherited from the runtime (den's own). */
  rlimits?: OciRlimit[];
  /** Programs the runtime runs in its own namespaces after the container is gone, before it returns. */
  poststop?: OciHook[];
}

/** An OCI hook: `path` absolute, `args` with argv[0], `env` the whole environment it gets. */
export interface OciHook {
  path: string;
  args: string[];
  env: string[];
}

/** Builds the OCI runtime config (config.json) for a container, with Docker's security defaults. */
export function buildOciSpec(input: SpecInput): Record<string, unknown> {
  const caps = [...DEFAULT_CAPABILITIES];
  const namespaces: { type: string; path?: string }[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  const net = input.networkNamespace;
  if (net === 'new') namespaces.push({ type: 'network' });
  else if (net !== 'host') namespaces.push({ type: 'network', path: net.path });
  namespaces.push({ type: 'cgroup' });
  if (input.userns) namespaces.push({ type: 'user' });

  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    // A fresh sysfs needs the network namespace to belong to the container's user namespace; with
    // the host's network, or a namespace made outside (owned by the session's or the host's user
    // namespace), a rootless container or one with a user namespace of its own gets a read-only
    // bind of the host's /sys instead.
    net !== 'new' && (input.rootless || input.userns)
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
    etcBind('/etc/hostname', input.etcFiles.hostname),
    etcBind('/etc/hosts', input.etcFiles.hosts),
    etcBind('/etc/resolv.conf', input.etcFiles.resolvConf),
    ...input.binds.map((b) => ({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', b.readOnly ? 'ro' : 'rw', 'rprivate'],
    })),
  ];

  const process: Record<string, unknown> = {
    terminal: input.terminal,
    user: { uid: input.uid, gid: input.gid, additionalGids: input.additionalGids },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: processCapabilities(caps, input.uid),
    noNewPrivileges: true,
  };
  // Only those asked for (--ulimit): the rest are inherited from den, so the container never asks
  // for more than the caller has (raising a hard limit needs CAP_SYS_RESOURCE).
  if (input.rlimits?.length) process.rlimits = input.rlimits;
  if (input.terminal && input.consoleSize) process.consoleSize = input.consoleSize;

  const linux: Record<string, unknown> = {
    namespaces,
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
  };
  if (input.userns) {
    linux.uidMappings = input.userns.uidMappings;
    linux.gidMappings = input.userns.gidMappings;
  }
  const seccomp = seccompFor(input.seccompProfile, caps);
  if (seccomp) linux.seccomp = seccomp;
  if (input.cgroupsPath !== undefined) linux.cgroupsPath = input.cgroupsPath;
  if (input.resources && Object.keys(input.resources).length > 0) linux.resources = input.resources;

  const spec: Record<string, unknown> = {
    ociVersion: '1.0.2',
    process,
    root: { path: input.rootfs, readonly: input.readOnlyRootfs },
    hostname: input.hostname,
    mounts,
    linux,
  };
  if (input.annotations) spec.annotations = input.annotations;
  if (input.poststop?.length) spec.hooks = { poststop: input.poststop };
  return spec;
}

/**
 * config.json's text. rlimits are unsigned 64-bit numbers (RLIM_INFINITY is 2^64-1), which a
 * JavaScript number cannot hold: they are bigints in the spec and written as plain JSON numbers.
 */
export function ociConfigJson(spec: Record<string, unknown>, space?: number): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v), space);
  return text.replace(/"\\u0000bigint:([0-9]+)"/g, '$1');
}

/** A process's capability sets: root's are `caps`; a non-root process starts with none, as after exec by a normal user. */
export function processCapabilities(caps: readonly string[], uid: number): Record<string, string[]> {
  const isRoot = uid === 0;
  return { bounding: [...caps], effective: isRoot ? [...caps] : [], permitted: isRoot ? [...caps] : [] };
}

function etcBind(destination: string, source: string): Record<string, unknown> {
  return { destination, type: 'bind', source, options: ['bind', 'rprivate'] };
}

function seccompFor(path: string | undefined, caps: readonly string[]): OciSeccomp | undefined {
  if (!path) return undefined;
  const profile = loadSeccompProfile(path);
  return profile ? resolveSeccomp(profile, caps) : undefined;
}
