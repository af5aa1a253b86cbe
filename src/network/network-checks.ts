/**
 * `den system check`'s probes for rootless networking: pasta, slirp4netns as its fallback, and
 * /dev/net/tun, which both open.
 */
import { checkDevice, checkTool, type Finding, type Host } from '../common/host-check.js';

/** One install gets both tools, so either finding gives the same fix. */
const INSTALL_NETWORK_TOOLS = 'apt-get install passt slirp4netns';

/** pasta (from passt): rootless containers' network. */
export function checkPasta(h: Host): Finding {
  return checkTool(h, 'pasta', 'warn', INSTALL_NETWORK_TOOLS);
}

/** slirp4netns: rootless containers' network where pasta is missing. */
export function checkSlirp4netns(h: Host): Finding {
  return checkTool(h, 'slirp4netns', 'warn', INSTALL_NETWORK_TOOLS);
}

/** /dev/net/tun, through which pasta and slirp4netns give a container its interface. */
export function checkTunDevice(h: Host): Finding {
  return checkDevice(h, '/dev/net/tun', 'tun');
}
