import { invalidArgument } from '../../common/errors.js';
import type { NetworkRequest } from '../../containers/index.js';
import { DEFAULT_NETWORK, isValidNetworkName, RESERVED_NETWORK_NAMES, type UserNetwork } from '../../network/index.js';
import type { EngineContext } from '../context.js';

/** `den network create` as the engine takes it: docker's flags, parsed. */
export interface NetworkCreateSpec {
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** The -o options den takes: netavark's bridge options (mtu) and den's own switch for DNS. */
const OPTIONS = ['mtu', 'dns_enabled'];

export function createNetwork(ctx: EngineContext, spec: NetworkCreateSpec): UserNetwork {
  if (!isValidNetworkName(spec.name) || RESERVED_NETWORK_NAMES.includes(spec.name)) {
    throw invalidArgument('DEN1236', `network name ${JSON.stringify(spec.name)} is not allowed`, {
      hint: RESERVED_NETWORK_NAMES.includes(spec.name)
        ? `${spec.name} is a network mode, not a network: choose another name`
        : 'a name starts with a letter or digit and holds only letters, digits, _ . -',
    });
  }
  if (spec.driver !== 'bridge') {
    throw invalidArgument('DEN1237', `network driver ${spec.driver} is not supported`, {
      hint: 'den has the bridge driver only (-d bridge, the default)',
    });
  }
  for (const key of Object.keys(spec.options)) {
    if (!OPTIONS.includes(key)) {
      throw invalidArgument('DEN1237', `network option ${key} is not supported`, {
        hint: `den takes -o ${OPTIONS.map((o) => `${o}=...`).join(', -o ')}`,
      });
    }
  }
  const { dns_enabled: dns, ...options } = spec.options;
  if (dns !== undefined && dns !== 'true' && dns !== 'false') {
    throw invalidArgument('DEN1237', `network option dns_enabled=${dns}: not true or false`);
  }
  if (options.mtu !== undefined && !/^[1-9][0-9]{2,4}$/.test(options.mtu)) {
    throw invalidArgument('DEN1237', `network option mtu=${options.mtu}: not a number of bytes from 100 to 99999`);
  }
  const req: NetworkRequest = {
    name: spec.name,
    subnet: spec.subnet,
    gateway: spec.gateway,
    internal: spec.internal,
    // As docker's user networks: containers find each other by name, unless asked otherwise.
    dnsEnabled: dns !== 'false',
    labels: spec.labels,
    options,
  };
  return ctx.networks.create(req);
}

/** docker's `network inspect` object (Engine API NetworkResource). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string>; Config: { Subnet: string; Gateway: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<
    string,
    { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }
  >;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export function inspectNetwork(ctx: EngineContext, ref: string): NetworkResource {
  const n = ctx.networks.resolve(ref);
  const prefix = n.subnets[0]!.subnet.split('/')[1];
  const containers: NetworkResource['Containers'] = {};
  for (const a of ctx.networks.attachmentsOf(n.id)) {
    containers[a.containerId] = {
      Name: ctx.containers.get(a.containerId)?.name ?? a.name,
      EndpointID: '',
      MacAddress: a.mac ?? '',
      IPv4Address: `${a.ip}/${prefix}`,
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: n.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway })) },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...n.options, ...(n.name === DEFAULT_NETWORK ? {} : { dns_enabled: String(n.dnsEnabled) }) },
    Labels: n.labels,
  };
}

/** `den network ls --filter` keys: docker's. */
export interface NetworkFilters {
  name: string[];
  id: string[];
  driver: string[];
  type: ('custom' | 'builtin')[];
  label: { key: string; value?: string }[];
  dangling: boolean | undefined;
  /** prune: created before this time (ms). */
  until: number | undefined;
}

const EMPTY_FILTERS: NetworkFilters = {
  name: [],
  id: [],
  driver: [],
  type: [],
  label: [],
  dangling: undefined,
  until: undefined,
};

export function parseNetworkFilters(
  texts: readonly string[],
  keys: readonly (keyof NetworkFilters)[],
  parseTime: (text: string) => number = (t) => Date.parse(t),
): NetworkFilters {
  const f: NetworkFilters = { ...EMPTY_FILTERS, name: [], id: [], driver: [], type: [], label: [] };
  for (const text of texts) {
    const eq = text.indexOf('=');
    const key = text.slice(0, eq) as keyof NetworkFilters;
    const value = text.slice(eq + 1);
    const bad = (why: string) =>
      invalidArgument('DEN1238', `invalid filter '${text}': ${why}`, { hint: `den takes ${keys.join(', ')}` });
    if (eq <= 0) throw bad('not KEY=VALUE');
    if (!keys.includes(key)) throw bad(`no filter ${key}`);
    switch (key) {
      case 'name':
      case 'id':
      case 'driver':
        f[key].push(value);
        break;
      case 'type':
        if (value !== 'custom' && value !== 'builtin') throw bad('type is custom or builtin');
        f.type.push(value);
        break;
      case 'label': {
        const i = value.indexOf('=');
        f.label.push(i < 0 ? { key: value } : { key: value.slice(0, i), value: value.slice(i + 1) });
        break;
      }
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value)) throw bad('dangling is true or false');
        f.dangling = value === 'true' || value === '1';
        break;
      case 'until': {
        const t = parseTime(value);
        if (!Number.isFinite(t)) throw bad('until is not a time');
        f.until = t;
        break;
      }
    }
  }
  return f;
}

function matches(ctx: EngineContext, n: UserNetwork, f: NetworkFilters): boolean {
  if (f.name.length > 0 && !f.name.some((x) => n.name.includes(x))) return false;
  if (f.id.length > 0 && !f.id.some((x) => n.id.startsWith(x))) return false;
  if (f.driver.length > 0 && !f.driver.includes(n.driver)) return false;
  const builtin = n.name === DEFAULT_NETWORK;
  if (f.type.length > 0 && !f.type.includes(builtin ? 'builtin' : 'custom')) return false;
  for (const l of f.label) {
    if (!(l.key in n.labels) || (l.value !== undefined && n.labels[l.key] !== l.value)) return false;
  }
  if (f.dangling !== undefined && (ctx.networks.attachmentsOf(n.id).length === 0) !== f.dangling) return false;
  if (f.until !== undefined && Date.parse(n.created) >= f.until) return false;
  return true;
}

export function listNetworks(ctx: EngineContext, filters: NetworkFilters = EMPTY_FILTERS): UserNetwork[] {
  return ctx.networks.list().filter((n) => matches(ctx, n, filters));
}

/** `den network rm`: one network; the store refuses the default network and one in use. */
export function removeNetwork(ctx: EngineContext, ref: string): UserNetwork {
  return ctx.networks.remove(ref);
}

/** `den network prune`: every network (but den) that no container is attached to; the names removed. */
export function pruneNetworks(ctx: EngineContext, filters: NetworkFilters = EMPTY_FILTERS): string[] {
  const removed: string[] = [];
  for (const n of listNetworks(ctx, filters)) {
    if (n.name === DEFAULT_NETWORK || ctx.networks.attachmentsOf(n.id).length > 0) continue;
    try {
      ctx.networks.remove(n.id);
      removed.push(n.name);
    } catch {
      // attached to meanwhile, or removed by another den: not ours to prune
    }
  }
  return removed;
}
