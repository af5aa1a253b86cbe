import { readTextOrEmpty } from '../common/fs.js';

/**
 * The /etc/hosts, /etc/hostname and /etc/resolv.conf den writes for a container and bind-mounts in,
 * so the image's own files stay untouched and every container gets its own.
 */

/** What a container's /etc/hosts holds beyond loopback. */
export interface HostsInput {
  hostname: string;
  /** The host's network: the host's own /etc/hosts comes first. */
  hostNetwork: boolean;
  /** The container's own address, named by its hostname; absent: 127.0.1.1, as Debian does. */
  address?: string;
  /** host.containers.internal and host.docker.internal; absent: the container cannot reach the host. */
  hostAddress?: string;
  /** --add-host NAME:ADDRESS, last. */
  extraHosts?: readonly { name: string; address: string }[];
}

export function hostsFile(input: HostsInput): string {
  const lines: string[] = [];
  if (input.hostNetwork) {
    lines.push(readTextOrEmpty('/etc/hosts').trimEnd());
  } else {
    lines.push('127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback');
  }
  lines.push(`${input.address ?? '127.0.1.1'}\t${input.hostname}`);
  if (input.hostAddress) lines.push(`${input.hostAddress}\thost.containers.internal host.docker.internal`);
  for (const h of input.extraHosts ?? []) lines.push(`${h.address}\t${h.name}`);
  return lines.filter(Boolean).join('\n') + '\n';
}

/** --dns, --dns-search, --dns-option: each replaces the host's (docker's rule). */
export interface ResolvInput {
  /** Nameservers the network gives (pasta's and slirp4netns's forwarder); absent: the host's. */
  networkNameservers?: readonly string[];
  dns?: readonly string[];
  dnsSearch?: readonly string[];
  dnsOptions?: readonly string[];
}

export function resolvConf(input: ResolvInput = {}): string {
  const host = parseResolvConf(readTextOrEmpty('/etc/resolv.conf'));
  const nameservers = input.dns?.length ? input.dns : (input.networkNameservers ?? host.nameservers);
  // docker: `--dns-search .` means no search domains.
  const search = input.dnsSearch?.length ? input.dnsSearch.filter((d) => d !== '.') : host.search;
  const options = input.dnsOptions?.length ? input.dnsOptions : host.options;
  const lines = [
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    ...nameservers.map((n) => `nameserver ${n}`),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ];
  return lines.length ? lines.join('\n') + '\n' : '';
}

export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const result = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) result.nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') result.search = values;
    else if (key === 'options') result.options.push(...values);
  }
  return result;
}

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

const HOSTNAME = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

export function isValidHostname(name: string): boolean {
  return HOSTNAME.test(name);
}
