import { readTextOrEmpty } from '../common/fs.js';

/**
 * The /etc/hosts, /etc/hostname and /etc/resolv.conf den writes for a container and bind-mounts in,
 * so the image's own files stay untouched and every container gets its own.
 */
export function hostsFile(hostname: string, network: 'none' | 'host'): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (network === 'host') {
    // With the host's network the host's own names resolve as on the host.
    const host = readTextOrEmpty('/etc/hosts');
    return `${host.trimEnd()}\n127.0.1.1\t${hostname}\n`;
  }
  lines.push(`127.0.1.1\t${hostname}`);
  return lines.join('\n') + '\n';
}

export function resolvConf(): string {
  return readTextOrEmpty('/etc/resolv.conf');
}

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

const HOSTNAME = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

export function isValidHostname(name: string): boolean {
  return HOSTNAME.test(name);
}
