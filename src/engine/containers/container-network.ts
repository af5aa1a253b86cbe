import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DenError, failedPrecondition, invalidArgument } from '../../common/errors.js';
import { findExecutable, runSync } from '../../common/exec.js';
import { readTextOrEmpty } from '../../common/fs.js';
import { isActive, type ContainerNetworking, type ContainerRecord } from '../../containers/index.js';
import type { ImageRecord } from '../../images/index.js';
import {
  connectsNamespace,
  formatNetworkMode,
  HELPER_LOG_FILE,
  HELPER_PID_FILE,
  NETNS_FILE,
  hostsFile,
  networkDriver,
  parseExpose,
  parseNetworkMode,
  resolvConf,
  publishAllRequests,
  recordedNetworkMode,
  takeHostPorts,
  type NetworkDriver,
  type NetworkMode,
  type NetworkRequest,
  type AttachmentInfo,
  type PublishedPort,
  type UserModeSetup,
} from '../../network/index.js';
import { connectContainer, disconnectContainer, networkDeps } from '../networks/connect-container.js';
import { lowerMountsDir, unmountRootfs } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';

/**
 * A container's network from the engine's side: the mode and settings resolved at create, and at
 * each start the host ports taken and the shell that connects the namespace (network/). What a
 * start took is kept in the bundle (ports.json), for ps, inspect and `den port`; the helper's pid
 * and messages are kept beside it (network/user-mode.ts).
 */

/** What the caller asked of the network, parsed (the CLI's flags, an API request's JSON). */
export interface NetworkSpec {
  mode: NetworkRequest;
  settings?: Partial<ContainerNetworking>;
}

/**
 * The default network: DEN_NETWORK's or den.conf's if set (engine config), else pasta, else
 * slirp4netns; rootless and as root alike. slirp4netns is the lighter one (3 MB resident per
 * container against pasta's 29 MB here), pasta the faster (docs/networking.md).
 */
export function defaultNetwork(ctx: EngineContext): NetworkMode {
  const configured = ctx.config.defaultNetwork;
  if (configured) {
    const mode = parseNetworkMode(configured);
    if (mode.kind !== 'default') return mode; // config-files.ts refused the rest
  }
  if (findExecutable('pasta', ctx.config.searchPath)) return { kind: 'pasta', options: [] };
  if (findExecutable('slirp4netns', ctx.config.searchPath)) {
    return { kind: 'slirp4netns', options: { allowHostLoopback: false, enableIpv6: false } };
  }
  throw failedPrecondition(
    'DEN1210',
    'no network helper for the default network: neither pasta nor slirp4netns is in PATH',
    {
      hint: 'apt-get install passt (or slirp4netns); or run with --network host or --network none',
    },
  );
}

/**
 * At create: the mode as it will be recorded (the default resolved, `container:NAME` made an id)
 * and the settings with the image's exposed ports. Conflicts docker refuses are refused here.
 */
export function resolveNetwork(
  ctx: EngineContext,
  spec: NetworkSpec,
  image: ImageRecord,
): { network: string; networking: ContainerNetworking } {
  let mode: NetworkMode = spec.mode.kind === 'default' ? defaultNetwork(ctx) : spec.mode;
  const s = spec.settings ?? {};
  if (mode.kind === 'container') {
    const other = ctx.containers.resolve(mode.container);
    const otherMode = recordedNetworkMode(other.config.network);
    // Joining a container that joined another is joining that other.
    mode = otherMode.kind === 'container' ? otherMode : { kind: 'container', container: other.id };
    if (s.ports?.length || s.publishAll) {
      throw invalidArgument('DEN1211', 'conflicting options: port publishing and the container network mode', {
        hint: `publish the ports on ${other.name}, whose network this container shares`,
      });
    }
  }
  if (mode.kind === 'network') {
    ctx.networks.resolve(mode.name); // a network den does not know fails now, not at start
    if (ctx.paths.rootless && (s.ports?.length || s.publishAll)) {
      throw failedPrecondition(
        'DEN1217',
        `cannot publish ports on network ${mode.name} rootless: nothing forwards the host's ports into the user networks' namespace yet`,
        {
          hint: 'publish them on the default network (leave out --network), or run as root',
        },
      );
    }
  }
  const exposed = new Set(Object.keys(image.config.config?.ExposedPorts ?? {}).flatMap((k) => parseExpose(k)));
  for (const key of s.exposed ?? []) exposed.add(key);
  for (const p of s.ports ?? []) exposed.add(`${p.containerPort}/${p.protocol}`);
  if ((s.ports?.length || s.publishAll) && !connectsNamespace(mode)) {
    ctx.events.warning(`published ports are discarded with the ${mode.kind} network mode`);
  }
  return {
    network: formatNetworkMode(mode),
    networking: {
      ports: s.ports ?? [],
      exposed: [...exposed],
      publishAll: s.publishAll ?? false,
      dns: s.dns ?? [],
      dnsSearch: s.dnsSearch ?? [],
      dnsOptions: s.dnsOptions ?? [],
      extraHosts: s.extraHosts ?? [],
      ...(s.macAddress ? { macAddress: s.macAddress } : {}),
      aliases: s.aliases ?? [],
    },
  };
}

/** The driver of a recorded container; `container:` modes find the other's namespace. */
export function networkOf(ctx: EngineContext, c: ContainerRecord): NetworkDriver {
  return networkDriver(recordedNetworkMode(c.config.network), () => joinedNamespace(ctx, c));
}

/** The /etc files' input of a container. */
export function etcInputOf(c: ContainerRecord) {
  const n = c.config.networking;
  return {
    hostname: c.config.hostname,
    ...(n ? { dns: n.dns, dnsSearch: n.dnsSearch, dnsOptions: n.dnsOptions, extraHosts: n.extraHosts } : {}),
  };
}

/**
 * The namespace a `container:ID` container joins: the other's while it runs. Docker refuses to
 * start one whose other is not running, and so does den.
 */
function joinedNamespace(ctx: EngineContext, c: ContainerRecord): string {
  const mode = recordedNetworkMode(c.config.network);
  if (mode.kind !== 'container') return '';
  const other = ctx.containers.get(mode.container);
  if (!other) {
    throw failedPrecondition('DEN1212', `container ${c.name}: the container whose network it joins is gone`, {
      hint: 'remove this container and create it again with another --network',
    });
  }
  const pid = Number(readTextOrEmpty(ctx.layout.bundle(other.id).pid).trim());
  if (other.status !== 'running' || !(pid > 0)) {
    throw failedPrecondition('DEN1213', `cannot join the network of ${other.name}: it is not running`, {
      hint: `start it first (den start ${other.name})`,
    });
  }
  const otherMode = recordedNetworkMode(other.config.network);
  return connectsNamespace(otherMode) ? join(lowerMountsDir(ctx, other.id), NETNS_FILE) : `/proc/${pid}/ns/net`;
}

/** Where a container's network pieces live. */
export function networkFiles(ctx: EngineContext, c: ContainerRecord) {
  const b = ctx.layout.bundle(c.id);
  return {
    netnsFile: join(lowerMountsDir(ctx, c.id), NETNS_FILE),
    pidFile: join(b.dir, HELPER_PID_FILE),
    logFile: join(b.dir, HELPER_LOG_FILE),
    // A socket's path has at most 107 bytes: under the runtime directory, by the id's short form.
    apiSocket: join(ctx.paths.runtimeDir, 'slirp4netns', `${c.id.slice(0, 12)}.sock`),
    portsFile: join(b.dir, 'ports.json'),
    /** What a start's connect to a user network gave (address, gateway, MAC), for inspect. */
    attachmentsFile: join(b.dir, 'networks.json'),
  };
}

/**
 * At a start, before anything runs: the host ports (a port in use fails here, nothing made yet),
 * recorded for ps and inspect, and the shell that makes and connects the namespace.
 */
export async function prepareNetwork(
  ctx: EngineContext,
  c: ContainerRecord,
): Promise<{ script: string; setup: UserModeSetup; driver: NetworkDriver }> {
  const driver = networkOf(ctx, c);
  const files = networkFiles(ctx, c);
  const n = c.config.networking;
  let ports: PublishedPort[] = [];
  if (n && connectsNamespace(driver.mode)) {
    const requests = [
      ...n.ports,
      ...(n.publishAll
        ? publishAllRequests(n.exposed.filter((k) => !n.ports.some((p) => `${p.containerPort}/${p.protocol}` === k)))
        : []),
    ];
    ports = await takeHostPorts(requests, { rootless: ctx.paths.rootless, containerName: c.name });
  }
  writeFileSync(files.portsFile, JSON.stringify(ports));
  const setup: UserModeSetup = {
    netnsFile: files.netnsFile,
    pidFile: files.pidFile,
    logFile: files.logFile,
    apiSocket: files.apiSocket,
    ports,
    ...(n?.macAddress ? { macAddress: n.macAddress } : {}),
    ...(ctx.paths.rootless ? {} : { runAsRoot: true }),
  };
  const script = driver.setup(setup);
  if (script) mkdirSync(lowerMountsDir(ctx, c.id), { recursive: true, mode: 0o700 });
  if (driver.mode.kind === 'slirp4netns' && ports.length) {
    mkdirSync(dirname(files.apiSocket), { recursive: true, mode: 0o700 });
    rmSync(files.apiSocket, { force: true }); // one a killed helper left
  }
  return { script, setup, driver };
}

/**
 * Runs the setup shell on its own, in the storage's namespaces, for a start whose runtime cannot
 * run it (an attached run whose network den must finish first); a failure leaves nothing mounted.
 */
export function connectNetwork(ctx: EngineContext, c: ContainerRecord, script: string): void {
  const r = runSync(ctx.ns.wrap(['sh', '-c', script]));
  if (r.status !== 0) {
    unmountRootfs(ctx, c.id);
    throw networkSetupFailed(ctx, c, r.stderr.trim() || `status ${r.status}`);
  }
}

/** After the setup shell failed: what the helper said, as an error that names the container. */
export function networkSetupFailed(ctx: EngineContext, c: ContainerRecord, fallback: string): DenError {
  const said = readTextOrEmpty(networkFiles(ctx, c).logFile)
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('Failed to send'))
    .join('; ');
  return failedPrecondition(
    'DEN1214',
    `container ${c.name}: cannot connect it to its network (${c.config.network}): ${said || fallback}`,
    {
      hint: 'see `den system check` for pasta, slirp4netns and /dev/net/tun',
    },
  );
}

/** The host ports a running container has (what its last start took); none once it stopped. */
export function publishedPorts(ctx: EngineContext, c: ContainerRecord): PublishedPort[] {
  return isActive(c.status) ? lastPorts(ctx, c) : [];
}

function lastPorts(ctx: EngineContext, c: ContainerRecord): PublishedPort[] {
  try {
    return JSON.parse(readFileSync(networkFiles(ctx, c).portsFile, 'utf8')) as PublishedPort[];
  } catch {
    return [];
  }
}

const asPortMappings = (ports: readonly PublishedPort[]) => ports.map((p) => ({ ...p, range: 1 }));

/**
 * A user network's container, after the setup shell made its namespace and before it runs: the
 * network store records the attachment (its address), netavark connects it, and /etc/hosts and
 * /etc/resolv.conf are written again with the address and the network's DNS server.
 */
export function connectUserNetworks(ctx: EngineContext, c: ContainerRecord, setup: UserModeSetup): void {
  const mode = recordedNetworkMode(c.config.network);
  if (mode.kind !== 'network') return;
  const info = connectContainer(networkDeps(ctx), {
    containerId: c.id,
    name: c.name,
    netnsPath: setup.netnsFile,
    networks: [{ name: mode.name, aliases: c.config.networking?.aliases ?? [] }],
    ports: asPortMappings(setup.ports),
  });
  const first = info[0];
  const etc = etcInputOf(c);
  const b = ctx.layout.bundle(c.id);
  writeFileSync(
    b.hosts,
    hostsFile({
      hostname: c.config.hostname,
      hostNetwork: false,
      ...(first ? { address: first.ip } : {}),
      extraHosts: (etc.extraHosts ?? []).filter((h) => h.address !== 'host-gateway'),
    }),
  );
  writeFileSync(
    b.resolvConf,
    resolvConf({
      ...etc,
      ...(first?.dnsServers.length ? { networkNameservers: first.dnsServers } : {}),
      ...(first?.dnsSearch.length && !etc.dnsSearch?.length ? { dnsSearch: first.dnsSearch } : {}),
    }),
  );
  writeFileSync(networkFiles(ctx, c).attachmentsFile, JSON.stringify(info));
}

/** What the last connect to user networks gave, while the container runs (inspect). */
export function userNetworkAttachments(ctx: EngineContext, c: ContainerRecord): AttachmentInfo[] {
  if (!isActive(c.status)) return [];
  try {
    return JSON.parse(readFileSync(networkFiles(ctx, c).attachmentsFile, 'utf8')) as AttachmentInfo[];
  } catch {
    return [];
  }
}

/**
 * After a container on a user network stopped, or its start failed: netavark takes its interfaces,
 * rules and DNS records down (idempotent; the attachment, and so the address, stays for the next
 * start). A failure is a warning: the record must still move on.
 */
export function releaseUserNetworks(ctx: EngineContext, c: ContainerRecord): void {
  if (recordedNetworkMode(c.config.network).kind !== 'network') return;
  try {
    disconnectContainer(networkDeps(ctx), {
      containerId: c.id,
      name: c.name,
      netnsPath: networkFiles(ctx, c).netnsFile,
      ports: asPortMappings(lastPorts(ctx, c)),
    });
  } catch (e) {
    ctx.events.warning(`container ${c.name}: ${(e as Error).message}`);
  }
}
