/**
 * A container's network mode, as docker's HostConfig.NetworkMode names it: the string is what den
 * records (so inspect shows it as docker does) and `parseNetworkMode` the one reading of it.
 *
 *   none                  a namespace of its own with loopback only
 *   host                  the caller's network
 *   pasta[:OPT,...]       a namespace of its own connected by pasta (rootless default)
 *   slirp4netns[:K=V,...] the same by slirp4netns (the fallback where pasta is missing)
 *   container:ID          another container's namespace
 *   NAME                  a user-defined network (network create)
 *
 * `default` and docker's `bridge` name the default network; the engine resolves them when it
 * creates the container, so a record always holds one of the forms above.
 */
import { invalidArgument } from '../common/errors.js';

export type NetworkMode =
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'pasta'; options: string[] }
  | { kind: 'slirp4netns'; options: Slirp4netnsOptions }
  | { kind: 'container'; container: string }
  | { kind: 'network'; name: string };

/** The options of `--network slirp4netns:...` den honours (podman's names). */
export interface Slirp4netnsOptions {
  /** Lets the container reach the host's loopback at the gateway, 10.0.2.2. */
  allowHostLoopback: boolean;
  mtu?: number;
  enableIpv6: boolean;
}

/** What `--network` may say before the engine resolves the default. */
export type NetworkRequest = NetworkMode | { kind: 'default' };

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseNetworkMode(value: string): NetworkRequest {
  const colon = value.indexOf(':');
  const head = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? undefined : value.slice(colon + 1);
  switch (head) {
    case '':
    case 'default':
    case 'bridge':
      if (rest !== undefined) break;
      return { kind: 'default' };
    case 'none':
    case 'host':
      if (rest !== undefined) break;
      return { kind: head };
    case 'pasta':
      return { kind: 'pasta', options: rest ? rest.split(',').filter(Boolean) : [] };
    case 'slirp4netns':
      return { kind: 'slirp4netns', options: slirpOptions(value, rest) };
    case 'container':
      if (!rest) break;
      return { kind: 'container', container: rest };
    default:
      if (rest === undefined && NAME.test(value)) return { kind: 'network', name: value };
  }
  throw invalidArgument('DEN1201', `invalid network mode "${value}"`, {
    hint: 'use none, host, pasta[:OPTIONS], slirp4netns[:OPTIONS], container:NAME, or a network name',
  });
}

function slirpOptions(value: string, rest: string | undefined): Slirp4netnsOptions {
  const options: Slirp4netnsOptions = { allowHostLoopback: false, enableIpv6: false };
  for (const option of rest ? rest.split(',') : []) {
    const [key, v] = option.split('=', 2);
    const yes = v === 'true' ? true : v === 'false' ? false : undefined;
    if (key === 'allow_host_loopback' && yes !== undefined) options.allowHostLoopback = yes;
    else if (key === 'enable_ipv6' && yes !== undefined) options.enableIpv6 = yes;
    else if (key === 'mtu' && v && /^[0-9]+$/.test(v) && Number(v) >= 1280 && Number(v) <= 65521)
      options.mtu = Number(v);
    else if (key === 'port_handler' && v === 'slirp4netns') continue;
    else {
      throw invalidArgument('DEN1202', `--network ${value}: unknown or invalid slirp4netns option "${option}"`, {
        hint: 'den knows allow_host_loopback=true|false, enable_ipv6=true|false, mtu=1280..65521, port_handler=slirp4netns',
      });
    }
  }
  return options;
}

/** The recorded form (docker's NetworkMode string) of a resolved mode. */
export function formatNetworkMode(mode: NetworkMode): string {
  switch (mode.kind) {
    case 'none':
    case 'host':
      return mode.kind;
    case 'pasta':
      return mode.options.length ? `pasta:${mode.options.join(',')}` : 'pasta';
    case 'slirp4netns': {
      const o = mode.options;
      const parts = [
        ...(o.allowHostLoopback ? ['allow_host_loopback=true'] : []),
        ...(o.enableIpv6 ? ['enable_ipv6=true'] : []),
        ...(o.mtu !== undefined ? [`mtu=${o.mtu}`] : []),
      ];
      return parts.length ? `slirp4netns:${parts.join(',')}` : 'slirp4netns';
    }
    case 'container':
      return `container:${mode.container}`;
    case 'network':
      return mode.name;
  }
}

/** A recorded mode read back; records made before networking landed hold 'none' or 'host'. */
export function recordedNetworkMode(recorded: string): NetworkMode {
  const mode = parseNetworkMode(recorded);
  return mode.kind === 'default' ? { kind: 'host' } : mode;
}

/** Whether the container has a network namespace that den connects (and so ports it can publish). */
export function connectsNamespace(mode: NetworkMode): boolean {
  return mode.kind === 'pasta' || mode.kind === 'slirp4netns' || mode.kind === 'network';
}
