/**
 * User-mode networking: a container's network namespace connected to the host's network by a
 * program that runs as the caller, pasta (den's default) or slirp4netns (the fallback). Neither
 * needs privileges: both open a tap device in the namespace and carry its packets through
 * ordinary sockets of the host.
 *
 * The namespace is made before the runtime runs and kept as a file (`netns` in the container's
 * mounts directory), which the runtime joins; the helper is connected to it before the container's
 * first process runs, so that process finds its network up. All of it happens in the shell den runs
 * in the storage's namespaces anyway (to mount the root file system): `setupCommands` gives the
 * commands, quoted, for that shell to eval. The helper's pid is recorded beside the bundle, and
 * RELEASE_NETWORK, run by the same shells that unmount the container, stops it.
 *
 * Every user-mode container sees the same addresses, as podman's slirp4netns does: it is
 * 10.0.2.100/24, the gateway 10.0.2.2 and the DNS forwarder 10.0.2.3. The gateway reaches the
 * host's loopback only when asked (`pasta:--map-gw`, `slirp4netns:allow_host_loopback=true`);
 * host.containers.internal names the host's own address, where services listening on all
 * addresses are reached without opening the loopback.
 *
 * Measured on this machine kind (DESIGN.md): pasta 18.3 Gbit/s through a published port against
 * the host's loopback at 33, slirp4netns's own port handler 6.6; pasta keeps a TCP client's
 * address for connections that arrive from other hosts, and shows loopback clients as 127.0.0.1
 * (it splices those through the container's loopback); slirp4netns shows every client as 10.0.2.2.
 */
import { networkInterfaces } from 'node:os';
import type { PublishedPort } from './ports.js';
import type { Slirp4netnsOptions } from './network-mode.js';

export const GUEST_ADDRESS = '10.0.2.100';
export const GUEST_PREFIX = 24;
export const GATEWAY = '10.0.2.2';
export const DNS_FORWARDER = '10.0.2.3';

/** Where a container's network namespace is kept, in its mounts directory. */
export const NETNS_FILE = 'netns';
/** The helper's pid, in the bundle directory. */
export const HELPER_PID_FILE = 'net.pid';
/** The helper's messages, in the bundle directory: read when a start fails. */
export const HELPER_LOG_FILE = 'net.log';

export interface UserModeSetup {
  /** The namespace file to make (and the runtime joins). */
  netnsFile: string;
  pidFile: string;
  logFile: string;
  /** slirp4netns's API socket, through which ports are added. */
  apiSocket: string;
  ports: readonly PublishedPort[];
  macAddress?: string;
  /**
   * Root mode: pasta stays uid 0 (it drops every capability and isolates itself all the same),
   * because as `nobody`, its default, it could not open a namespace file in den's private store.
   */
  runAsRoot?: boolean;
}

/** Single-quotes a word for sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * Docker's default for a container's own network namespace: any port may be bound. It is set here,
 * by the namespace's owner, because a container with a user namespace of its own (auto) has no
 * privilege over a namespace made outside it.
 */
const NAMESPACE_SYSCTLS = 'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start';

/**
 * The namespace file, made empty (a redirection: no process) unless an earlier start left it,
 * and the namespace bound on it, its sysctls set by the shell that unshare runs in it.
 */
function makeNamespace(netnsFile: string): string {
  const f = shellQuote(netnsFile);
  return `{ [ -e ${f} ] || : > ${f}; } && unshare --net=${f} sh -c ${shellQuote(NAMESPACE_SYSCTLS)}`;
}

/** pasta's options beyond what the user adds; `--map-gw` (podman's word) drops --no-map-gw. */
export function pastaArgv(setup: UserModeSetup, userOptions: readonly string[]): string[] {
  const user = userOptions.filter((o) => o !== '--map-gw');
  const given = (...names: string[]) => user.some((o) => names.includes(o.split('=')[0]!));
  const forwards = (protocol: 'tcp' | 'udp') => {
    const specs = setup.ports
      .filter((p) => p.protocol === protocol)
      .map((p) => `${p.hostIp ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`);
    return specs.length
      ? specs.flatMap((s) => [protocol === 'tcp' ? '-t' : '-u', s])
      : [protocol === 'tcp' ? '-t' : '-u', 'none'];
  };
  return [
    'pasta',
    '--config-net',
    ...(given('-a', '--address') ? [] : ['-a', GUEST_ADDRESS, '-n', String(GUEST_PREFIX)]),
    ...(given('-g', '--gateway') ? [] : ['-g', GATEWAY]),
    ...(userOptions.includes('--map-gw') ? [] : ['--no-map-gw']),
    ...(given('--dns-forward') ? [] : ['--dns-forward', DNS_FORWARDER]),
    ...(given('-t', '--tcp-ports') ? [] : forwards('tcp')),
    ...(given('-u', '--udp-ports') ? [] : forwards('udp')),
    ...(given('-T', '--tcp-ns') ? [] : ['-T', 'none']),
    ...(given('-U', '--udp-ns') ? [] : ['-U', 'none']),
    ...(setup.macAddress ? ['--ns-mac-addr', setup.macAddress] : []),
    ...(setup.runAsRoot ? ['--runas', '0'] : []),
    '-q',
    '-P',
    setup.pidFile,
    ...user,
    '--netns',
    setup.netnsFile,
  ];
}

export function slirp4netnsArgv(setup: UserModeSetup, options: Slirp4netnsOptions): string[] {
  return [
    'slirp4netns',
    '--configure',
    `--mtu=${options.mtu ?? 65520}`,
    ...(options.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(options.enableIpv6 ? ['--enable-ipv6'] : []),
    `--cidr=10.0.2.0/${GUEST_PREFIX}`,
    ...(setup.macAddress ? [`--macaddress=${setup.macAddress}`] : []),
    ...(setup.ports.length ? [`--api-socket=${setup.apiSocket}`] : []),
    '--netns-type=path',
    '--ready-fd=3',
    setup.netnsFile,
    'tap0',
  ];
}

/**
 * The shell commands that make the namespace and connect it: pasta forks into the background
 * once the namespace is configured; slirp4netns stays in the foreground, so it is started in the
 * background and waited for on its ready descriptor (a command substitution ends when it closes).
 */
export function setupCommands(
  setup: UserModeSetup,
  helper: { kind: 'pasta'; argv: string[] } | { kind: 'slirp4netns'; argv: string[] },
): string {
  const log = shellQuote(setup.logFile);
  const connect =
    helper.kind === 'pasta'
      ? `${commandLine(helper.argv)} > /dev/null 2>> ${log}`
      : `[ "$( { ${commandLine(helper.argv)} 3>&1 > /dev/null 2>> ${log} < /dev/null & echo $! > ${shellQuote(setup.pidFile)}; } )" = 1 ]`;
  return `: > ${log} && ${makeNamespace(setup.netnsFile)} 2>> ${log} && ${connect}`;
}

/** The shell that only makes the namespace (a user network's: netavark connects it afterwards). */
export function namespaceCommands(setup: UserModeSetup): string {
  const log = shellQuote(setup.logFile);
  return `: > ${log} && ${makeNamespace(setup.netnsFile)} 2>> ${log}`;
}

/**
 * Shell, with $1 the container's root file system path (its bundle is the directory above): stops
 * the network helper recorded there, if it still runs and is one (a pid from before a reboot may
 * name another program), with builtins only.
 */
export const RELEASE_NETWORK = `{ f="\${1%/*}/${HELPER_PID_FILE}"; [ -s "$f" ] && { read p < "$f"; read c < "/proc/$p/comm" && case "$c" in pasta*|passt*|slirp4netns) kill -KILL "$p";; esac; : > "$f"; }; } 2> /dev/null`;

/** The host's address for host.containers.internal: its first address that is not loopback. */
export function hostAddressForContainers(allowHostLoopback: boolean): string | undefined {
  if (allowHostLoopback) return GATEWAY;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** slirp4netns's API: one port forward, as a JSON request line. */
export function slirpForwardRequest(p: PublishedPort): string {
  return JSON.stringify({
    execute: 'add_hostfwd',
    arguments: {
      proto: p.protocol,
      host_addr: p.hostIp || '0.0.0.0',
      host_port: p.hostPort,
      guest_port: p.containerPort,
    },
  });
}
