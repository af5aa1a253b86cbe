import type { OciIdMapping } from '../idmap/index.js';
import type { OciRlimit } from './rlimits.js';
import { resolveSeccomp, type OciSeccomp, loadSeccompProfile, parseSeccompProfile } from './seccomp.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';

export { DEFAULT_CAPABILITIES };

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
  /** rprivate when absent, as docker's default. */
  propagation?: string;
}

/** A device node given to the container: bound from the host (a user namespace cannot make one). */
export interface DeviceMount {
  host: string;
  container: string;
  /** The devices cgroup's access (r, w, m); absent: the node is only bound (--privileged). */
  access?: string;
  /** c or b, with the node's numbers, for the devices cgroup rule. */
  kind?: 'c' | 'b';
  major?: number;
  minor?: number;
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
  /** tmpfs mounts (--tmpfs, --mount type=tmpfs): where, and their mount options. */
  tmpfs?: { destination: string; options: string[] }[];
  /** /dev/shm's size in bytes (--shm-size); docker's 64 MiB when absent. */
  shmSize?: number;
  /** A user namespace of the container's own with these maps; absent: stay in the caller's (the rootless session's). */
  userns?: { uidMappings: IdMapping[]; gidMappings: IdMapping[] };
  /** True when den runs inside a rootless session: sysfs can't be mounted fresh with the host network. */
  rootless: boolean;
  /** The seccomp profile (containers-common's form): a file, or its text (--security-opt seccomp=FILE); absent: none. */
  seccomp?: { path: string } | { text: string };
  /** The process's capabilities when it runs as root (docker's default set when absent). */
  capabilities?: readonly string[];
  /** Set no_new_privs: setuid programs no longer raise privileges (--security-opt no-new-privileges). */
  noNewPrivileges?: boolean;
  /**
   * --privileged, as podman defines it: no seccomp, no masked or read-only paths, /sys and the
   * cgroup file system writable, and `devices` (host devices the caller can open) bound in.
   */
  privileged?: boolean;
  /** Host device nodes bound inside (--device; --privileged binds every one the caller can open). */
  devices?: (string | DeviceMount)[];
  /** The AppArmor profile of the process (only where the host has AppArmor). */
  apparmorProfile?: string;
  /** crun keeps the caller's supplementary groups rather than setting additionalGids (--group-add keep-groups). */
  keepGroups?: boolean;
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
  const caps = [...(input.capabilities ?? DEFAULT_CAPABILITIES)];
  const devices = (input.devices ?? []).map((d) => (typeof d === 'string' ? { host: d, container: d } : d));
  const privileged = input.privileged === true;
  const ro = privileged ? [] : ['ro'];
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
      options: [
        'nosuid',
        'noexec',
        'nodev',
        'mode=1777',
        `size=${input.shmSize !== undefined ? `${input.shmSize}` : '65536k'}`,
      ],
    },
    // A fresh sysfs needs the network namespace to belong to the container's user namespace; with
    // the host's network, or a namespace made outside (owned by the session's or the host's user
    // namespace), a rootless container or one with a user namespace of its own gets a read-only
    // bind of the host's /sys instead.
    net !== 'new' && (input.rootless || input.userns)
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro],
    },
    etcBind('/etc/hostname', input.etcFiles.hostname),
    etcBind('/etc/hosts', input.etcFiles.hosts),
    etcBind('/etc/resolv.conf', input.etcFiles.resolvConf),
    ...input.binds.map((b) => ({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', b.readOnly ? 'ro' : 'rw', b.propagation ?? 'rprivate'],
    })),
    ...(input.tmpfs ?? []).map((t) => ({
      destination: t.destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: t.options,
    })),
    // Bound rather than made: a user namespace may not create device nodes.
    ...devices.map((d) => ({ destination: d.container, type: 'bind', source: d.host, options: ['bind', 'rprivate'] })),
  ];

  const process: Record<string, unknown> = {
    terminal: input.terminal,
    user: { uid: input.uid, gid: input.gid, additionalGids: input.additionalGids },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: processCapabilities(caps, input.uid),
    noNewPrivileges: input.noNewPrivileges === true,
  };
  if (input.apparmorProfile) process.apparmorProfile = input.apparmorProfile;
  // Only those asked for (--ulimit): the rest are inherited from den, so the container never asks
  // for more than the caller has (raising a hard limit needs CAP_SYS_RESOURCE).
  if (input.rlimits?.length) process.rlimits = input.rlimits;
  if (input.terminal && input.consoleSize) process.consoleSize = input.consoleSize;

  const linux: Record<string, unknown> = privileged
    ? { namespaces }
    : { namespaces, maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS };
  if (input.userns) {
    linux.uidMappings = input.userns.uidMappings;
    linux.gidMappings = input.userns.gidMappings;
  }
  const seccomp = privileged ? undefined : seccompFor(input.seccomp, caps);
  if (seccomp) linux.seccomp = seccomp;
  if (input.cgroupsPath !== undefined) linux.cgroupsPath = input.cgroupsPath;
  // A privileged container may use every device it is given (the devices cgroup, where there is one).
  // --device adds a rule per node, where there is a devices cgroup to keep (root; rootless has none).
  const deviceRules = devices.flatMap((d) =>
    d.access && d.kind && d.major !== undefined && d.minor !== undefined
      ? [{ allow: true, type: d.kind, major: d.major, minor: d.minor, access: d.access }]
      : [],
  );
  const resources =
    privileged && !input.rootless
      ? { ...input.resources, devices: [{ allow: true, access: 'rwm' }] }
      : deviceRules.length > 0 && !input.rootless
        ? { ...input.resources, devices: deviceRules }
        : input.resources;
  if (resources && Object.keys(resources).length > 0) linux.resources = resources;

  const spec: Record<string, unknown> = {
    ociVersion: '1.0.2',
    process,
    root: { path: input.rootfs, readonly: input.readOnlyRootfs },
    hostname: input.hostname,
    mounts,
    linux,
  };
  const annotations = {
    ...input.annotations,
    // crun's own annotation: setgroups is not called, the groups of the process that runs crun stay.
    ...(input.keepGroups ? { 'run.oci.keep_original_groups': '1' } : {}),
  };
  if (Object.keys(annotations).length > 0) spec.annotations = annotations;
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

function seccompFor(source: SpecInput['seccomp'], caps: readonly string[]): OciSeccomp | undefined {
  if (!source) return undefined;
  const profile = 'path' in source ? loadSeccompProfile(source.path) : parseSeccompProfile(source.text);
  return profile ? resolveSeccomp(profile, caps) : undefined;
}
