import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname, userInfo, type UserInfo } from 'node:os';
import { DenError } from '../common/errors.js';
import {
  defaultToolboxName,
  resolveShare,
  type EngineContext,
  type SessionShare,
  type ShareFlags,
  type ToolboxUser,
} from '../engine/index.js';
import type { Parsed } from './flags.js';
import { bool } from './flags.js';
import { interruptible } from './interrupt.js';
import { pullReporting } from './commands/pull.js';

/**
 * The caller as a toolbox takes them, from den's own process: the passwd entry (name, ids, shell),
 * the home directory ($HOME, as toolbx and distrobox bind it; the passwd entry's without one), and
 * the primary group's name. Everything the engine must not read itself.
 */
export function toolboxCaller(): ToolboxUser {
  let info: UserInfo<string>;
  try {
    info = userInfo({ encoding: 'utf8' });
  } catch (e) {
    throw new DenError('NotFound', 'DEN1358', `you (uid ${process.getuid?.()}) have no passwd entry`, {
      hint: 'a toolbox gives you your name, home directory and shell inside: ask for a passwd entry (or LDAP/sssd)',
      cause: e,
    });
  }
  const home = process.env.HOME || info.homedir;
  return {
    name: info.username,
    uid: info.uid,
    gid: info.gid,
    group: groupName(info.gid),
    home: home.length > 1 ? home.replace(/\/+$/, '') : home,
    shell: info.shell || '/bin/sh',
  };
}

/** The gid's name through NSS (getent), as `id -gn` gives it; the number itself without one. */
function groupName(gid: number): string {
  const r = spawnSync('getent', ['group', String(gid)], { encoding: 'utf8' });
  const name = r.status === 0 ? r.stdout.split(':')[0] : undefined;
  return name || String(gid);
}

/** The image a toolbox is made of when --image is not given. */
export const DEFAULT_TOOLBOX_IMAGE = 'debian:12';

export function defaultImage(): string {
  return process.env.DEN_TOOLBOX_IMAGE || DEFAULT_TOOLBOX_IMAGE;
}

/** The toolbox a command without a name means: the default image's (debian-toolbox). */
export function toolboxName(name: string | undefined): string {
  return name ?? defaultToolboxName(defaultImage());
}

export const SHARE_FLAGS = [
  { long: 'x11', type: 'bool', help: 'Share your X11 display: /tmp/.X11-unix, DISPLAY and your Xauthority file' },
  { long: 'wayland', type: 'bool', help: "Share your Wayland compositor's socket (WAYLAND_DISPLAY)" },
  {
    long: 'audio',
    type: 'bool',
    help: 'Share your PulseAudio and PipeWire sockets ($XDG_RUNTIME_DIR/pulse, pipewire-0)',
  },
  { long: 'gui', type: 'bool', help: 'Share whichever of --x11, --wayland and --audio your session has' },
] as const;

export function shareFromFlags(p: Parsed): SessionShare {
  const flags: ShareFlags = {
    x11: bool(p, 'x11'),
    wayland: bool(p, 'wayland'),
    audio: bool(p, 'audio'),
    gui: bool(p, 'gui'),
  };
  return resolveShare(flags, process.env, existsSync);
}

/** The image, pulled first when the store does not have it (docker's --pull=missing). */
export async function ensureToolboxImage(ctx: EngineContext, image: string): Promise<void> {
  if (ctx.images.find(image)) return;
  process.stderr.write(`Unable to find image '${image}' locally\n`);
  await interruptible((signal) => pullReporting(ctx, { reference: image, signal }, process.stderr, false));
}

export function hostName(): string {
  return hostname();
}

/** The caller's variables a command in a toolbox gets: the terminal's and the locale's. */
export function passedEnv(): string[] {
  const names = ['TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'LC_ALL'];
  return names.flatMap((n) => (process.env[n] !== undefined ? [`${n}=${process.env[n]}`] : []));
}
