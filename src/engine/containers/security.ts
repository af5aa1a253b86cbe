import { accessSync, constants, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, invalidArgument } from '../../common/errors.js';
import type { SecurityConfig } from '../../containers/index.js';
import {
  boundingCapabilities,
  capabilityName,
  DEFAULT_CAPABILITIES,
  parseSeccompProfile,
  type RuntimeKind,
} from '../../runtime/index.js';
import { readImageFile } from './image-users.js';

/**
 * A container's confinement as docker's flags ask for it: --privileged, --cap-add, --cap-drop,
 * --security-opt and --group-add, their syntax checked (`parseSecurity`, the CLI's side: a
 * seccomp profile is read there, by the caller), then resolved against the image, the runtime and
 * den's own capabilities at create (`planSecurity`).
 *
 *   const spec = parseSecurity({ capDrop: ['ALL'], capAdd: ['chown'], securityOpt: ['no-new-privileges'] }, read);
 *   const { security, additionalGids } = planSecurity(spec, { rootless, runtime: 'crun', layers });
 */
export interface SecuritySpec {
  privileged: boolean;
  /** As given; each is a capability name (with or without CAP_, any case) or ALL. */
  capAdd: string[];
  capDrop: string[];
  /** As given, for inspect. */
  securityOpt: string[];
  noNewPrivileges: boolean;
  seccomp: SecurityConfig['seccomp'];
  /** apparmor=NAME; unconfined is no profile. */
  apparmor?: string;
  /** Group names of the image, gids, or keep-groups alone. */
  groupAdd: string[];
}

export interface SecurityFlags {
  privileged?: boolean;
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  securityOpt?: readonly string[];
  groupAdd?: readonly string[];
}

export const KEEP_GROUPS = 'keep-groups';

/** docker's defaults: its capability set, the distribution's seccomp profile, setuid programs work. */
export function defaultSecurity(): SecuritySpec {
  return {
    privileged: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    noNewPrivileges: false,
    seccomp: 'default',
    groupAdd: [],
  };
}

/** Checks the flags' syntax; `readProfile` reads a seccomp=FILE for the caller. */
export function parseSecurity(flags: SecurityFlags, readProfile: (path: string) => string): SecuritySpec {
  const spec = defaultSecurity();
  spec.privileged = flags.privileged === true;
  for (const [flag, list, out] of [
    ['--cap-add', flags.capAdd ?? [], spec.capAdd],
    ['--cap-drop', flags.capDrop ?? [], spec.capDrop],
  ] as const) {
    for (const cap of list) {
      if (cap.toUpperCase() !== 'ALL' && !capabilityName(cap)) {
        throw invalidArgument('DEN1303', `${flag} ${cap}: unknown capability`, {
          hint: 'give a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL (see capabilities(7))',
        });
      }
      out.push(cap);
    }
  }
  for (const opt of flags.securityOpt ?? []) {
    securityOpt(opt, spec, readProfile);
    spec.securityOpt.push(opt);
  }
  const groups = flags.groupAdd ?? [];
  for (const g of groups) {
    if (g === '' || g.includes(':') || (/^[0-9]+$/.test(g) && Number(g) > 0xfffffffe)) {
      throw invalidArgument('DEN1307', `--group-add ${g}: not a group name or gid`);
    }
  }
  if (groups.includes(KEEP_GROUPS) && groups.length > 1) {
    throw invalidArgument('DEN1308', `--group-add ${KEEP_GROUPS} cannot be combined with other groups`, {
      hint: `the container keeps your own groups with ${KEEP_GROUPS}: drop the others, or drop ${KEEP_GROUPS}`,
    });
  }
  spec.groupAdd = [...groups];
  return spec;
}

/** One --security-opt: KEY=VALUE, or KEY:VALUE as older docker wrote it. */
function securityOpt(opt: string, spec: SecuritySpec, readProfile: (path: string) => string): void {
  const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
  const key = m?.[1];
  const value = m?.[2];
  const refuse = (why: string) =>
    invalidArgument('DEN1305', `--security-opt ${opt}: ${why}`, {
      hint: 'den takes no-new-privileges[=true|false], seccomp=PROFILE.json|unconfined, label=disable, apparmor=PROFILE',
    });
  if (key === 'no-new-privileges') {
    if (value === undefined || value === 'true') spec.noNewPrivileges = true;
    else if (value === 'false') spec.noNewPrivileges = false;
    else throw refuse('expected true or false');
  } else if (key === 'seccomp' && value) {
    spec.seccomp = value === 'unconfined' ? 'unconfined' : { text: seccompProfile(opt, value, readProfile) };
  } else if (key === 'label' && value) {
    // SELinux's options: accepted for docker's command lines; with no SELinux on the host they do nothing.
    if (value !== 'disable' && value !== 'nested' && !/^(user|role|type|level|filetype):./.test(value)) {
      throw refuse('expected label=disable, or label=user:, role:, type:, level: or filetype:');
    }
  } else if (key === 'apparmor' && value) {
    spec.apparmor = value;
  } else {
    throw refuse(
      key === undefined || value !== undefined || key === 'no-new-privileges'
        ? 'unknown option'
        : `${key} needs a value`,
    );
  }
}

function seccompProfile(opt: string, path: string, readProfile: (path: string) => string): string {
  let text: string;
  try {
    text = readProfile(path);
  } catch (e) {
    throw invalidArgument('DEN1306', `--security-opt ${opt}: cannot read the profile: ${(e as Error).message}`, {
      hint: 'give the path of a seccomp profile in JSON, or seccomp=unconfined',
    });
  }
  if (!parseSeccompProfile(text)) {
    throw invalidArgument('DEN1306', `--security-opt ${opt}: not a seccomp profile`, {
      hint: 'a JSON object with a defaultAction and a list of syscalls, as /usr/share/containers/seccomp.json',
    });
  }
  return text;
}

export interface SecurityContext {
  rootless: boolean;
  runtime: RuntimeKind;
  /** The image's layer directories, top first (its /etc/group names groups). */
  layersTopFirst: readonly string[];
  /** Whether the host enforces AppArmor; read from /sys when absent. */
  apparmor?: boolean;
  /** den's bounding set; read from /proc/self/status when absent. */
  bounding?: readonly string[];
}

/** The container's SecurityConfig, and the gids --group-add adds to the user's. */
export function planSecurity(
  spec: SecuritySpec,
  ctx: SecurityContext,
): { security: SecurityConfig; additionalGids: number[] } {
  const keepGroups = spec.groupAdd.includes(KEEP_GROUPS);
  if (keepGroups && (!ctx.rootless || ctx.runtime !== 'crun')) {
    throw failedPrecondition(
      'DEN1309',
      `--group-add ${KEEP_GROUPS} ${ctx.rootless ? `needs crun, not ${ctx.runtime}` : 'is for rootless den'}`,
      {
        hint: ctx.rootless
          ? 'use --runtime crun'
          : 'as root, name the groups: --group-add GROUP (a group of the image or a gid)',
      },
    );
  }
  const security: SecurityConfig = {
    privileged: spec.privileged,
    capAdd: spec.capAdd,
    capDrop: spec.capDrop,
    securityOpt: spec.securityOpt,
    groupAdd: spec.groupAdd,
    capabilities: capabilities(spec, ctx.bounding ?? boundingCapabilities()),
    noNewPrivileges: spec.noNewPrivileges,
    seccomp: spec.seccomp,
    keepGroups,
  };
  const apparmor = spec.apparmor !== undefined && spec.apparmor !== 'unconfined' ? spec.apparmor : undefined;
  if (apparmor && (ctx.apparmor ?? apparmorEnabled())) security.apparmorProfile = apparmor;
  const additionalGids = keepGroups ? [] : groupIds(spec.groupAdd, ctx.layersTopFirst);
  return { security, additionalGids };
}

/**
 * docker's rules: --privileged has every capability (here: every one den holds); otherwise
 * docker's default set, or none with --cap-drop ALL, less the others dropped, plus those added
 * (an add wins over a drop; --cap-add ALL adds every one den holds). A capability den itself
 * lacks cannot be given: the runtime would fail to set it, so it is refused here.
 */
function capabilities(spec: SecuritySpec, bounding: readonly string[]): string[] {
  if (spec.privileged) return [...bounding];
  const norm = (list: string[]) => list.map((c) => (c.toUpperCase() === 'ALL' ? 'ALL' : capabilityName(c)!));
  const add = norm(spec.capAdd);
  const drop = norm(spec.capDrop);
  if (add.includes('ALL')) return bounding.filter((c) => !drop.includes(c) || add.includes(c));
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const caps = [...base];
  for (const c of add) {
    if (!bounding.includes(c)) {
      throw failedPrecondition('DEN1304', `--cap-add ${c}: den itself does not hold ${c}, so no container can`, {
        hint: `den's bounding set (CapBnd in /proc/self/status) lacks it: start den from a process that has it, or drop the flag`,
      });
    }
    if (!caps.includes(c)) caps.push(c);
  }
  return caps;
}

/** --group-add's names (the image's /etc/group) and gids, in order, once each. */
function groupIds(groups: readonly string[], layersTopFirst: readonly string[]): number[] {
  if (groups.length === 0) return [];
  const table = readImageFile(layersTopFirst, 'etc/group')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
  const gids: number[] = [];
  for (const g of groups) {
    const entry = table.find((e) => e[0] === g);
    const gid = entry ? Number(entry[2]) : /^[0-9]+$/.test(g) ? Number(g) : undefined;
    if (gid === undefined || !Number.isInteger(gid)) {
      throw invalidArgument('DEN1307', `--group-add ${g}: no such group in the image's /etc/group`, {
        hint: 'give a group the image has, or a numeric gid',
      });
    }
    if (!gids.includes(gid)) gids.push(gid);
  }
  return gids;
}

/** AppArmor is enforced when the kernel module says so. */
function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

/** Devices the runtime makes in every container; --privileged binds the host's others. */
const RUNTIME_DEVICES = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'ptmx']);
/** Directories of /dev that are file systems of their own in the container. */
const OWN_DIRS = new Set(['pts', 'shm', 'mqueue', 'fd']);

/**
 * --privileged's devices, as podman gives them rootless: every character and block device under
 * the host's /dev that the caller can open for reading and writing (as root, all of them), at its
 * own path, bound rather than made.
 */
export function privilegedDevices(dev = '/dev'): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (depth === 0 && (RUNTIME_DEVICES.has(name) || OWN_DIRS.has(name))) continue;
      let st;
      try {
        st = lstatSync(path, { throwIfNoEntry: false }); // symlinks (stdin, fd) are not devices of the host
      } catch {
        continue;
      }
      if (!st) continue;
      if (st.isDirectory()) {
        if (depth < 3) walk(path, depth + 1);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        try {
          accessSync(path, constants.R_OK | constants.W_OK);
          out.push(path);
        } catch {
          // not the caller's to open
        }
      }
    }
  };
  walk(dev, 0);
  return out;
}
