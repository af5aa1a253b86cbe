import { DenError, conflict, failedPrecondition } from '../../common/errors.js';
import type { ContainerRecord, MountSpec } from '../../containers/index.js';
import type { EngineContext } from '../context.js';
import type { AttachIO } from '../containers/attached-runtime.js';
import { createContainer } from '../containers/create-container.js';
import { parseNetwork, type CreateSpec } from '../containers/create-spec.js';
import { execContainer } from '../containers/exec-container.js';
import { reconcile } from '../containers/container-state.js';
import { removeContainer } from '../containers/remove-container.js';
import { defaultSecurity } from '../containers/security.js';
import { startContainer } from '../containers/start-detached.js';
import {
  checkToolboxName,
  containerRuntimeDir,
  loginShellCommand,
  setupCommand,
  SETUP_NO_SUDO,
  shareNames,
  TOOLBOX_INIT,
  TOOLBOX_LABEL,
  TOOLBOX_SHARE_LABEL,
  TOOLBOX_USER_LABEL,
  toolboxWorkdir,
  X11_SOCKET_DIR,
  type SessionShare,
  type ToolboxCreateSpec,
  type ToolboxUser,
} from './toolbox-spec.js';

/**
 * `den toolbox create`: the container (createContainer), started (startContainer), then set up by
 * one `exec` as root inside it (setupCommand). Rootless, the container runs with --userns=keep-id,
 * so the caller's uid and gid are the same inside and outside and files written in the home
 * directory are the caller's; its root, which sudo gives, is the first subordinate id. As root, the
 * caller is root inside, in an isolated range (the engine's default), with the home directory
 * mounted idmapped so files keep their owners. A container that fails to start or to be set up
 * is removed: nothing half-made stays.
 */
export async function createToolbox(
  ctx: EngineContext,
  spec: ToolboxCreateSpec,
  io: AttachIO,
): Promise<ContainerRecord> {
  checkToolboxName(spec.name);
  if (byName(ctx, spec.name)) {
    throw conflict('DEN1354', `a container named "${spec.name}" already exists`, {
      hint: `enter it with den toolbox enter ${spec.name}, or give another name`,
    });
  }
  const { user } = spec;
  if (user.uid !== ctx.config.user.uid) {
    // The store's owner is the one whose ids keep-id keeps; a toolbox for anyone else would leave
    // files in their home directory with the wrong owner.
    throw failedPrecondition(
      'DEN1355',
      `a toolbox is for den's own user (uid ${ctx.config.user.uid}), not uid ${user.uid}`,
    );
  }
  const created = await createContainer(ctx, containerSpec(spec));
  try {
    await startContainer(ctx, created.id);
    const status = await execContainer(
      ctx,
      created.id,
      {
        command: setupCommand(user),
        env: [],
        user: '0:0',
        privileged: false,
        tty: false,
        interactive: false,
        detach: false,
      },
      io,
    );
    if (status === SETUP_NO_SUDO) {
      ctx.events.warning(
        `toolbox ${spec.name}: the image ${spec.image} has no sudo, so you cannot become root inside; ` +
          `install it as root: den exec -u 0 ${spec.name} apt-get install -y sudo (or the image's package manager)`,
      );
    } else if (status !== 0) {
      throw failedPrecondition(
        'DEN1352',
        `toolbox ${spec.name}: setting up your user inside failed (status ${status})`,
        {
          hint: 'the image needs /bin/sh, awk, chown and mkdir; its error is above',
        },
      );
    }
  } catch (e) {
    await removeContainer(ctx, created.id, true).catch(() => {});
    throw e;
  }
  return ctx.containers.get(created.id) ?? created;
}

/** The toolbox as a CreateSpec: what makes it the caller's, and the session's parts it shares. */
function containerSpec(spec: ToolboxCreateSpec): CreateSpec {
  const { user, share } = spec;
  const runtimeDir = containerRuntimeDir(user.uid);
  // Made as --mount type=bind makes them, not parsed from -v text: a path may hold a colon.
  const bind = ([source, destination]: [string, string]): MountSpec => ({
    type: 'bind',
    source,
    destination,
    readOnly: false,
    origin: 'mount',
  });
  const binds = [bind([user.home, user.home]), ...shareMounts(share, user).map(bind)];
  const env = [`XDG_RUNTIME_DIR=${runtimeDir}`, ...shareEnv(share, user)];
  return {
    image: spec.image,
    entrypoint: [],
    command: TOOLBOX_INIT,
    env,
    name: spec.name,
    hostname: spec.hostname,
    user: '0:0',
    workdir: '/',
    readOnly: false,
    binds,
    network: parseNetwork('host'),
    userns: user.uid === 0 ? { mode: 'default' } : { mode: 'keep-id' },
    tty: false,
    interactive: false,
    autoRemove: false,
    labels: {
      [TOOLBOX_LABEL]: 'true',
      [TOOLBOX_USER_LABEL]: user.name,
      [TOOLBOX_SHARE_LABEL]: shareNames(share).join(','),
    },
    // Rootless, the caller's own groups stay theirs inside (group-shared files in the home
    // directory stay readable); crun alone can keep them, and as root there is nothing to keep.
    security: { ...defaultSecurity(), groupAdd: user.uid === 0 ? [] : ['keep-groups'] },
  };
}

/** Host path -> container path of every socket and file the share gives. */
function shareMounts(share: SessionShare, user: ToolboxUser): [string, string][] {
  const runtimeDir = containerRuntimeDir(user.uid);
  const mounts: [string, string][] = [];
  if (share.x11) {
    mounts.push([X11_SOCKET_DIR, X11_SOCKET_DIR]);
    const xauth = xauthorityInside(share.x11.xauthority, user);
    if (xauth && share.x11.xauthority !== xauth) mounts.push([share.x11.xauthority!, xauth]);
  }
  if (share.wayland) mounts.push([share.wayland.socket, `${runtimeDir}/${basenameOf(share.wayland.socket)}`]);
  // The directory, not its socket: a server that restarts makes a new socket there.
  if (share.pulse) mounts.push([share.pulse.dir, `${runtimeDir}/pulse`]);
  if (share.pipewire) mounts.push([share.pipewire.socket, `${runtimeDir}/pipewire-0`]);
  return mounts;
}

function shareEnv(share: SessionShare, user: ToolboxUser): string[] {
  const runtimeDir = containerRuntimeDir(user.uid);
  const env: string[] = [];
  if (share.x11) {
    env.push(`DISPLAY=${share.x11.display}`);
    const xauth = xauthorityInside(share.x11.xauthority, user);
    if (xauth) env.push(`XAUTHORITY=${xauth}`);
  }
  if (share.wayland) env.push(`WAYLAND_DISPLAY=${basenameOf(share.wayland.socket)}`);
  if (share.pulse) env.push(`PULSE_SERVER=unix:${runtimeDir}/pulse/native`);
  if (share.pipewire) env.push(`PIPEWIRE_REMOTE=${runtimeDir}/pipewire-0`);
  return env;
}

/** In the home directory, the same path (the home is bound, and the file stays live); else one in the runtime dir. */
function xauthorityInside(xauthority: string | undefined, user: ToolboxUser): string | undefined {
  if (xauthority === undefined) return undefined;
  if (xauthority.startsWith(`${user.home}/`)) return xauthority;
  return `${containerRuntimeDir(user.uid)}/Xauthority`;
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `den toolbox run` and `enter`: a command, or (absent) the caller's login shell. */
export interface ToolboxRun {
  /** Absent: an interactive login shell (`enter`). */
  command?: string[];
  /** The caller's current directory; the toolbox's working directory when it lies in the home directory. */
  cwd?: string;
  /** Variables of the caller's to pass on (TERM, LANG...), NAME=VALUE. */
  env: string[];
  /** The caller's DISPLAY now (it may differ from the one at create); used only when the toolbox shares X11. */
  display?: string;
  tty: boolean;
  interactive: boolean;
}

/**
 * Runs a command in a toolbox as the caller, starting it first when it is stopped (as after a
 * reboot). Returns the command's exit status.
 */
export async function runInToolbox(
  ctx: EngineContext,
  name: string,
  user: ToolboxUser,
  run: ToolboxRun,
  io: AttachIO,
): Promise<number> {
  const c = toolboxRecord(ctx, name);
  const owner = c.config.labels?.[TOOLBOX_USER_LABEL];
  if (owner !== undefined && owner !== user.name) {
    throw failedPrecondition('DEN1356', `toolbox ${name} was made for ${owner}, not for ${user.name}`);
  }
  if (reconcile(ctx, c).status !== 'running') await startContainer(ctx, c.id);
  const sharesX11 = (c.config.labels?.[TOOLBOX_SHARE_LABEL] ?? '').split(',').includes('x11');
  const display = sharesX11 && run.display ? [`DISPLAY=${run.display}`] : [];
  return execContainer(
    ctx,
    c.id,
    {
      command: run.command ?? loginShellCommand(user.shell),
      env: [
        `HOME=${user.home}`,
        `USER=${user.name}`,
        `LOGNAME=${user.name}`,
        `SHELL=${user.shell}`,
        ...run.env,
        ...display,
      ],
      // By name, so that the groups setup gave the user (sudo, wheel) are theirs.
      user: user.uid === 0 ? '0:0' : user.name,
      workdir: toolboxWorkdir(run.cwd, user.home),
      privileged: false,
      tty: run.tty,
      interactive: run.interactive,
      detach: false,
    },
    io,
  );
}

/** What `den toolbox ls` shows of one. */
export interface ToolboxSummary {
  container: ContainerRecord;
  user: string;
  shares: string[];
}

/** Every toolbox, running or not, newest first. */
export function listToolboxes(ctx: EngineContext): ToolboxSummary[] {
  return ctx.containers
    .list()
    .filter((c) => c.config.labels?.[TOOLBOX_LABEL] === 'true')
    .map((c) => reconcile(ctx, c))
    .map((container) => {
      const labels = container.config.labels ?? {};
      return {
        container,
        user: labels[TOOLBOX_USER_LABEL] ?? '',
        shares: (labels[TOOLBOX_SHARE_LABEL] ?? '').split(',').filter(Boolean),
      };
    });
}

/** `den toolbox rm [-f]`: only a toolbox; a running one needs force, as `den rm` does. */
export async function removeToolbox(ctx: EngineContext, name: string, force: boolean): Promise<ContainerRecord> {
  const c = toolboxRecord(ctx, name);
  return removeContainer(ctx, c.id, force);
}

function toolboxRecord(ctx: EngineContext, name: string): ContainerRecord {
  const c = byName(ctx, name);
  if (!c) {
    throw new DenError('NotFound', 'DEN1351', `toolbox ${name}: no such toolbox`, {
      hint: `make it with den toolbox create ${name}; den toolbox ls lists yours`,
    });
  }
  if (c.config.labels?.[TOOLBOX_LABEL] !== 'true') {
    throw failedPrecondition('DEN1357', `container ${name} is not a toolbox`, {
      hint: `use den exec or den rm for other containers; den toolbox ls lists your toolboxes`,
    });
  }
  return c;
}

function byName(ctx: EngineContext, name: string): ContainerRecord | undefined {
  return ctx.containers.list().find((c) => c.name === name);
}
