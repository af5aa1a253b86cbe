/**
 * The syntax of docker's name-resolution flags, for the CLI and an API server alike: --add-host,
 * --dns and --mac-address.
 */
import { invalidArgument } from '../common/errors.js';
import { isIP } from 'node:net';

/** --add-host NAME:ADDRESS (or NAME=ADDRESS); ADDRESS an IP or `host-gateway`. */
export function parseAddHost(spec: string): { name: string; address: string } {
  const at = /^[^:=]+[:=]/.exec(spec);
  const name = at ? at[0].slice(0, -1) : '';
  const address = at ? spec.slice(at[0].length).replace(/^\[(.*)\]$/, '$1') : '';
  if (
    !name ||
    !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(name) ||
    (address !== 'host-gateway' && !isIP(address))
  ) {
    throw invalidArgument('DEN1215', `invalid --add-host "${spec}"`, {
      hint: 'use NAME:IP (an IPv4 or IPv6 address) or NAME:host-gateway',
    });
  }
  return { name, address };
}

/** --dns: a nameserver's address. */
export function parseDnsServer(address: string): string {
  if (!isIP(address)) {
    throw invalidArgument('DEN1215', `invalid --dns "${address}": not an IP address`, { hint: 'use --dns 192.0.2.53' });
  }
  return address;
}

/** --mac-address: six hexadecimal octets, unicast. */
export function parseMacAddress(mac: string): string {
  const m = /^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$/.exec(mac);
  if (!m || (parseInt(m[1]!, 16) & 1) === 1) {
    throw invalidArgument('DEN1215', `invalid --mac-address "${mac}"`, {
      hint: 'use six unicast octets such as 02:42:ac:11:00:02',
    });
  }
  return mac.toLowerCase();
}
