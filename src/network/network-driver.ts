import { hostsFile, resolvConf } from './etc-files.js';

/**
 * How a container reaches the network: the seam that pasta, slirp4netns and user networks will
 * fill (issue: networking). A driver says whether the container gets a network namespace of its
 * own, what its /etc/hosts and /etc/resolv.conf hold, and, once its init exists, connects that
 * namespace to the outside (and undoes it when the container stops). Drivers are chosen by the
 * container's network mode (`networkDriver`); the engine calls them, the runtime only learns
 * whether to make a namespace.
 *
 *   const net = networkDriver(record.config.network);
 *   spec.networkNamespace = net.namespace;                 // writing the bundle
 *   const link = await net.attach({ id, initPid, ... });   // after the runtime created the container
 *   await link.detach();                                   // after it stopped
 *
 * What the drivers need of the host is probed by network-checks.ts, for `den system check`.
 */
export interface NetworkDriver {
  readonly mode: NetworkMode;
  /** 'own': a new network namespace; 'host': the caller's. */
  readonly namespace: 'own' | 'host';
  /** The container's /etc/hosts. */
  hosts(hostname: string): string;
  /** The container's /etc/resolv.conf. */
  resolvConf(): string;
  /** Connects the container's namespace once its init runs; nothing to do for none and host. */
  attach(container: AttachTarget): Promise<NetworkLink>;
}

/** The network modes den has. */
export type NetworkMode = 'none' | 'host';

export interface AttachTarget {
  /** The container's id. */
  id: string;
  /** Its init's pid, whose network namespace is the container's. */
  initPid: number;
}

/** A running connection of a container to the network; detach undoes what attach did. */
export interface NetworkLink {
  detach(): Promise<void>;
}

const NOTHING_ATTACHED: NetworkLink = { detach: async () => {} };

/** Loopback only: a namespace of its own with nothing connected to it. */
export const noneNetwork: NetworkDriver = {
  mode: 'none',
  namespace: 'own',
  hosts: (hostname) => hostsFile(hostname, 'none'),
  resolvConf,
  attach: async () => NOTHING_ATTACHED,
};

/**
 * The caller's own network: what a rootless user can reach anyway, and den's default until user-mode
 * networking (pasta) lands. The host's /etc/hosts resolves the host's own names as on the host.
 */
export const hostNetwork: NetworkDriver = {
  mode: 'host',
  namespace: 'host',
  hosts: (hostname) => hostsFile(hostname, 'host'),
  resolvConf,
  attach: async () => NOTHING_ATTACHED,
};

const DRIVERS: Record<NetworkMode, NetworkDriver> = { none: noneNetwork, host: hostNetwork };

/** The driver of a network mode: the one place that reads a container's recorded mode. */
export function networkDriver(mode: NetworkMode): NetworkDriver {
  return DRIVERS[mode];
}
