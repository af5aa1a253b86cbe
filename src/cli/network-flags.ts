/**
 * `den run` and `den create`'s network flags, in docker's syntax: each value is checked as the
 * flags are parsed (a bad one is a usage error before anything is pulled).
 */
import type { FlagSpec, Parsed } from './flags.js';
import { bool, list, str } from './flags.js';
import {
  parseAddHost,
  parseDnsServer,
  parseExpose,
  parseMacAddress,
  parsePublish,
  type ContainerNetworking,
} from '../engine/index.js';

export const networkFlags: FlagSpec[] = [
  {
    long: 'publish',
    short: 'p',
    type: 'list',
    value: 'list',
    help: "Publish a container's port to the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges allowed",
    check: parsePublish,
  },
  { long: 'publish-all', short: 'P', type: 'bool', help: 'Publish every exposed port to a free host port' },
  { long: 'expose', type: 'list', value: 'list', help: 'Expose a port or a range of ports', check: parseExpose },
  { long: 'dns', type: 'list', value: 'list', help: 'Set custom DNS servers', check: parseDnsServer },
  { long: 'dns-search', type: 'list', value: 'list', help: 'Set custom DNS search domains (. for none)' },
  { long: 'dns-option', type: 'list', value: 'list', help: 'Set DNS options (resolv.conf options)' },
  { long: 'dns-opt', type: 'list', value: 'list', help: 'Alias of --dns-option' },
  {
    long: 'add-host',
    type: 'list',
    value: 'list',
    help: 'Add a custom host-to-IP mapping (host:ip, host:host-gateway)',
    check: parseAddHost,
  },
  { long: 'mac-address', type: 'string', help: "Container's MAC address (pasta, slirp4netns)", check: parseMacAddress },
  { long: 'network-alias', type: 'list', value: 'list', help: 'Add a network-scoped alias for the container' },
];

export function networkSettingsFromFlags(p: Parsed): Partial<ContainerNetworking> {
  const mac = str(p, 'mac-address');
  return {
    ports: list(p, 'publish').flatMap(parsePublish),
    publishAll: bool(p, 'publish-all'),
    exposed: list(p, 'expose').flatMap(parseExpose),
    dns: list(p, 'dns').map(parseDnsServer),
    dnsSearch: list(p, 'dns-search'),
    dnsOptions: [...list(p, 'dns-option'), ...list(p, 'dns-opt')],
    extraHosts: list(p, 'add-host').map(parseAddHost),
    ...(mac !== undefined ? { macAddress: parseMacAddress(mac) } : {}),
    aliases: list(p, 'network-alias'),
  };
}
