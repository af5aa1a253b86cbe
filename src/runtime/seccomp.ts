import { readFileSync } from 'node:fs';

/**
 * The distribution's default seccomp profile (containers-common's seccomp.json) turned into the OCI
 * runtime spec's form for one container. The file's rules carry conditions the OCI form lacks
 * (`includes`/`excludes` on capabilities, architectures and kernel versions); they are resolved here
 * against the container's capabilities and this machine's architecture.
 */
export const DEFAULT_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';

interface ProfileRule {
  names?: string[];
  name?: string;
  action: string;
  args?: unknown[] | null;
  errnoRet?: number;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[] };
}

interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: ProfileRule[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; args?: unknown[]; errnoRet?: number }[];
}

/** Go's architecture names, which the profile uses, for Node's. */
const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  ppc64: 'ppc64le',
};
const SECCOMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  '386': 'SCMP_ARCH_X86',
  s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE',
};

export function loadSeccompProfile(path: string): Profile | undefined {
  try {
    return parseSeccompProfile(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A profile from its text (docker's and containers-common's JSON form), or undefined when it is
 * not one: not JSON, or no defaultAction, or syscalls that are not a list.
 */
export function parseSeccompProfile(text: string): Profile | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Partial<Profile>;
  if (typeof p.defaultAction !== 'string') return undefined;
  if (p.syscalls !== undefined && p.syscalls !== null && !Array.isArray(p.syscalls)) return undefined;
  return p as Profile;
}

export function resolveSeccomp(
  profile: Profile,
  capabilities: readonly string[],
  nodeArch: string = process.arch,
  kernel: string = kernelRelease(),
): OciSeccomp {
  const arch = GO_ARCH[nodeArch] ?? nodeArch;
  const caps = new Set(capabilities);
  const native = SECCOMP_ARCH[arch];
  const entry = profile.archMap?.find((a) => a.architecture === native);
  const architectures = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : native ? [native] : [];
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.arches && !inc.arches.includes(arch)) continue;
    if (exc.arches && exc.arches.includes(arch)) continue;
    if (inc.caps && !inc.caps.every((c) => caps.has(c))) continue;
    if (exc.caps && exc.caps.some((c) => caps.has(c))) continue;
    if (inc.minKernel && compareKernel(kernel, inc.minKernel) < 0) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (names.length === 0) continue;
    const out: OciSeccomp['syscalls'][number] = { names, action: rule.action };
    if (rule.args && rule.args.length > 0) out.args = rule.args;
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    syscalls.push(out);
  }
  const result: OciSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) result.defaultErrnoRet = profile.defaultErrnoRet;
  return result;
}

function kernelRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return '0.0';
  }
}

function compareKernel(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < 2; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
