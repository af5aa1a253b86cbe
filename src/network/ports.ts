/**
 * Published ports: docker's `-p [IP:][HOSTPORT:]CPORT[/PROTO]` and `--expose` syntax, the host
 * ports a start takes (a free one where none was named), and the checks that fail a start before
 * anything runs: a host port in use, or below the unprivileged port start for a rootless caller.
 *
 *   const wanted = parsePublish('127.0.0.1:8080:80');          // at create: what was asked
 *   const ports = await takeHostPorts(wanted, { rootless });   // at each start: real host ports
 *   formatPort(ports[0]);                                      // '127.0.0.1:8080->80/tcp'
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { DenError, invalidArgument } from '../common/errors.js';
import { readTextOrEmpty } from '../common/fs.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** One `-p` mapping as asked: a host port range, or any free port (no hostPorts). */
export interface PortRequest {
  /** The host address to listen on; '' for all of them. */
  hostIp: string;
  /** First and last host port; several ports in it for one container port means "one of these". */
  hostPorts?: [number, number];
  containerPort: number;
  protocol: PortProtocol;
}

/** A host port a running container has, as docker's NetworkSettings.Ports shows it. */
export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

const PROTOCOLS = new Set<string>(['tcp', 'udp', 'sctp']);

/** `-p`: one spec, a range giving one request per container port. */
export function parsePublish(spec: string): PortRequest[] {
  const bad = (why: string) =>
    invalidArgument('DEN1203', `invalid port specification "${spec}": ${why}`, {
      hint: 'use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp|/sctp], ports and ranges such as 8000-8010',
    });
  const slash = spec.lastIndexOf('/');
  const protocol = slash >= 0 ? spec.slice(slash + 1) : 'tcp';
  if (!PROTOCOLS.has(protocol)) throw bad(`unknown protocol "${protocol}"`);
  let rest = slash >= 0 ? spec.slice(0, slash) : spec;
  let hostIp = '';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || (v6 && parts.length !== 2)) throw bad('too many colons');
  if (hostIp && !isIp(hostIp)) throw bad(`"${hostIp}" is not an IP address`);
  const containerRange = portRange(parts[parts.length - 1]!);
  if (!containerRange) throw bad('no valid container port');
  const hostText = parts.length === 2 ? parts[0]! : '';
  const hostRange = hostText === '' ? undefined : portRange(hostText);
  if (hostText !== '' && !hostRange) throw bad(`"${hostText}" is not a valid host port`);
  const count = containerRange[1] - containerRange[0] + 1;
  if (hostRange && count > 1 && hostRange[1] - hostRange[0] + 1 !== count) {
    throw bad('the host and container port ranges differ in length');
  }
  const requests: PortRequest[] = [];
  for (let i = 0; i < count; i++) {
    const containerPort = containerRange[0] + i;
    const hostPorts: [number, number] | undefined = !hostRange
      ? undefined
      : count > 1
        ? [hostRange[0] + i, hostRange[0] + i]
        : hostRange;
    requests.push({ hostIp, ...(hostPorts ? { hostPorts } : {}), containerPort, protocol: protocol as PortProtocol });
  }
  return requests;
}

/** `--expose PORT[-PORT][/PROTO]`, and the image's ExposedPorts keys: docker's "80/tcp" form. */
export function parseExpose(spec: string): string[] {
  const [ports = '', protocol = 'tcp', extra] = spec.split('/');
  const range = portRange(ports);
  if (!range || !PROTOCOLS.has(protocol) || extra !== undefined) {
    throw invalidArgument('DEN1204', `invalid exposed port "${spec}"`, { hint: 'use PORT[-PORT][/tcp|/udp|/sctp]' });
  }
  const keys: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) keys.push(`${p}/${protocol}`);
  return keys;
}

function portRange(text: string): [number, number] | undefined {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return undefined;
  return [from, to];
}

function isIp(text: string): boolean {
  return /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(text) || (text.includes(':') && /^[0-9a-fA-F:.]+$/.test(text));
}

/** docker's key of a container port in NetworkSettings.Ports and Config.ExposedPorts. */
export function portKey(p: { containerPort: number; protocol: PortProtocol }): string {
  return `${p.containerPort}/${p.protocol}`;
}

/** `-P`: every exposed port to a free host port on all addresses. */
export function publishAllRequests(exposed: readonly string[]): PortRequest[] {
  return exposed.map((key) => {
    const [port, protocol] = key.split('/');
    return { hostIp: '', containerPort: Number(port), protocol: (protocol ?? 'tcp') as PortProtocol };
  });
}

/** The lowest port an unprivileged process may bind (net.ipv4.ip_unprivileged_port_start). */
export function unprivilegedPortStart(): number {
  const value = Number(readTextOrEmpty('/proc/sys/net/ipv4/ip_unprivileged_port_start').trim());
  return Number.isInteger(value) && value >= 0 ? value : 1024;
}

/**
 * The host ports of one start: a named port is checked free, a range gives its first free port, and
 * no port gives one the kernel picks. Rootless, a port below the unprivileged start is refused
 * (den's network helpers run as the caller). Ports are only probed and released again: the
 * network helper binds them a moment later, so a race with another program is possible, and then
 * the helper's own error stops the start.
 */
export async function takeHostPorts(
  requests: readonly PortRequest[],
  options: { rootless: boolean; containerName: string },
): Promise<PublishedPort[]> {
  const floor = options.rootless ? unprivilegedPortStart() : 0;
  const taken = new Set<string>();
  const published: PublishedPort[] = [];
  for (const r of requests) {
    if (r.protocol === 'sctp') {
      throw new DenError(
        'FailedPrecondition',
        'DEN1205',
        `cannot publish ${portKey(r)}: den's user-mode networks carry TCP and UDP only`,
        {
          hint: 'publish the port as tcp or udp, or run as root on a user network',
        },
      );
    }
    let hostPort: number | undefined;
    if (!r.hostPorts) {
      hostPort = await freePort(r.protocol, r.hostIp);
    } else {
      const [from, to] = r.hostPorts;
      if (from < floor) {
        throw new DenError(
          'FailedPrecondition',
          'DEN1206',
          `cannot publish host port ${from}: ports below ${floor} need privileges a rootless user has not (net.ipv4.ip_unprivileged_port_start)`,
          {
            hint: `publish a port of ${floor} or above (-p ${floor + (from % 1000)}:${r.containerPort}), or as root: sysctl -w net.ipv4.ip_unprivileged_port_start=${from}`,
          },
        );
      }
      for (let p = from; p <= to && hostPort === undefined; p++) {
        const key = `${r.protocol}:${r.hostIp}:${p}`;
        if (!taken.has(key) && (await portIsFree(r.protocol, r.hostIp, p))) hostPort = p;
      }
      if (hostPort === undefined) {
        const ports = from === to ? `${from}` : `${from}-${to}`;
        throw new DenError(
          'FailedPrecondition',
          'DEN1207',
          `container ${options.containerName}: cannot publish ${r.hostIp || '0.0.0.0'}:${ports}/${r.protocol}: address already in use`,
          {
            hint: 'stop what listens there (ss -ltnup shows it), or publish another host port',
          },
        );
      }
    }
    taken.add(`${r.protocol}:${r.hostIp}:${hostPort}`);
    published.push({ hostIp: r.hostIp, hostPort, containerPort: r.containerPort, protocol: r.protocol });
  }
  return published;
}

async function portIsFree(protocol: PortProtocol, hostIp: string, port: number): Promise<boolean> {
  try {
    await (protocol === 'udp' ? bindUdp(hostIp, port) : listenTcp(hostIp, port));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') return false;
    if (code === 'EADDRNOTAVAIL') {
      throw new DenError('FailedPrecondition', 'DEN1208', `cannot publish on ${hostIp}: the host has no such address`, {
        hint: 'name an address of this host (ip -br addr), or none for all of them',
      });
    }
    throw e;
  }
}

async function freePort(protocol: PortProtocol, hostIp: string): Promise<number> {
  return protocol === 'udp' ? bindUdp(hostIp, 0) : listenTcp(hostIp, 0);
}

/** Listens and closes again; resolves with the port. Node's exclusive listen sees any listener. */
function listenTcp(hostIp: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: hostIp || '0.0.0.0', port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

function bindUdp(hostIp: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(hostIp.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind({ address: hostIp || '0.0.0.0', port, exclusive: true }, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/** docker's form of one mapping in `ps` and `port`: 0.0.0.0:8080->80/tcp. */
export function formatPort(p: PublishedPort): string {
  return `${hostAddress(p.hostIp)}:${p.hostPort}->${portKey(p)}`;
}

/** The address docker prints for a mapping: 0.0.0.0 for all, [v6] bracketed. */
export function hostAddress(hostIp: string): string {
  if (!hostIp) return '0.0.0.0';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}

/** ps's PORTS column: the published mappings, then exposed ports without one. */
export function formatPortsColumn(published: readonly PublishedPort[], exposed: readonly string[]): string {
  const mapped = new Set(published.map(portKey));
  // A port on all addresses is listed for IPv4 and IPv6, as docker lists it.
  const both = published.flatMap((p) =>
    p.hostIp ? [formatPort(p)] : [formatPort(p), `:::${p.hostPort}->${portKey(p)}`],
  );
  return [...both, ...exposed.filter((k) => !mapped.has(k))].join(', ');
}
