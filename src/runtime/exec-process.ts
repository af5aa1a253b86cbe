import { readFileSync } from 'node:fs';
import type { OciRlimit } from './rlimits.js';
import { processCapabilities } from './spec.js';

/**
 * The process.json of `runtime exec --process`: one more process in a running container. What
 * confines the container confines it too, as docker's exec does: from the container's own
 * config.json as the runtime applied it (no-new-privileges, its AppArmor profile and SELinux label,
 * its capability set), and its --ulimit rlimits (the input's: config.json writes them as 64-bit
 * numbers, which JSON.parse would round); the container's seccomp filter, cgroup and namespaces
 * the runtime applies by itself. What the caller chose (command, environment, user, directory,
 * terminal) is the input's. Write it with ociConfigJson, for the rlimits.
 */
export interface ExecProcessInput {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  /** Every capability the kernel has (docker's `exec --privileged`), rather than the container's set. */
  privileged: boolean;
  /** The container's rlimits (--ulimit); the others are inherited, as the container's are. */
  rlimits: OciRlimit[];
}

/** The fields of a config.json's process that an exec'd process inherits. */
const INHERITED = ['noNewPrivileges', 'apparmorProfile', 'selinuxLabel', 'oomScoreAdj'] as const;

export function buildExecProcess(containerSpec: unknown, input: ExecProcessInput): Record<string, unknown> {
  const container = ((containerSpec as { process?: Record<string, unknown> } | null)?.process ?? {}) as Record<
    string,
    unknown
  >;
  const bounding = (container.capabilities as { bounding?: unknown } | undefined)?.bounding;
  const caps = input.privileged ? allCapabilities() : Array.isArray(bounding) ? (bounding as string[]) : [];
  const process: Record<string, unknown> = {
    terminal: input.terminal,
    user: { uid: input.uid, gid: input.gid, additionalGids: input.additionalGids },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    capabilities: processCapabilities(caps, input.uid),
  };
  for (const key of INHERITED) if (container[key] !== undefined) process[key] = container[key];
  if (input.rlimits.length > 0) process.rlimits = input.rlimits;
  if (input.terminal && input.consoleSize) process.consoleSize = input.consoleSize;
  return process;
}

/** The capabilities of Linux 5.9 and later, by number: what the runtimes (libcap 2.66, runc 1.1) know by name. */
const CAPABILITIES = [
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
