import { invalidArgument } from '../common/errors.js';

/**
 * IPv4 subnets of user-defined networks, as numbers: parsing docker's `--subnet`/`--gateway`
 * strings, overlap, and address allocation. (IPv6 networks are not supported yet: netavark could
 * take them, den's allocation speaks IPv4 only.)
 *
 *   const s = parseSubnet('10.89.0.0/24');     // { base: 0x0a590000, prefix: 24 }
 *   firstHost(s)                                // 10.89.0.1, the default gateway
 *   nextFree(s, ['10.89.0.1', '10.89.0.2'])     // 10.89.0.3
 */
export interface Subnet {
  /** The network address, as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

/** A network's subnet and its gateway, as stored and as netavark takes them. */
export interface SubnetConfig {
  subnet: string;
  gateway: string;
}

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function parseIPv4(text: string): number | undefined {
  if (!IPV4.test(text)) return undefined;
  return text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

/** docker's `--subnet`: a network address and a prefix, nothing set in the host bits. */
export function parseSubnet(text: string): Subnet {
  const m = /^([^/]+)\/([0-9]{1,2})$/.exec(text);
  const base = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (text.includes(':')) {
    throw invalidArgument('DEN1221', `subnet ${text}: IPv6 networks are not supported yet`, {
      hint: 'give an IPv4 subnet such as 10.89.5.0/24',
    });
  }
  if (base === undefined || !(prefix >= 8 && prefix <= 30)) {
    throw invalidArgument('DEN1221', `invalid subnet ${text}`, {
      hint: 'give an IPv4 network in CIDR form with a prefix from /8 to /30, such as 10.89.5.0/24',
    });
  }
  const s = { base, prefix };
  const network = networkAddress(base, prefix);
  if (network !== base) {
    throw invalidArgument('DEN1221', `invalid subnet ${text}: it should be ${formatSubnet({ base: network, prefix })}`);
  }
  return s;
}

function networkAddress(addr: number, prefix: number): number {
  const hostBits = 2 ** (32 - prefix);
  return addr - (addr % hostBits);
}

export function formatSubnet(s: Subnet): string {
  return `${formatIPv4(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, addr: number): boolean {
  return addr >= s.base && addr < s.base + size(s);
}

/** An address a container may have: inside the subnet, neither its network nor its broadcast address. */
export function isHostAddress(s: Subnet, addr: number): boolean {
  return addr > s.base && addr < s.base + size(s) - 1;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

export function firstHost(s: Subnet): string {
  return formatIPv4(s.base + 1);
}

/** The lowest host address of the subnet not in `used`, undefined when the subnet is full. */
export function nextFree(s: Subnet, used: readonly string[]): string | undefined {
  const taken = new Set(used.map((u) => parseIPv4(u)));
  for (let a = s.base + 1; a < s.base + size(s) - 1; a++) {
    if (!taken.has(a)) return formatIPv4(a);
  }
  return undefined;
}

/**
 * The subnet of a new network without `--subnet`: the first free /24 from 10.89.0.0 on, as podman
 * picks them (10.88.0.0/16 is the default network's).
 */
export function freeSubnet(inUse: readonly Subnet[]): Subnet | undefined {
  for (let second = 89; second < 100; second++) {
    for (let third = 0; third < 256; third++) {
      const candidate = { base: parseIPv4(`10.${second}.${third}.0`)!, prefix: 24 };
      if (!inUse.some((u) => overlaps(u, candidate))) return candidate;
    }
  }
  return undefined;
}

/**
 * The address range the shared rootless network namespace itself uses for its way out through
 * pasta (network-namespace.ts): link-local, which no container network may take.
 */
export const ROOTLESS_UPLINK: Subnet = { base: parseIPv4('169.254.0.0')!, prefix: 16 };
