import { createConnection } from 'node:net';
import { DenError } from '../common/errors.js';
import { hostsFile, resolvConf } from './etc-files.js';
import type { NetworkMode } from './network-mode.js';
import type { PublishedPort } from './ports.js';
import {
  DNS_FORWARDER,
  GATEWAY,
  GUEST_ADDRESS,
  GUEST_PREFIX,
  hostAddressForContainers,
  namespaceCommands,
  pastaArgv,
  setupCommands,
  slirp4netnsArgv,
  slirpForwardRequest,
  type UserModeSetup,
} from './user-mode.js';

/**
 * How a container reaches the network, by its mode (network-mode.ts): where its network namespace
 * comes from, what its /etc/hosts and /etc/resolv.conf hold, and what connects the namespace before
 * the container's first process runs. The engine asks the driver of a container's mode at create
 * (the bundle: namespace, /etc files) and at each start (the setup shell, then `connected`);
 * undoing it is RELEASE_NETWORK's, in the shells that unmount a container.
 *
 *   const net = networkDriver(mode);
 *   spec.networkNamespace = net.namespace(files.netnsFile);
 *   script += net.setup(setup);          // in the storage's namespaces, before the runtime
 *   await net.connected(setup);          // ports that need den's own process (slirp4netns)
 *
 * User networks (bridges shared by several containers) are their own module and come in here as
 * the `network` kind.
 */
export interface NetworkDriver {
  readonly mode: NetworkMode;
  /** 'new': the runtime makes an empty one; 'host': the caller's; a path: the runtime joins it. */
  namespace(netnsFile: string): 'new' | 'host' | { path: string };
  /** The container's addresses as inspect shows them; absent where it has none of its own. */
  readonly address?: { ip: string; prefix: number; gateway: string };
  hosts(input: EtcInput): string;
  resolvConf(input: EtcInput): string;
  /** Shell commands that make and connect the namespace (user-mode.ts); '' when there is nothing to do. */
  setup(setup: UserModeSetup): string;
  /** After `setup` ran: what only den's process can do (slirp4netns's port forwards). */
  connected(setup: UserModeSetup): Promise<void>;
  /** Whether `connected` has anything to do for this setup (then it must run before the container does). */
  connectsFromDen(setup: UserModeSetup): boolean;
}

/** The container's name resolution settings, as recorded at create. */
export interface EtcInput {
  hostname: string;
  dns?: readonly string[];
  dnsSearch?: readonly string[];
  dnsOptions?: readonly string[];
  /** --add-host; the address `host-gateway` is the host as the container reaches it. */
  extraHosts?: readonly { name: string; address: string }[];
}

const NOTHING = async () => {};

function withHostGateway(input: EtcInput, hostAddress: string | undefined) {
  return (input.extraHosts ?? []).map((h) =>
    h.address === 'host-gateway' ? { name: h.name, address: hostAddress ?? '127.0.0.1' } : h,
  );
}

/** Loopback only: a namespace of its own with nothing connected to it. */
function noneDriver(mode: NetworkMode): NetworkDriver {
  return {
    mode,
    namespace: () => 'new',
    hosts: (input) =>
      hostsFile({ hostname: input.hostname, hostNetwork: false, extraHosts: withHostGateway(input, undefined) }),
    resolvConf: (input) => resolvConf(input),
    setup: () => '',
    connected: NOTHING,
    connectsFromDen: () => false,
  };
}

/** The caller's own network: the host's /etc/hosts resolves the host's own names as on the host. */
function hostDriver(mode: NetworkMode): NetworkDriver {
  return {
    mode,
    namespace: () => 'host',
    hosts: (input) =>
      hostsFile({
        hostname: input.hostname,
        hostNetwork: true,
        hostAddress: '127.0.0.1',
        extraHosts: withHostGateway(input, '127.0.0.1'),
      }),
    resolvConf: (input) => resolvConf(input),
    setup: () => '',
    connected: NOTHING,
    connectsFromDen: () => false,
  };
}

/** pasta or slirp4netns: a namespace of the container's own, connected by a helper of the caller's. */
function userModeDriver(mode: NetworkMode & { kind: 'pasta' | 'slirp4netns' }): NetworkDriver {
  const loopback = mode.kind === 'pasta' ? mode.options.includes('--map-gw') : mode.options.allowHostLoopback;
  const hostAddress = () => hostAddressForContainers(loopback);
  return {
    mode,
    namespace: (netnsFile) => ({ path: netnsFile }),
    address: { ip: GUEST_ADDRESS, prefix: GUEST_PREFIX, gateway: GATEWAY },
    hosts: (input) => {
      const host = hostAddress();
      return hostsFile({
        hostname: input.hostname,
        hostNetwork: false,
        address: GUEST_ADDRESS,
        ...(host ? { hostAddress: host } : {}),
        extraHosts: withHostGateway(input, host),
      });
    },
    resolvConf: (input) => resolvConf({ ...input, networkNameservers: [DNS_FORWARDER] }),
    setup: (setup) =>
      mode.kind === 'pasta'
        ? setupCommands(setup, { kind: 'pasta', argv: pastaArgv(setup, mode.options) })
        : setupCommands(setup, { kind: 'slirp4netns', argv: slirp4netnsArgv(setup, mode.options) }),
    connected: async (setup) => {
      if (mode.kind === 'slirp4netns') for (const p of setup.ports) await slirpForward(setup.apiSocket, p);
    },
    connectsFromDen: (setup) => mode.kind === 'slirp4netns' && setup.ports.length > 0,
  };
}

/** Another container's namespace: its /etc files are made as the other's are (same names). */
function containerDriver(mode: NetworkMode & { kind: 'container' }, joined: () => string): NetworkDriver {
  return {
    mode,
    namespace: () => ({ path: joined() }),
    hosts: (input) =>
      hostsFile({ hostname: input.hostname, hostNetwork: false, extraHosts: withHostGateway(input, undefined) }),
    resolvConf: (input) => resolvConf(input),
    setup: () => '',
    connected: NOTHING,
    connectsFromDen: () => false,
  };
}

/**
 * A user network (netavark's bridge, shared with other containers): the namespace is made by the
 * setup shell and connected by the engine (its network store allocates the address), before the
 * container runs; /etc/hosts and /etc/resolv.conf are written again then, with the address and
 * the network's DNS server (aardvark-dns), which resolves the other containers by name.
 */
function userNetworkDriver(mode: NetworkMode & { kind: 'network' }): NetworkDriver {
  return {
    mode,
    namespace: (netnsFile) => ({ path: netnsFile }),
    hosts: (input) =>
      hostsFile({ hostname: input.hostname, hostNetwork: false, extraHosts: withHostGateway(input, undefined) }),
    resolvConf: (input) => resolvConf(input),
    setup: (setup) => namespaceCommands(setup),
    connected: NOTHING,
    connectsFromDen: () => true,
  };
}

/**
 * The driver of a mode. `joined` gives the namespace path of the container a `container:` mode
 * names (the engine knows containers; this module does not).
 */
export function networkDriver(mode: NetworkMode, joined: () => string = () => ''): NetworkDriver {
  switch (mode.kind) {
    case 'none':
      return noneDriver(mode);
    case 'host':
      return hostDriver(mode);
    case 'pasta':
    case 'slirp4netns':
      return userModeDriver(mode);
    case 'container':
      return containerDriver(mode, joined);
    case 'network':
      return userNetworkDriver(mode);
  }
}

/** One port forward through slirp4netns's API socket. */
function slirpForward(socket: string, p: PublishedPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let reply = '';
    c.on('connect', () => c.end(slirpForwardRequest(p)));
    c.on('data', (d) => (reply += d.toString()));
    c.on('error', reject);
    c.on('close', () => {
      if (reply.includes('"error"')) {
        reject(
          new DenError(
            'FailedPrecondition',
            'DEN1207',
            `cannot publish ${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.protocol}: ${reply.trim()}`,
            {
              hint: 'stop what listens there (ss -ltnup shows it), or publish another host port',
            },
          ),
        );
      } else resolve();
    });
  });
}
