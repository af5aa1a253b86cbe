import type { SubnetConfig } from './subnet.js';

/**
 * User-defined networks: the vocabulary shared by the network store (containers/network-store.ts),
 * netavark's input (netavark.ts) and the engine.
 *
 * - network: a bridge with one IPv4 subnet, its gateway on the bridge, and (unless internal) NAT
 *   out of it; with dns enabled, aardvark-dns on the gateway answers the names of its containers.
 * - attachment: one container on one network: its name and aliases there, its address (allocated
 *   when attached, kept while attached), the interface inside (eth0, eth1, ...), and the MAC address
 *   the interface has while it is set up (undefined otherwise: a container's attachments with a MAC
 *   address are the ones to tear down).
 */
export interface UserNetwork {
  id: string;
  name: string;
  driver: 'bridge';
  /** The bridge's name on the host (root) or in the shared rootless network namespace. */
  interface: string;
  subnets: SubnetConfig[];
  internal: boolean;
  dnsEnabled: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** ISO time. */
  created: string;
}

export interface Attachment {
  containerId: string;
  networkId: string;
  /** The container's name, which aardvark-dns resolves. */
  name: string;
  aliases: string[];
  ip: string;
  /** The interface's MAC address while it is set up ('' while netavark sets it up), else undefined. */
  mac: string | undefined;
  /** A MAC address asked for. */
  staticMac: string | undefined;
  interface: string;
}

/** A published port as netavark takes it: `range` ports from hostPort and containerPort on. */
export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  range: number;
}

/** The default network: every den has it, nobody removes it (as docker's bridge, podman's podman). */
export const DEFAULT_NETWORK = 'den';

/** docker's rule for network names. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isValidNetworkName(name: string): boolean {
  return NETWORK_NAME.test(name) && name.length <= 128;
}

/** Names that are network modes, not networks. */
export const RESERVED_NETWORK_NAMES: readonly string[] = [
  'none',
  'host',
  'bridge',
  'default',
  'pasta',
  'slirp4netns',
  'private',
];

/** The bridge of a network: den0 for the default network, else den + 10 hex digits of its id (IFNAMSIZ is 16). */
export function bridgeName(id: string, name: string): string {
  return name === DEFAULT_NETWORK ? 'den0' : `den${id.slice(0, 10)}`;
}
