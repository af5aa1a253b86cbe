import { randomBytes } from 'node:crypto';
import { alreadyExists, conflict, failedPrecondition, invalidArgument, notFound } from '../common/errors.js';
import {
  bridgeName,
  DEFAULT_NETWORK,
  firstHost,
  formatIPv4,
  formatSubnet,
  freeSubnet,
  isHostAddress,
  nextFree,
  overlaps,
  parseIPv4,
  parseSubnet,
  ROOTLESS_UPLINK,
  type Attachment,
  type Subnet,
  type UserNetwork,
} from '../network/index.js';
import { writeTransaction, type Db } from '../state/index.js';

/** A network as `den network create` asks for it; the store fills in what is left out. */
export interface NetworkRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  dnsEnabled: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** One container joining one network (`den network connect`, `den run --network`). */
export interface AttachRequest {
  containerId: string;
  /** The container's name, resolved by the network's DNS. */
  name: string;
  aliases: string[];
  /** A fixed address (--ip); else the lowest free one. */
  ip?: string;
  mac?: string;
}

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  interface: string;
  subnets: string;
  internal: number;
  dns_enabled: number;
  labels: string;
  options: string;
  created_at: string;
}

interface AttachmentRow {
  container_id: string;
  network_id: string;
  name: string;
  aliases: string;
  ip: string;
  mac: string | null;
  static_mac: string | null;
  interface: string;
}

function toNetwork(r: NetworkRow): UserNetwork {
  return {
    id: r.id,
    name: r.name,
    driver: 'bridge',
    interface: r.interface,
    subnets: JSON.parse(r.subnets) as UserNetwork['subnets'],
    internal: r.internal === 1,
    dnsEnabled: r.dns_enabled === 1,
    labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    created: r.created_at,
  };
}

function toAttachment(r: AttachmentRow): Attachment {
  return {
    containerId: r.container_id,
    networkId: r.network_id,
    name: r.name,
    aliases: JSON.parse(r.aliases) as string[],
    ip: r.ip,
    mac: r.mac ?? undefined,
    staticMac: r.static_mac ?? undefined,
    interface: r.interface,
  };
}

/**
 * User-defined networks and the containers attached to them (tables networks and
 * network_attachments). Addresses are allocated as id ranges are (id-range-store.ts): the read of
 * the addresses in use and the insert happen in one write transaction, so two dens never give one
 * address twice; subnets of new networks likewise.
 */
export class NetworkStore {
  constructor(private readonly db: Db) {}

  list(): UserNetwork[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY name').all() as NetworkRow[]).map(toNetwork);
  }

  /** A network by name, full id or unique id prefix, as docker resolves them. */
  find(ref: string): UserNetwork | undefined {
    const byName = this.db.prepare('SELECT * FROM networks WHERE name = ? OR id = ?').get(ref, ref) as
      NetworkRow | undefined;
    if (byName) return toNetwork(byName);
    if (!/^[0-9a-f]{1,63}$/.test(ref)) return undefined;
    const rows = this.db.prepare("SELECT * FROM networks WHERE id LIKE ? || '%'").all(ref) as NetworkRow[];
    return rows.length === 1 ? toNetwork(rows[0]!) : undefined;
  }

  resolve(ref: string): UserNetwork {
    const n = this.find(ref);
    if (!n) {
      throw notFound('DEN1222', `network ${ref} not found`, {
        hint: 'see `den network ls` for the networks there are',
      });
    }
    return n;
  }

  create(req: NetworkRequest): UserNetwork {
    return writeTransaction(this.db, () => {
      if (this.db.prepare('SELECT 1 FROM networks WHERE name = ?').get(req.name)) {
        throw alreadyExists('DEN1220', `network with name ${req.name} already exists`, {
          hint: 'choose another name, or remove the network first (`den network rm`)',
        });
      }
      const taken = this.list().map((n) => ({ name: n.name, subnet: parseSubnet(n.subnets[0]!.subnet) }));
      let subnet: Subnet;
      if (req.subnet !== undefined) {
        subnet = parseSubnet(req.subnet);
        const clash = taken.find((t) => overlaps(t.subnet, subnet));
        if (clash) {
          throw conflict(
            'DEN1223',
            `subnet ${formatSubnet(subnet)} overlaps with network ${clash.name} (${formatSubnet(clash.subnet)})`,
            { hint: 'choose a subnet that no other network uses (`den network inspect` shows theirs)' },
          );
        }
        if (overlaps(ROOTLESS_UPLINK, subnet)) {
          throw conflict('DEN1223', `subnet ${formatSubnet(subnet)} overlaps with link-local 169.254.0.0/16`, {
            hint: "den's shared network namespace uses link-local addresses for its way out; choose another subnet",
          });
        }
      } else {
        const found = freeSubnet(taken.map((t) => t.subnet));
        if (!found) throw conflict('DEN1223', 'no free subnet is left in 10.89.0.0-10.99.255.0/24');
        subnet = found;
      }
      let gateway = firstHost(subnet);
      if (req.gateway !== undefined) {
        const g = parseIPv4(req.gateway);
        if (g === undefined || !isHostAddress(subnet, g)) {
          throw invalidArgument(
            'DEN1224',
            `gateway ${req.gateway} is not a host address of subnet ${formatSubnet(subnet)}`,
          );
        }
        gateway = formatIPv4(g);
      }
      const id = randomBytes(32).toString('hex');
      const created = new Date().toISOString();
      this.db
        .prepare('INSERT INTO networks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(
          id,
          req.name,
          'bridge',
          bridgeName(id, req.name),
          JSON.stringify([{ subnet: formatSubnet(subnet), gateway }]),
          req.internal ? 1 : 0,
          req.dnsEnabled ? 1 : 0,
          JSON.stringify(req.labels),
          JSON.stringify(req.options),
          created,
        );
      return this.resolve(id);
    });
  }

  /** Removes a network nothing is attached to; the default network stays. */
  remove(ref: string): UserNetwork {
    return writeTransaction(this.db, () => {
      const n = this.resolve(ref);
      if (n.name === DEFAULT_NETWORK) {
        throw invalidArgument('DEN1226', `${n.name} is a pre-defined network and cannot be removed`);
      }
      const users = this.attachmentsOf(n.id);
      if (users.length > 0) {
        throw conflict('DEN1225', `error while removing network: network ${n.name} id ${n.id} has active endpoints`, {
          hint: `disconnect or remove its containers first: ${users.map((u) => u.name).join(', ')}`,
        });
      }
      this.db.prepare('DELETE FROM networks WHERE id = ?').run(n.id);
      return n;
    });
  }

  /** The attachments of one network. */
  attachmentsOf(networkId: string): Attachment[] {
    return (
      this.db
        .prepare('SELECT * FROM network_attachments WHERE network_id = ? ORDER BY ip')
        .all(networkId) as AttachmentRow[]
    ).map(toAttachment);
  }

  /** A container's attachments, with their networks, in the order of their interfaces. */
  attachmentsOfContainer(containerId: string): { network: UserNetwork; attachment: Attachment }[] {
    const rows = this.db
      .prepare('SELECT * FROM network_attachments WHERE container_id = ? ORDER BY interface')
      .all(containerId) as AttachmentRow[];
    return rows
      .map(toAttachment)
      .map((attachment) => ({ network: this.resolve(attachment.networkId), attachment }))
      .sort((a, b) => Number(a.attachment.interface.slice(3)) - Number(b.attachment.interface.slice(3)));
  }

  /**
   * Attaches a container to a network: its next interface (eth0, eth1, ...) and an address, the one
   * asked for or the lowest free one. An existing attachment is an error unless `reuse` (a container
   * that starts again keeps its address).
   */
  attach(networkRef: string, req: AttachRequest, reuse = false): { network: UserNetwork; attachment: Attachment } {
    return writeTransaction(this.db, () => {
      const network = this.resolve(networkRef);
      const existing = this.db
        .prepare('SELECT * FROM network_attachments WHERE container_id = ? AND network_id = ?')
        .get(req.containerId, network.id) as AttachmentRow | undefined;
      if (existing) {
        if (reuse) return { network, attachment: toAttachment(existing) };
        throw alreadyExists('DEN1227', `endpoint with name ${req.name} already exists in network ${network.name}`);
      }
      const subnet = parseSubnet(network.subnets[0]!.subnet);
      const gateway = network.subnets[0]!.gateway;
      const used = this.attachmentsOf(network.id).map((a) => a.ip);
      let ip: string;
      if (req.ip !== undefined) {
        const addr = parseIPv4(req.ip);
        if (addr === undefined || !isHostAddress(subnet, addr) || formatIPv4(addr) === gateway) {
          throw invalidArgument(
            'DEN1228',
            `address ${req.ip} is not one network ${network.name} can give (${formatSubnet(subnet)}, gateway ${gateway})`,
          );
        }
        ip = formatIPv4(addr);
        if (used.includes(ip)) {
          throw conflict('DEN1229', `address ${ip} is already in use on network ${network.name}`, {
            hint: 'leave --ip out to get a free address',
          });
        }
      } else {
        const free = nextFree(subnet, [gateway, ...used]);
        if (!free)
          throw failedPrecondition(
            'DEN1234',
            `network ${network.name} has no free address left in ${formatSubnet(subnet)}`,
          );
        ip = free;
      }
      const interfaces = new Set(
        (
          this.db.prepare('SELECT interface FROM network_attachments WHERE container_id = ?').all(req.containerId) as {
            interface: string;
          }[]
        ).map((r) => r.interface),
      );
      let n = 0;
      while (interfaces.has(`eth${n}`)) n++;
      this.db
        .prepare(
          'INSERT INTO network_attachments (container_id, network_id, name, aliases, ip, static_mac, interface) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(req.containerId, network.id, req.name, JSON.stringify(req.aliases), ip, req.mac ?? null, `eth${n}`);
      return {
        network,
        attachment: {
          containerId: req.containerId,
          networkId: network.id,
          name: req.name,
          aliases: req.aliases,
          ip,
          mac: undefined,
          staticMac: req.mac,
          interface: `eth${n}`,
        },
      };
    });
  }

  /**
   * The MAC address netavark gave the container's interface, for inspect; undefined once it is torn
   * down. An attachment with a MAC address is one that is set up (or was, when its container died).
   */
  setMac(containerId: string, networkId: string, mac: string | undefined): void {
    this.db
      .prepare('UPDATE network_attachments SET mac = ? WHERE container_id = ? AND network_id = ?')
      .run(mac ?? null, containerId, networkId);
  }

  /** Detaches a container from a network; an error when it is not attached. */
  detach(networkRef: string, containerId: string, containerName: string): UserNetwork {
    return writeTransaction(this.db, () => {
      const network = this.resolve(networkRef);
      const r = this.db
        .prepare('DELETE FROM network_attachments WHERE container_id = ? AND network_id = ?')
        .run(containerId, network.id);
      if (r.changes === 0) {
        throw notFound('DEN1235', `container ${containerName} is not connected to network ${network.name}`, {
          reason: 'not-attached',
        });
      }
      return network;
    });
  }

  /** Forgets every attachment of a container (it is removed). */
  forgetContainer(containerId: string): void {
    this.db.prepare('DELETE FROM network_attachments WHERE container_id = ?').run(containerId);
  }
}
