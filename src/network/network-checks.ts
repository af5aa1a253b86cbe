/**
 * `den system check`'s probes for rootless networking: pasta, slirp4netns as its fallback, and
 * /dev/net/tun, which both open.
 */
import { checkDevice, checkTool, ok, warn, type Finding, type Host } from '../common/host-check.js';
import { runSync } from '../common/exec.js';
import { findNetworkHelper } from './netavark.js';

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

/**
 * Which network a container gets by default here, and why: pasta where it is installed (faster,
 * and it keeps a client's address), slirp4netns where only it is, else none to give.
 */
export function checkDefaultNetwork(h: Host): Finding {
  const pasta = checkPasta(h);
  if (pasta.status === 'ok')
    return { status: 'ok', detail: 'pasta: each container gets a namespace of its own, connected by pasta' };
  const slirp = checkSlirp4netns(h);
  if (slirp.status === 'ok') {
    return {
      status: 'warn',
      detail: 'slirp4netns, because pasta is missing: published ports are slower and show clients as 10.0.2.2',
      fix: INSTALL_NETWORK_TOOLS,
    };
  }
  return {
    status: 'fail',
    detail: 'neither pasta nor slirp4netns: containers run only with --network host or none',
    fix: INSTALL_NETWORK_TOOLS,
  };
}

/**
 * netavark and aardvark-dns: user-defined networks (bridges, and names resolved by aardvark-dns).
 * Debian installs them off PATH, in /usr/lib/podman, where den looks too.
 */
export function checkNetavark(h: Host): Finding {
  const missing = ['netavark', 'aardvark-dns'].filter((t) => !findNetworkHelper(t, h.env.PATH ?? ''));
  if (missing.length > 0) {
    return warn(
      `${missing.join(' and ')} not found: den network create works, containers cannot join networks`,
      'apt-get install netavark aardvark-dns',
    );
  }
  const netavark = findNetworkHelper('netavark', h.env.PATH ?? '')!;
  const version = runSync([netavark, '--version'], { env: h.env }).stdout.trim();
  return ok(`${netavark}${version ? `: ${version}` : ''}`);
}
