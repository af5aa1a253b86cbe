import { alreadyExists, failedPrecondition } from '../../common/errors.js';
import type { NetworkStore } from '../../containers/index.js';
import {
  reapSharedNamespace,
  setupNetworks,
  teardownNetworks,
  type AttachmentInfo,
  type NetworkHost,
  type NetworkOfContainer,
  type PortMapping,
} from '../../network/index.js';
import type { EngineContext } from '../context.js';

/** What connecting a container needs of the engine: where netavark runs, and the network store. */
export interface NetworkDeps {
  host: NetworkHost;
  store: NetworkStore;
}

export function networkDeps(ctx: EngineContext): NetworkDeps {
  return {
    host: {
      rootless: ctx.rootless,
      runtimeDir: ctx.paths.runtimeDir,
      searchPath: ctx.searchPath,
      wrap: (argv) => ctx.ns.wrap(argv),
    },
    store: ctx.networks,
  };
}

/** A network a container joins, as `--network NAME --network-alias A --ip IP` ask for it. */
export interface NetworkJoin {
  name: string;
  aliases?: string[];
  ip?: string;
  mac?: string;
}

export interface ConnectRequest {
  containerId: string;
  /** The container's name: aardvark-dns resolves it on every network with dns. */
  name: string;
  /** The container's network namespace: /proc/INIT/ns/net, or a bind-mounted nsfs file. */
  netnsPath: string;
  networks: NetworkJoin[];
  ports?: PortMapping[];
}

/**
 * Connects a container's network namespace to user networks: each network's attachment is recorded
 * (an existing one is reused, so a container that starts again keeps its address), then netavark
 * makes the interfaces. Returns, per network, what inspect's NetworkSettings.Networks shows. On
 * failure nothing is left in the namespace, and attachments this call made are forgotten.
 *
 *   const info = connectContainer(networkDeps(ctx), {
 *     containerId, name: 'web', netnsPath: `/proc/${initPid}/ns/net`,
 *     networks: [{ name: 'backend', aliases: ['api'] }],
 *   });
 *   ...
 *   disconnectContainer(networkDeps(ctx), { containerId, name: 'web', netnsPath });   // after it stopped
 */
export function connectContainer(deps: NetworkDeps, req: ConnectRequest): AttachmentInfo[] {
  const made: string[] = [];
  const nets: NetworkOfContainer[] = [];
  try {
    for (const join of req.networks) {
      const before = deps.store.attachmentsOfContainer(req.containerId).length;
      const n = deps.store.attach(
        join.name,
        { containerId: req.containerId, name: req.name, aliases: join.aliases ?? [], ip: join.ip, mac: join.mac },
        true,
      );
      if (deps.store.attachmentsOfContainer(req.containerId).length > before) made.push(n.network.id);
      else if (n.attachment.mac !== undefined) {
        // Set up already: a second setup would fail, and its clean-up take the live interface down.
        throw alreadyExists('DEN1227', `endpoint with name ${req.name} already exists in network ${n.network.name}`);
      }
      nets.push(n);
    }
    // Marked set up (an empty MAC address) before netavark runs: a den killed meanwhile leaves
    // netavark to finish, and the container's rm then tears down what it made.
    for (const n of nets) deps.store.setMac(req.containerId, n.network.id, '');
    const info = setupNetworks(deps.host, req.containerId, req.name, req.netnsPath, nets, req.ports ?? []);
    for (const i of info) deps.store.setMac(req.containerId, i.networkId, i.mac);
    return info;
  } catch (e) {
    // A failed setup was torn down again by the script (nothing was set up before: checked above).
    for (const n of nets) deps.store.setMac(req.containerId, n.network.id, undefined);
    for (const id of made) deps.store.detach(id, req.containerId, req.name);
    throw e;
  }
}

export interface DisconnectRequest {
  containerId: string;
  name: string;
  netnsPath: string;
  /** The networks to leave; all of the container's when left out. */
  networks?: string[];
  ports?: PortMapping[];
}

/**
 * Undoes connectContainer in the namespace: idempotent, and fine after the container exited (the
 * namespace is gone) or crashed. The attachments stay recorded (the container keeps its networks
 * and addresses for its next start); `forgetContainerNetworks` drops them when it is removed.
 */
export function disconnectContainer(deps: NetworkDeps, req: DisconnectRequest): void {
  // Only what is set up: a second call, or one for a container never connected, has nothing to do.
  const all = deps.store.attachmentsOfContainer(req.containerId).filter((n) => n.attachment.mac !== undefined);
  const nets =
    req.networks === undefined
      ? all
      : all.filter((n) => req.networks!.includes(n.network.name) || req.networks!.includes(n.network.id));
  teardownNetworks(deps.host, req.containerId, req.name, req.netnsPath, nets, req.ports ?? []);
  for (const n of nets) deps.store.setMac(req.containerId, n.network.id, undefined);
}

/**
 * A removed container's networks: those still set up torn down (a crashed container's rules and
 * DNS records with them) and all forgotten, even when the teardown fails; rootless, the shared namespace goes with the last
 * container attached. Costs nothing for a container without networks.
 */
export function forgetContainerNetworks(deps: NetworkDeps, containerId: string, name: string): void {
  const all = deps.store.attachmentsOfContainer(containerId);
  if (all.length === 0) return;
  // Set up and never torn down (the container died, or den did): its rules and DNS records remain.
  const live = all.filter((n) => n.attachment.mac !== undefined);
  try {
    teardownNetworks(deps.host, containerId, name, `/nonexistent/den-${containerId}`, live, []);
  } finally {
    deps.store.forgetContainer(containerId);
  }
}

/**
 * `den network connect`: records the attachment; a running container is connected at once (its
 * init's namespace). A container on the host's network, or sharing another's, has no namespace of
 * its own to connect (docker refuses the same).
 */
export function networkConnect(
  ctx: EngineContext,
  networkRef: string,
  containerRef: string,
  options: { aliases: string[]; ip?: string },
): void {
  const c = ctx.containers.resolve(containerRef);
  const mode: string = c.config.network;
  if (mode === 'host' || mode.startsWith('container:')) {
    throw failedPrecondition(
      'DEN1240',
      `container ${c.name}: container sharing network namespace with another container or host cannot be connected to any other network`,
    );
  }
  const deps = networkDeps(ctx);
  const running = c.status === 'running' && c.initPid !== null;
  if (!running) {
    deps.store.attach(networkRef, { containerId: c.id, name: c.name, aliases: options.aliases, ip: options.ip });
    return;
  }
  const network = deps.store.resolve(networkRef);
  if (deps.store.attachmentsOfContainer(c.id).some((n) => n.network.id === network.id)) {
    deps.store.attach(network.id, { containerId: c.id, name: c.name, aliases: [] }); // throws DEN1227
  }
  connectContainer(deps, {
    containerId: c.id,
    name: c.name,
    netnsPath: `/proc/${c.initPid}/ns/net`,
    networks: [{ name: network.id, aliases: options.aliases, ip: options.ip }],
  });
}

/** `den network disconnect`: tears a running container's interface down, then forgets the attachment. */
export function networkDisconnect(ctx: EngineContext, networkRef: string, containerRef: string): void {
  const c = ctx.containers.resolve(containerRef);
  const deps = networkDeps(ctx);
  const network = deps.store.resolve(networkRef);
  const attached = deps.store.attachmentsOfContainer(c.id).some((n) => n.network.id === network.id);
  if (attached && c.status === 'running' && c.initPid !== null) {
    disconnectContainer(deps, {
      containerId: c.id,
      name: c.name,
      netnsPath: `/proc/${c.initPid}/ns/net`,
      networks: [network.id],
    });
  } else if (attached && c.status === 'paused') {
    throw failedPrecondition('DEN1240', `container ${c.name} is paused: unpause it to disconnect it`);
  }
  deps.store.detach(network.id, c.id, c.name);
  reapSharedNamespace(deps.host);
}
