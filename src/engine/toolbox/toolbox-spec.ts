import { basename, isAbsolute, join } from 'node:path';
import { failedPrecondition, invalidArgument } from '../../common/errors.js';

/**
 * A toolbox is a long-lived container that is the caller's own workspace, as toolbx and distrobox
 * make one: the caller's uid, gid, name, home directory (bound at the same path), shell and working
 * directory inside, the host's network, and sudo. Display and sound are shared only when asked.
 *
 * Vocabulary:
 *   caller   the person running den: `ToolboxUser`, read from their passwd entry by the CLI
 *   share    the pieces of the caller's graphical session a toolbox is given (`SessionShare`)
 *   setup    the step run as root inside the container at create that writes the caller into its
 *            /etc/passwd, /etc/group and /etc/shadow, a sudoers entry, and /run/user/UID
 *
 *   const share = resolveShare({ x11: true }, process.env, existsSync);
 *   await createToolbox(ctx, { name: 'dev', image: 'debian:12', user, hostname, share }, io);
 *   await runInToolbox(ctx, 'dev', { command: ['make'], cwd: '/home/ann/src', ... }, io);
 */
export interface ToolboxUser {
  name: string;
  uid: number;
  gid: number;
  /** The primary group's name on the host (the gid's number when it has none). */
  group: string;
  /** The home directory, bound into the container at this same path. */
  home: string;
  /** The login shell of the passwd entry; /bin/bash, then /bin/sh, when the image lacks it. */
  shell: string;
}

/** What of the caller's session a toolbox shares: each part only when its flag asked for it. */
export interface SessionShare {
  /** --x11: /tmp/.X11-unix, DISPLAY, and the Xauthority file (when there is one). */
  x11?: { display: string; xauthority?: string };
  /** --wayland: the compositor's socket, host path. */
  wayland?: { socket: string };
  /** --audio: PulseAudio's directory ($XDG_RUNTIME_DIR/pulse, holding `native`). */
  pulse?: { dir: string };
  /** --audio: PipeWire's socket ($XDG_RUNTIME_DIR/pipewire-0). */
  pipewire?: { socket: string };
}

export interface ShareFlags {
  x11?: boolean;
  wayland?: boolean;
  audio?: boolean;
  /** --gui: whichever of the three the session has (at least one). */
  gui?: boolean;
}

export interface ToolboxCreateSpec {
  name: string;
  image: string;
  user: ToolboxUser;
  /** The host's hostname: Xauthority entries are looked up by it, and the prompt says where you are. */
  hostname: string;
  share: SessionShare;
}

/** Labels that make a container a toolbox and say what it shares (`den toolbox ls` finds them by the first). */
export const TOOLBOX_LABEL = 'io.den.toolbox';
export const TOOLBOX_USER_LABEL = 'io.den.toolbox.user';
export const TOOLBOX_SHARE_LABEL = 'io.den.toolbox.share';

/** The X server's sockets, one per display (X0, X1...): shared as a directory, so every display is there. */
export const X11_SOCKET_DIR = '/tmp/.X11-unix';

/** The container's XDG_RUNTIME_DIR: a directory of the caller's holding only the shared sockets. */
export function containerRuntimeDir(uid: number): string {
  return `/run/user/${uid}`;
}

/**
 * The session's pieces the flags ask for, from the caller's environment (DISPLAY, XAUTHORITY,
 * WAYLAND_DISPLAY, XDG_RUNTIME_DIR) and the files that exist. An explicit flag whose piece is
 * missing is refused with what to set; --gui takes what is there and refuses only when nothing is.
 */
export function resolveShare(
  flags: ShareFlags,
  env: Readonly<Record<string, string | undefined>>,
  exists: (path: string) => boolean,
): SessionShare {
  const share: SessionShare = {};
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const x11 = (): SessionShare['x11'] | string => {
    const display = env.DISPLAY;
    if (!display) return 'DISPLAY is not set';
    // :N or unix:N is a local socket; host:N is TCP, which the host's network reaches anyway.
    const local = /^(?:unix)?:([0-9]+)(?:\.[0-9]+)?$/.exec(display);
    if (local && !exists(join(X11_SOCKET_DIR, `X${local[1]}`)))
      return `DISPLAY=${display}, but there is no ${X11_SOCKET_DIR}/X${local[1]}`;
    const home = env.HOME;
    const xauthority = env.XAUTHORITY || (home ? join(home, '.Xauthority') : undefined);
    return { display, ...(xauthority && exists(xauthority) ? { xauthority } : {}) };
  };
  const wayland = (): SessionShare['wayland'] | string => {
    const name = env.WAYLAND_DISPLAY;
    if (!name) return 'WAYLAND_DISPLAY is not set';
    if (!isAbsolute(name) && !runtimeDir) return 'XDG_RUNTIME_DIR is not set';
    const socket = isAbsolute(name) ? name : join(runtimeDir!, name);
    return exists(socket) ? { socket } : `there is no Wayland socket ${socket}`;
  };
  const audio = (): Pick<SessionShare, 'pulse' | 'pipewire'> | string => {
    if (!runtimeDir) return 'XDG_RUNTIME_DIR is not set';
    const pulse = join(runtimeDir, 'pulse');
    const pipewire = join(runtimeDir, 'pipewire-0');
    const found = {
      ...(exists(join(pulse, 'native')) ? { pulse: { dir: pulse } } : {}),
      ...(exists(pipewire) ? { pipewire: { socket: pipewire } } : {}),
    };
    return Object.keys(found).length > 0 ? found : `neither ${pulse}/native nor ${pipewire} exists`;
  };
  const parts = [
    ['x11', flags.x11, x11, 'start den from your X session, or set DISPLAY (and XAUTHORITY)'],
    [
      'wayland',
      flags.wayland,
      wayland,
      'start den from your Wayland session, or set WAYLAND_DISPLAY and XDG_RUNTIME_DIR',
    ],
    ['audio', flags.audio, audio, 'start PulseAudio or PipeWire for your session, and set XDG_RUNTIME_DIR'],
  ] as const;
  const missing: string[] = [];
  for (const [flag, asked, find, hint] of parts) {
    if (!asked && !flags.gui) continue;
    const found = find();
    if (typeof found === 'string') {
      if (asked) throw failedPrecondition('DEN1353', `--${flag}: ${found}`, { hint });
      missing.push(found);
      continue;
    }
    if (flag === 'x11') share.x11 = found as SessionShare['x11'];
    else if (flag === 'wayland') share.wayland = found as SessionShare['wayland'];
    else Object.assign(share, found);
  }
  if (flags.gui && Object.keys(share).length === 0) {
    throw failedPrecondition(
      'DEN1353',
      `--gui: your session has no display and no sound server (${missing.join('; ')})`,
      {
        hint: 'start den from your desktop session, or set DISPLAY, WAYLAND_DISPLAY or XDG_RUNTIME_DIR',
      },
    );
  }
  return share;
}

/** The share's names, for the label and for `ls`: x11, wayland, pulseaudio, pipewire. */
export function shareNames(share: SessionShare): string[] {
  return (['x11', 'wayland', 'pulse', 'pipewire'] as const)
    .filter((k) => share[k] !== undefined)
    .map((k) => (k === 'pulse' ? 'pulseaudio' : k));
}

/** A toolbox's name: what docker takes as a container's name. */
export function checkToolboxName(name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw invalidArgument('DEN1350', `invalid toolbox name "${name}"`, {
      hint: 'use letters, digits, _, . and -, starting with a letter or digit',
    });
  }
  return name;
}

/** The default name for an image's toolbox: `debian-toolbox` for debian:12 or registry/x/debian. */
export function defaultToolboxName(image: string): string {
  const repo = basename(image.replace(/@.*$/, '').replace(/:[^/:]*$/, ''));
  const clean = repo.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  return `${clean || 'den'}-toolbox`;
}

/**
 * The setup step, run by sh as root inside the container at create. Its arguments are positional
 * ($1...), so no value of the caller's is ever parsed as shell text. It is idempotent: an entry for
 * the same name or uid (the image's own `ubuntu` user at 1000, say) is replaced, not duplicated.
 * Exit status SETUP_NO_SUDO: everything is in place but the image has no sudo. A seventh argument
 * puts the files under another root, for the unit test; in the container it is absent.
 */
export const SETUP_NO_SUDO = 3;

export const SETUP_SCRIPT = `set -eu
name=$1 uid=$2 gid=$3 group=$4 home=$5 shell=$6 root=\${7:-}
[ -x "$root$shell" ] || shell=/bin/bash
[ -x "$root$shell" ] || shell=/bin/sh
replace() { # FILE AWK-CONDITION-FOR-LINES-TO-KEEP LINE
  file=$root$1; keep=$2; line=$3
  [ -e "$file" ] || : > "$file"
  awk -F: -v n="$name" -v u="$uid" -v gn="$group" "$keep" "$file" > "$file.den-new"
  printf '%s\\n' "$line" >> "$file.den-new"
  cat "$file.den-new" > "$file"
  rm -f "$file.den-new"
}
if [ "$uid" != 0 ]; then
  if ! awk -F: -v g="$gid" '$3 == g { found = 1 } END { exit !found }' "$root/etc/group"; then
    replace /etc/group '$1 != gn' "$group:x:$gid:"
  fi
  replace /etc/passwd '$1 != n && $3 != u' "$name:x:$uid:$gid:$name:$home:$shell"
  [ ! -e "$root/etc/shadow" ] || replace /etc/shadow '$1 != n' "$name:*:::::::"
  mkdir -p "$root/etc/sudoers.d"
  printf '%s ALL=(ALL) NOPASSWD: ALL\\n' "$name" > "$root/etc/sudoers.d/den-toolbox"
  chmod 0440 "$root/etc/sudoers.d/den-toolbox"
fi
mkdir -p "$root/run/user/$uid"
chown "$uid:$gid" "$root/run/user/$uid"
chmod 0700 "$root/run/user/$uid"
[ "$uid" = 0 ] || command -v sudo > /dev/null || exit ${SETUP_NO_SUDO}
`;

/** The setup's argv (sh -c SCRIPT NAME ARGS...). */
export function setupCommand(user: ToolboxUser): string[] {
  return [
    '/bin/sh',
    '-c',
    SETUP_SCRIPT,
    'den-toolbox-setup',
    user.name,
    String(user.uid),
    String(user.gid),
    user.group,
    user.home,
    user.shell,
  ];
}

/**
 * The container's own process: sleeps as root until stopped (a shell that waits on a sleep wakes
 * for SIGTERM at once, so `den stop` does not wait out its timeout).
 */
export const TOOLBOX_INIT = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 1000000 & wait $!; done'];

/** `enter`'s command: the caller's login shell, or the one setup fell back to. */
export function loginShellCommand(shell: string): string[] {
  return [
    '/bin/sh',
    '-c',
    's=$1; [ -x "$s" ] || s=/bin/bash; [ -x "$s" ] || s=/bin/sh; exec "$s" -l',
    'den-toolbox-enter',
    shell,
  ];
}

/**
 * The working directory inside: where the caller is, when that is in the home directory (the one
 * host directory a toolbox has); otherwise the home directory itself.
 */
export function toolboxWorkdir(cwd: string | undefined, home: string): string {
  if (cwd === undefined) return home;
  const h = home.endsWith('/') && home !== '/' ? home.slice(0, -1) : home;
  return cwd === h || cwd.startsWith(`${h}/`) || h === '/' ? cwd : home;
}
