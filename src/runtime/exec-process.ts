import type { OciRlimit } from './rlimits.js';
import { allCapabilities } from './capabilities.js';
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
