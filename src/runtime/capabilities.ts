import { readFileSync } from 'node:fs';

/**
 * Capabilities by name, as the OCI config writes them (`CAP_CHOWN`), and the sets den gives:
 * docker's default, every one the kernel has (`--privileged`, `exec --privileged`), and what den's
 * own process may pass on (its bounding set: a container can never gain a capability outside it).
 */

/** Docker's default capability set: what a container's root may do, and nothing more. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** The capabilities of Linux 5.9 and later, by number: what the runtimes (libcap 2.66, runc 1.1) know by name. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/**
 * Every capability this kernel has (/proc/sys/kernel/cap_last_cap) that the list names: an older
 * kernel refuses a capability it does not know, so the list is cut at its last one.
 */
export function allCapabilities(lastCapFile = '/proc/sys/kernel/cap_last_cap'): string[] {
  let last = CAPABILITIES.length - 1;
  try {
    const n = Number(readFileSync(lastCapFile, 'utf8').trim());
    if (Number.isInteger(n) && n >= 0) last = Math.min(last, n);
  } catch {
    // no /proc: the whole list
  }
  return CAPABILITIES.slice(0, last + 1);
}

/**
 * A capability as docker's --cap-add and --cap-drop take it (CHOWN, cap_chown, CAP_CHOWN) in the
 * OCI form, or undefined when no kernel has it. ALL is the caller's to handle.
 */
export function capabilityName(text: string): string | undefined {
  const upper = text.toUpperCase();
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return (CAPABILITIES as readonly string[]).includes(name) ? name : undefined;
}

/**
 * The capabilities in den's own bounding set (/proc/self/status CapBnd): the runtime, started by
 * den, cannot give a container more. As root on these machines it lacks CAP_SYS_RESOURCE.
 */
export function boundingCapabilities(statusFile = '/proc/self/status'): string[] {
  const all = allCapabilities();
  let mask: bigint;
  try {
    const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync(statusFile, 'utf8'));
    if (!line) return all;
    mask = BigInt(`0x${line[1]}`);
  } catch {
    return all;
  }
  return all.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}
