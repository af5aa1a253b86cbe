import { findExecutable, runSync } from '../common/exec.js';
import { failedPrecondition } from '../common/errors.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Attachment, PortMapping, UserNetwork } from './user-network.js';

/**
 * netavark (Podman's network stack, 1.4 here) sets up and tears down a container's interfaces on
 * user networks: a bridge per network, a veth pair per container and network, the firewall rules
 * (NAT out unless internal, port forwarding), and aardvark-dns, which it starts on the first
 * network with dns and stops after the last container leaves. It takes JSON on stdin (the
 * container, its networks, each network's options for it, its ports) and prints what it made.
 * It allocates no addresses: den's network store does, and passes them as static_ips.
 *
 * Rootless, the bridges live in one network namespace shared by the user's containers, created
 * in den's session on demand and given a way out by pasta (`SCRIPT` below); as root they live on
 * the host. Either way every call runs under one lock (flock), so two dens never create the
 * namespace twice or remove it under the other's feet.
 */
export interface NetworkHost {
  readonly rootless: boolean;
  /** A private directory of den's runtime files; the network state goes in `networks/` under it. */
  readonly runtimeDir: string;
  /** PATH, to find netavark, aardvark-dns and pasta. */
  readonly searchPath: string;
  /** The argv that runs `argv` in den's namespaces (the rootless session's user and mount namespaces). */
  wrap(argv: readonly string[]): string[];
}

/** One network of a container, with the container's attachment to it. */
export interface NetworkOfContainer {
  network: UserNetwork;
  attachment: Attachment;
}

/** What netavark made on one network: the container's address, gateway and interface. */
export interface AttachmentInfo {
  network: string;
  networkId: string;
  interface: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  mac: string;
  aliases: string[];
  dnsServers: string[];
  dnsSearch: string[];
}

/** Where packaged podman installs netavark and aardvark-dns, off PATH. */
const HELPER_DIRS = ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/lib/podman', '/usr/local/libexec/podman'];

/** A network helper in PATH or where podman's packages put it. */
export function findNetworkHelper(name: string, searchPath: string): string | undefined {
  return findExecutable(name, [searchPath, ...HELPER_DIRS].join(':'));
}

function tool(host: NetworkHost, name: string, pkg: string): string {
  const found = findNetworkHelper(name, host.searchPath);
  if (!found) {
    throw failedPrecondition('DEN1230', `${name} is not installed: user-defined networks need it`, {
      hint: `apt-get install ${pkg}`,
    });
  }
  return found;
}

/** netavark's input: the container, its networks by name, each network's options for it, its ports. */
export function netavarkInput(
  containerId: string,
  containerName: string,
  nets: readonly NetworkOfContainer[],
  ports: readonly PortMapping[],
): object {
  const networks: Record<string, object> = {};
  const info: Record<string, object> = {};
  for (const { network: n, attachment: a } of nets) {
    networks[n.name] = {
      interface_name: a.interface,
      static_ips: [a.ip],
      aliases: n.dnsEnabled ? a.aliases : [],
      ...(a.staticMac ? { static_mac: a.staticMac } : {}),
    };
    info[n.name] = {
      name: n.name,
      id: n.id,
      driver: n.driver,
      network_interface: n.interface,
      subnets: n.subnets.map((s) => ({ subnet: s.subnet, gateway: s.gateway })),
      ipv6_enabled: false,
      internal: n.internal,
      dns_enabled: n.dnsEnabled,
      // Networks do not reach each other, as docker's user networks (netavark's isolate).
      options: { isolate: 'true', ...n.options },
      ipam_options: { driver: 'host-local' },
    };
  }
  return {
    container_id: containerId,
    container_name: containerName,
    networks,
    network_info: info,
    port_mappings: ports.map((p) => ({
      host_ip: p.hostIp,
      host_port: p.hostPort,
      container_port: p.containerPort,
      protocol: p.protocol,
      range: p.range,
    })),
  };
}

interface StatusBlock {
  dns_search_domains?: string[];
  dns_server_ips?: string[];
  interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
}

/** netavark's answer to setup, by network name, as the attachments the engine records and inspect shows. */
export function attachmentInfo(nets: readonly NetworkOfContainer[], output: string): AttachmentInfo[] {
  let status: Record<string, StatusBlock>;
  try {
    status = JSON.parse(output) as Record<string, StatusBlock>;
  } catch (e) {
    throw failedPrecondition('DEN1232', `netavark setup printed what is not JSON: ${output.slice(0, 200)}`, {
      cause: e,
    });
  }
  return nets.map(({ network: n, attachment: a }) => {
    const block = status[n.name];
    const iface = block?.interfaces?.[a.interface];
    const subnet = iface?.subnets?.[0];
    const [ip, prefix] = (subnet?.ipnet ?? `${a.ip}/0`).split('/');
    return {
      network: n.name,
      networkId: n.id,
      interface: a.interface,
      ip: ip!,
      prefixLength: Number(prefix),
      gateway: subnet?.gateway ?? '',
      mac: iface?.mac_address ?? a.staticMac ?? '',
      aliases: a.aliases,
      dnsServers: block?.dns_server_ips ?? [],
      dnsSearch: block?.dns_search_domains ?? [],
    };
  });
}

/**
 * Runs as `flock --close LOCK sh -c SCRIPT den-network VERB DIR TARGET ROOTLESS NETAVARK AARDVARK PASTA IFACES`
 * with netavark's JSON on stdin, in den's namespaces (rootless: the session's user and mount
 * namespaces, where the shared network namespace's file is bind-mounted).
 *
 * - setup: rootless, makes the shared namespace if it is not there (a bind-mounted nsfs file,
 *   loopback up, pasta giving it a way out with a link-local address of its own, so that the
 *   host's own addresses stay the host's); then netavark setup. A failed setup is torn down again,
 *   and the namespace removed if nothing else uses it.
 * - teardown: netavark teardown; a namespace that is gone already (the container died) is replaced
 *   by one holding stand-ins of the container's interfaces (IFACES), so that netavark still removes
 *   the bridge, the rules and the DNS records. Then, rootless, the
 *   shared namespace goes once no container is attached (no veth left in it).
 * - reap: rootless, removes the shared namespace when no container is attached.
 * Removing the namespace ends pasta and aardvark-dns (checked by their names: a pid file may
 * outlive its process) and forgets aardvark-dns's records.
 */
export const NETWORK_SCRIPT = `
set -u
verb=$1 dir=$2 target=$3 rootless=$4 netavark=$5 aardvark=$6 pasta=$7 ifaces=$8
conf=$dir/conf ns=$dir/netns
mkdir -p "$conf"
json=$(cat)
nv() {
  if [ "$rootless" = 1 ]; then
    printf '%s' "$json" | nsenter --net="$ns" "$netavark" --config "$conf" --rootless true --aardvark-binary "$aardvark" "$@"
  else
    printf '%s' "$json" | "$netavark" --config "$conf" --aardvark-binary "$aardvark" "$@"
  fi
}
stop() {
  if [ -r "$1" ]; then
    pid=$(cat "$1")
    case $(cat "/proc/$pid/comm" 2> /dev/null) in $2) kill "$pid" 2> /dev/null ;; esac
    rm -f "$1"
  fi
}
remove_ns() {
  # pasta names itself passt.avx2 (or passt) where the CPU has AVX2
  stop "$dir/pasta.pid" 'pasta*|passt*'
  stop "$conf/aardvark-dns/aardvark.pid" 'aardvark*'
  rm -rf "$conf/aardvark-dns"
  # lazily: pasta may still hold the file for the moment it takes to go
  umount -l "$ns" 2> /dev/null
  rm -f "$ns"
}
in_use() {
  nsenter --net="$ns" ip -o link show type veth | grep -q .
}
ensure_ns() {
  mountpoint -q "$ns" && return 0
  remove_ns
  touch "$ns"
  if ! unshare --net="$ns" ip link set lo up; then
    rm -f "$ns"
    return 1
  fi
  if ! "$pasta" --config-net --no-map-gw -a 169.254.1.2 -n 16 -g 169.254.1.1 -t none -u none -T none -U none \\
      -q -P "$dir/pasta.pid" --netns "$ns" < /dev/null > /dev/null 2> "$dir/pasta.err"; then
    grep -v syslog "$dir/pasta.err" >&2
    remove_ns
    return 1
  fi
}
case $verb in
setup)
  if [ "$rootless" = 1 ]; then ensure_ns || exit 2; fi
  # Into files, not pipes: aardvark-dns, started by netavark, keeps what it inherits open.
  if nv setup "$target" > "$dir/out.$$" 2> "$dir/err.$$"; then
    cat "$dir/out.$$"
    rm -f "$dir/out.$$" "$dir/err.$$"
    exit 0
  fi
  nv teardown "$target" > /dev/null 2>&1
  if [ "$rootless" = 1 ] && ! in_use; then remove_ns; fi
  cat "$dir/out.$$"
  cat "$dir/err.$$" >&2
  rm -f "$dir/out.$$" "$dir/err.$$"
  exit 1
  ;;
teardown)
  if [ "$rootless" = 1 ] && ! mountpoint -q "$ns"; then exit 0; fi
  gone=
  if [ ! -e "$target" ]; then
    gone=$dir/gone.$$
    touch "$gone" && unshare --net="$gone" true && target=$gone
    # netavark 1.4 stops at the first interface it cannot delete, before the bridge and the rules:
    # give it the container's interfaces to delete.
    for i in $ifaces; do nsenter --net="$gone" ip link add "$i" type veth peer name "x$i"; done
  fi
  nv teardown "$target" > "$dir/out.$$" 2> "$dir/err.$$"
  rc=$?
  cat "$dir/out.$$"
  cat "$dir/err.$$" >&2
  rm -f "$dir/out.$$" "$dir/err.$$"
  if [ -n "$gone" ]; then
    umount "$gone" 2> /dev/null
    rm -f "$gone"
  fi
  if [ "$rootless" = 1 ] && ! in_use; then remove_ns; fi
  exit $rc
  ;;
reap)
  if [ "$rootless" = 1 ] && mountpoint -q "$ns" && ! in_use; then remove_ns; fi
  ;;
esac
`;

/** The directory of den's network state: netavark's config (aardvark-dns's records), the shared namespace, pasta's pid. */
export function networksDir(host: NetworkHost): string {
  return join(host.runtimeDir, 'networks');
}

/** The shared rootless network namespace's file (bind-mounted in den's session only). */
export function sharedNamespacePath(host: NetworkHost): string {
  return join(networksDir(host), 'netns');
}

function runScript(
  host: NetworkHost,
  verb: 'setup' | 'teardown' | 'reap',
  target: string,
  input: string,
  interfaces: readonly string[] = [],
) {
  const dir = networksDir(host);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const argv = [
    'flock',
    '--close', // aardvark-dns, started by netavark, would hold the lock for ever
    join(dir, 'lock'),
    'sh',
    '-c',
    NETWORK_SCRIPT,
    'den-network',
    verb,
    dir,
    target,
    host.rootless ? '1' : '0',
    verb === 'reap' ? '' : tool(host, 'netavark', 'netavark'),
    verb === 'reap' ? '' : tool(host, 'aardvark-dns', 'aardvark-dns'),
    host.rootless && verb === 'setup' ? tool(host, 'pasta', 'passt') : '',
    interfaces.join(' '),
  ];
  return runSync(host.wrap(argv), { input });
}

/** netavark's own error (it prints {"error": "..."}), else its stderr or status. */
function netavarkError(r: { status: number; stdout: string; stderr: string }): string {
  try {
    const parsed = JSON.parse(r.stdout) as { error?: string };
    if (parsed.error) return parsed.error;
  } catch {
    // not netavark's JSON: pasta's or the namespace's failure, on stderr
  }
  return r.stderr.trim() || r.stdout.trim() || `status ${r.status}`;
}

/**
 * Connects the network namespace at `netnsPath` to its networks. On failure nothing is left:
 * what netavark made is torn down again.
 */
export function setupNetworks(
  host: NetworkHost,
  containerId: string,
  containerName: string,
  netnsPath: string,
  nets: readonly NetworkOfContainer[],
  ports: readonly PortMapping[],
): AttachmentInfo[] {
  if (nets.length === 0) return [];
  const input = JSON.stringify(netavarkInput(containerId, containerName, nets, ports));
  const r = runScript(host, 'setup', netnsPath, input);
  if (r.status === 2) {
    throw failedPrecondition(
      'DEN1231',
      `cannot create the shared network namespace of user networks: ${netavarkError(r)}`,
      {
        hint: 'run `den system check` to see whether pasta and /dev/net/tun work here',
      },
    );
  }
  if (r.status !== 0) {
    throw failedPrecondition(
      'DEN1232',
      `container ${containerId.slice(0, 12)}: netavark cannot connect it to ${nets.map((n) => n.network.name).join(', ')}: ${netavarkError(r)}`,
    );
  }
  return attachmentInfo(nets, r.stdout);
}

/**
 * Undoes setupNetworks; idempotent, and fine after the namespace is gone (the container exited or
 * crashed). Rootless, the shared namespace is removed with the last container on it.
 */
export function teardownNetworks(
  host: NetworkHost,
  containerId: string,
  containerName: string,
  netnsPath: string,
  nets: readonly NetworkOfContainer[],
  ports: readonly PortMapping[],
): void {
  if (nets.length === 0) return;
  const input = JSON.stringify(netavarkInput(containerId, containerName, nets, ports));
  const r = runScript(
    host,
    'teardown',
    netnsPath,
    input,
    nets.map((n) => n.attachment.interface),
  );
  if (r.status !== 0 && !/No such (file|device)|not found|does not exist/i.test(netavarkError(r))) {
    throw failedPrecondition(
      'DEN1233',
      `container ${containerId.slice(0, 12)}: netavark cannot disconnect it from ${nets.map((n) => n.network.name).join(', ')}: ${netavarkError(r)}`,
    );
  }
}

/** Rootless: removes the shared network namespace (and its pasta and aardvark-dns) when no container uses it. */
export function reapSharedNamespace(host: NetworkHost): void {
  if (!host.rootless) return;
  runScript(host, 'reap', '', '');
}
