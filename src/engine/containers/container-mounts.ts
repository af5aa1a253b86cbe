import { Transform } from 'node:stream';
import { accessSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DenError, failedPrecondition, invalidArgument, isDenError, notFound } from '../../common/errors.js';
import { runSync } from '../../common/exec.js';
import {
  anonymousVolumeName,
  mountsOf,
  type ContainerRecord,
  type DeviceSpec,
  type MountSpec,
  type VolumeRecord,
} from '../../containers/index.js';
import { mapsHostId, shiftId, shiftsIds, type OciIdMaps } from '../../idmap/index.js';
import type { ImageRecord } from '../../images/index.js';
import { shellQuote } from '../../network/index.js';
import type { BindMount } from '../../runtime/index.js';
import { runWorker } from '../../session/index.js';
import {
  attachMounts,
  attachThroughHelper,
  findIdmapHelper,
  helperMaps,
  lowerMountsDir,
  unmountRootfs,
  type IdmapHelper,
} from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import type { CreateSpec } from './create-spec.js';
import { withRootfs } from './rootfs-mount.js';

/**
 * A container's mounts beyond its root file system: bind mounts, volumes, tmpfs and devices, from
 * the create that plans them to the start that makes them and the removal that frees anonymous
 * volumes. The rule den follows for owners (docs/volumes.md):
 *
 *   - a volume's files are kept canonical: with the ids a container sees, as they would be on a
 *     host without user namespaces (rootless: as a container of the session's mapping sees them);
 *   - as root, a container with a range of its own sees every bind mount and volume through an
 *     idmapped mount of its maps: files keep their real owners on disk, container root writes
 *     them as root would, and nothing is chowned (Kubernetes does the same for pods in user
 *     namespaces). `:idmap=false` or `:U` opt out;
 *   - rootless with den-idmap (the setuid helper), the same as root, through the helper's mounts;
 *   - rootless without it, the kernel refuses the caller idmapped mounts of ext4, xfs or btrfs: a
 *     container whose root is not the caller (auto, an explicit range) stores the files of a volume
 *     it is the first to fill in its own ids, and another range cannot use that volume (DEN1332)
 *     until `den volume reclaim` gives it back; the session's mapping and keep-id see the
 *     canonical files as they are.
 */

/** Where a container's mounts come from on the host: a bind's source, a volume's files. */
function hostPath(ctx: EngineContext, m: MountSpec): string | undefined {
  if (m.type === 'bind') return m.source;
  if (m.type === 'volume') return ctx.layout.volumeData(m.name);
  return undefined;
}

/**
 * A volume's files, the directories above them made private as the rest of the store (0700:
 * containers reach a volume through a mount den makes, never by its path), the files' own 0755.
 */
export function volumeData(ctx: EngineContext, name: string): string {
  mkdirSync(ctx.layout.volumesDir, { recursive: true, mode: 0o700 });
  mkdirSync(ctx.layout.volumeDir(name), { mode: 0o700, recursive: true });
  const data = ctx.layout.volumeData(name);
  mkdirSync(data, { mode: 0o755, recursive: true });
  return data;
}

/** Rootless: den-idmap where installed (docs/rootless.md), which idmaps binds and volumes as root does. */
function idmapHelper(ctx: EngineContext): IdmapHelper | undefined {
  if (!ctx.paths.rootless) return undefined;
  const found = findIdmapHelper(ctx.idmapHelperDirs);
  return 'found' in found ? found.found : undefined;
}

/** True when the container's root is not the store's owner: it cannot pass den's 0700 directories. */
function isStranger(c: Pick<ContainerRecord, 'config'>): boolean {
  const idMap = c.config.idMap;
  return idMap !== undefined && !mapsHostId(idMap.uid, 0);
}

/**
 * Whether the runtime binds this mount from a mount den makes under the container's lower/ (m<N>):
 * as root for a container whose ids are shifted (idmapped, or a plain bind of den's making that the
 * container's root can reach); rootless for a container whose root cannot pass the store's private
 * directories (bound in the session). Otherwise the runtime binds the source itself.
 */
function viaLower(ctx: EngineContext, c: Pick<ContainerRecord, 'config'>): boolean {
  return ctx.paths.rootless ? isStranger(c) : shiftsIds(c.config.idMap);
}

function lowerTarget(ctx: EngineContext, id: string, index: number): string {
  return join(lowerMountsDir(ctx, id), `m${index}`);
}

/**
 * At create: every mount of the container, in docker's precedence (-v and --mount and --tmpfs,
 * then --volumes-from, then the image's VOLUME where nothing else is mounted), anonymous volumes
 * named, each checked. Two mounts at one path are refused, as docker does.
 */
export function planMounts(ctx: EngineContext, spec: CreateSpec, image: ImageRecord): MountSpec[] {
  const mounts: MountSpec[] = [];
  const taken = new Set<string>();
  const add = (m: MountSpec, duplicate: 'refuse' | 'skip') => {
    if (taken.has(m.destination)) {
      if (duplicate === 'skip') return;
      throw invalidArgument('DEN1328', `duplicate mount point: ${m.destination}`, {
        hint: 'give each container path one -v, --mount or --tmpfs',
      });
    }
    taken.add(m.destination);
    mounts.push(m.type === 'volume' && m.name === '' ? { ...m, name: anonymousVolumeName(), anonymous: true } : m);
  };
  for (const m of [...spec.binds, ...(spec.mounts ?? [])]) add(m, 'refuse');
  for (const from of spec.volumesFrom ?? []) {
    const [ref, mode, ...rest] = from.split(':');
    if (!ref || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      throw invalidArgument('DEN1335', `invalid --volumes-from "${from}"`, {
        hint: 'use --volumes-from CONTAINER[:ro|rw]',
      });
    }
    const other = ctx.containers.resolve(ref);
    for (const m of mountsOf(other.config)) {
      if (m.type === 'tmpfs') continue; // a tmpfs is its container's own
      const readOnly = mode === undefined ? m.readOnly : mode === 'ro';
      // Another container's anonymous volume is shared, not owned: rm -v of this one leaves it.
      const shared: MountSpec = { ...m, readOnly, origin: 'volumes-from' };
      if (shared.type === 'volume') delete shared.anonymous;
      add(shared, 'skip');
    }
  }
  for (const path of Object.keys(image.config.config?.Volumes ?? {})) {
    const destination = path.length > 1 ? path.replace(/\/+$/, '') : path;
    if (!destination.startsWith('/') || destination === '/') continue;
    add({ type: 'volume', name: '', destination, readOnly: false, anonymous: true, origin: 'image' }, 'skip');
  }
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    try {
      statSync(m.source);
    } catch {
      throw notFound('DEN0632', `bind mount source path ${m.source} does not exist`, { hint: 'create it first' });
    }
  }
  // Parents before children, so that a mount inside another lands on top of it (docker's order).
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

/** --device: the host path must be a device node the caller can open as PERMISSIONS ask. */
export function planDevices(devices: readonly DeviceSpec[]): DeviceSpec[] {
  for (const d of devices) {
    let st;
    try {
      st = statSync(d.host);
    } catch {
      throw notFound('DEN1329', `--device ${d.host}: no such device`, {
        hint: 'give the path of a device node under /dev',
      });
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) {
      throw notFound('DEN1329', `--device ${d.host}: not a device node`, {
        hint: 'give a character or block device; directories of devices are not supported',
      });
    }
    const mode =
      (d.permissions.includes('r') ? constants.R_OK : 0) | (d.permissions.includes('w') ? constants.W_OK : 0);
    try {
      if (mode) accessSync(d.host, mode);
    } catch {
      throw failedPrecondition(
        'DEN1330',
        `--device ${d.host}: you cannot open it for ${d.permissions.replace('m', '') || 'use'}`,
        {
          hint: "a container can use only devices its caller may open: ask for fewer permissions (:r) or join the device's group",
        },
      );
    }
  }
  return [...devices];
}

/**
 * Checks what a container's mounts ask of this host, before anything is recorded: an explicit
 * idmap the kernel will refuse, and :U of a source that is not the caller's to give away.
 */
export function checkMounts(ctx: EngineContext, mounts: readonly MountSpec[], ownRange: boolean): void {
  for (const m of mounts) {
    if (m.type === 'tmpfs') continue;
    if (m.idmap === true && ctx.paths.rootless && !idmapHelper(ctx)) {
      throw failedPrecondition(
        'DEN1331',
        `${describe(m)}: rootless, the kernel does not let den make idmapped mounts of it`,
        {
          hint: ownRange
            ? "drop :idmap; use --userns=keep-id (or the session's mapping) to see your files as yours"
            : "drop :idmap: in the session's mapping the container already sees your files as its root's",
        },
      );
    }
    // Rootless, yours: owned by you or by one of your subordinate ids (a container's, say).
    if (
      m.chown &&
      m.type === 'bind' &&
      ctx.paths.rootless &&
      ctx.sessionId('uid', lstatSync(m.source).uid) === undefined
    ) {
      throw failedPrecondition(
        'DEN1333',
        `${describe(m)}: :U gives the source to the container, and ${m.source} is not yours`,
        {
          hint: 'chown it yourself, or bind a directory of your own',
        },
      );
    }
  }
}

export function describe(m: MountSpec): string {
  if (m.type === 'bind') return `bind mount ${m.source}:${m.destination}`;
  if (m.type === 'volume') return `volume ${m.anonymous ? m.name.slice(0, 12) : m.name} at ${m.destination}`;
  return `tmpfs at ${m.destination}`;
}

/**
 * In the transaction that records the container: its volumes exist (docker makes a missing named
 * volume), and, rootless, a container whose root is not the caller may use a volume only in the
 * ids it is stored in, or take an empty unused one over (the rule in docs/volumes.md).
 */
export function recordVolumes(ctx: EngineContext, c: ContainerRecord): void {
  const volumes = ctx.volumes;
  for (const m of mountsOf(c.config)) {
    if (m.type !== 'volume') continue;
    const v = volumes.ensure(m.name, m.anonymous === true);
    if (!ctx.paths.rootless) continue;
    // With den-idmap a container of any range is shown the canonical files; without it, a root that
    // is not you can use only files stored in its own ids.
    const wanted = isStranger(c) && !idmapHelper(ctx) ? c.config.idMap : undefined;
    if (sameMaps(v.idMap, wanted)) continue;
    const others = usersOf(ctx, m.name).filter((id) => id !== c.id);
    if ((!v.populated || m.chown) && others.length === 0) {
      volumes.setIdMap(m.name, wanted);
      continue;
    }
    throw failedPrecondition(
      'DEN1332',
      `volume ${m.name} holds files in ${v.idMap ? "another container's ids" : 'the ids of your session'}, which a container with ${wanted ? 'a range of its own' : "the session's mapping"} cannot use rootless`,
      {
        hint: `use it with the user namespace that filled it (--userns), give its files back with den volume reclaim ${m.name} once no container uses it, or give it to this container with :U (docs/volumes.md)`,
      },
    );
  }
}

function sameMaps(a: OciIdMaps | undefined, b: OciIdMaps | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Each volume some container mounts, with the ids of those containers. */
export function volumeUsers(ctx: EngineContext): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of ctx.containers.list()) {
    for (const m of mountsOf(c.config)) {
      if (m.type === 'volume') users.set(m.name, [...(users.get(m.name) ?? []), c.id]);
    }
  }
  return users;
}

/** The ids of the containers that mount a volume. */
export function usersOf(ctx: EngineContext, name: string): string[] {
  return volumeUsers(ctx).get(name) ?? [];
}

/** The mounts of config.json, in order: each bind or volume from where the runtime finds it. */
export function ociMounts(ctx: EngineContext, c: ContainerRecord): { binds: BindMount[]; tmpfs: TmpfsMount[] } {
  const binds: BindMount[] = [];
  const tmpfs: TmpfsMount[] = [];
  const lower = viaLower(ctx, c);
  mountsOf(c.config).forEach((m, i) => {
    if (m.type === 'tmpfs') {
      tmpfs.push({
        destination: m.destination,
        options: [
          ...m.options,
          m.readOnly ? 'ro' : 'rw',
          ...(m.size !== undefined ? [`size=${m.size}`] : []),
          `mode=${(m.mode ?? 0o1777).toString(8)}`,
        ],
      });
      return;
    }
    binds.push({
      source: lower ? lowerTarget(ctx, c.id, i) : hostPath(ctx, m)!,
      destination: m.destination,
      readOnly: m.readOnly,
      ...(m.type === 'bind' && m.propagation ? { propagation: m.propagation } : {}),
    });
  });
  return { binds, tmpfs };
}

export interface TmpfsMount {
  destination: string;
  options: string[];
}

/**
 * At every start, before the runtime: makes the mounts the runtime will bind from (root: idmapped
 * mounts made from den's process; rootless: binds made in the session), and returns the shell that
 * MOUNT_ROOTFS runs in the namespaces for what only they can do (a volume's --opt mount, the
 * session's binds). An idmapped mount asked for by den's default that the source's file system
 * refuses falls back to a plain bind, with a warning; one asked for with :idmap fails the start.
 */
export function prepareMounts(ctx: EngineContext, c: ContainerRecord): string {
  const mounts = mountsOf(c.config);
  const lines: string[] = [];
  const volumes = new Map<string, VolumeRecord>();
  for (const m of mounts) {
    if (m.type === 'bind' && !existsSync(m.source)) {
      throw notFound('DEN0632', `container ${c.name}: bind mount source path ${m.source} does not exist`, {
        hint: 'it was there when the container was made: create it again, or remove the container',
      });
    }
    if (m.type !== 'volume') continue;
    const v = ctx.volumes.get(m.name);
    if (!v) {
      throw notFound('DEN1322', `container ${c.name}: volume ${m.name} is gone`, {
        hint: `make it again (den volume create ${m.name}), or remove the container`,
      });
    }
    volumes.set(m.name, v);
    volumeData(ctx, m.name);
    const mount = volumeMountLine(ctx, v);
    if (mount) lines.push(mount);
  }
  if (!viaLower(ctx, c)) return lines.join('\n');
  const requests = mounts.flatMap((m, i) => {
    if (m.type === 'tmpfs') return [];
    const source = hostPath(ctx, m)!;
    const target = lowerTarget(ctx, c.id, i);
    mkdirSync(lowerMountsDir(ctx, c.id), { recursive: true, mode: 0o700 });
    if (statSync(source).isDirectory()) mkdirSync(target, { recursive: true });
    else closeSync(openSync(target, 'a'));
    const v = m.type === 'volume' ? volumes.get(m.name) : undefined;
    return [
      {
        source,
        target,
        idmap: m.idmap ?? !m.chown,
        explicit: m.idmap === true,
        // Stored in a container's ids (rootless, filled without the helper): shown as it is.
        stored: v?.idMap !== undefined,
        // Its --opt mount is made by the shell, after den's own mounts: bound there too.
        mountedByShell: v?.options.type !== undefined,
        what: describe(m),
      },
    ];
  });
  if (ctx.paths.rootless) {
    // With den-idmap, each directory is shown through an idmapped mount of the container's maps, as
    // root's are; a volume stored in a container's ids (no helper when it was filled), one the shell
    // mounts (--opt), a file, or a source the helper refuses is bound as it is, in the session.
    const helper = idmapHelper(ctx);
    const maps = helper && c.config.idMap ? helperMaps(ctx, c.config.idMap) : undefined;
    for (const r of requests) {
      if (helper && maps && r.idmap && !r.stored && !r.mountedByShell && statSync(r.source).isDirectory()) {
        const failed = attachThroughHelper(ctx, helper, maps, r.source, r.target, false);
        if (!failed) continue;
        if (r.explicit) {
          unmountRootfs(ctx, c.id);
          throw failedPrecondition('DEN1331', `container ${c.name}: cannot idmap ${r.what}: ${failed.message}`, {
            hint: 'den-idmap shows only directories you own (or your subordinate ids own): drop :idmap',
          });
        }
        ctx.events.warning(`container ${c.name}: ${r.what} is not idmapped (${failed.message}): bound as it is`);
      }
      lines.push(`mount --rbind ${shellQuote(r.source)} ${shellQuote(r.target)}`);
    }
    return lines.join('\n');
  }
  // Root: a volume with --opt is mounted by the shell after this; its files are reached then.
  const ordered = requests.filter((r) => !r.mountedByShell);
  const late = requests.filter((r) => r.mountedByShell);
  try {
    attachMounts(ctx.config.searchPath, c.config.idMap!, ordered, (r, e) => {
      const req = requests.find((q) => q.target === r.target)!;
      if (req.explicit) return false;
      ctx.events.warning(
        `container ${c.name}: ${req.what} is not idmapped (${e.message}): it sees the files' owners as they are on the host`,
      );
      return true;
    });
  } catch (e) {
    if (isDenError(e)) throw e;
    throw failedPrecondition('DEN1331', `container ${c.name}: cannot idmap its mounts: ${(e as Error).message}`, {
      hint: 'idmapped mounts need a file system that supports them (ext4, xfs, btrfs, tmpfs on 6.3+): drop :idmap',
      cause: e,
    });
  }
  for (const r of late) lines.push(`mount --bind ${shellQuote(r.source)} ${shellQuote(r.target)}`);
  return lines.join('\n');
}

/** The shell that mounts a volume made with --opt type/device/o on its _data, unless it is mounted. */
function volumeMountLine(ctx: EngineContext, v: VolumeRecord): string | undefined {
  const { type, device, o } = v.options;
  if (!type || !device) return undefined;
  const data = shellQuote(ctx.layout.volumeData(v.name));
  const options = o ? ` -o ${shellQuote(o)}` : '';
  return `mountpoint -q ${data} || mount -t ${shellQuote(type)}${options} ${shellQuote(device)} ${data} || { echo "den: volume ${v.name}: mount -t ${type} of ${device} failed" >&2; exit 1; }`;
}

/**
 * At create, after the bundle: fills each new volume from the image's files at its path (owners
 * and modes kept, as the container sees them), once, as docker does; a volume that is not filled
 * (nocopy, nothing there, or --opt) counts as filled all the same. :U chowns what it names.
 */
export async function fillVolumes(ctx: EngineContext, c: ContainerRecord): Promise<void> {
  const todo = mountsOf(c.config).filter(
    (m): m is MountSpec & { type: 'volume' } => m.type === 'volume' && ctx.volumes.get(m.name)?.populated === false,
  );
  for (const m of todo) {
    // Rootless, a volume taken over by a container with a range of its own: its root becomes that
    // container root's (the image's directory may give it another owner below).
    const stored = ctx.volumes.get(m.name)?.idMap;
    if (!stored) continue;
    const data = volumeData(ctx, m.name);
    const r = runSync(ctx.ns.wrap(['chown', `${shiftId(stored.uid, 0)}:${shiftId(stored.gid, 0)}`, data]));
    if (r.status !== 0) throw fillFailed(m, new Error(r.stderr.trim()));
  }
  const copies = todo.filter((m) => !m.noCopy && !ctx.volumes.get(m.name)?.options.type);
  if (copies.length > 0) {
    await withRootfs(ctx, c, async (rootfs) => {
      for (const m of copies) await copyImagePath(ctx, c, rootfs, m);
    });
  }
  for (const m of todo) ctx.volumes.markPopulated(m.name);
  for (const m of mountsOf(c.config)) if (m.type !== 'tmpfs' && m.chown) chownForContainer(ctx, c, m);
}

/** The image's files at a volume's path, into the volume: __files get | __files put, both in the namespaces. */
async function copyImagePath(
  ctx: EngineContext,
  c: ContainerRecord,
  rootfs: string,
  m: MountSpec & { type: 'volume' },
): Promise<void> {
  const data = volumeData(ctx, m.name);
  const stored = ctx.volumes.get(m.name)?.idMap;
  const first: Buffer[] = [];
  let seen = 0;
  const archive = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, done) {
      if (seen < 512) first.push(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
  });
  const containerMap = c.config.idMap;
  const get = runWorker<unknown, { bytes: number }>(
    ctx.ns,
    ctx.config.self,
    '__files',
    [
      'get',
      rootfs,
      JSON.stringify({
        path: `${m.destination}/.`,
        follow: false,
        container: c.name,
        ...(containerMap ? { idMap: containerMap } : {}),
      }),
    ],
    { output: archive, noAnswer: workerGone },
  ).finally(() => archive.end());
  const put = runWorker<never, unknown>(
    ctx.ns,
    ctx.config.self,
    '__files',
    [
      'put',
      data,
      JSON.stringify({
        path: '/',
        container: `volume ${m.name}`,
        readOnly: false,
        keepOwners: true,
        ...(stored ? { idMap: stored } : {}),
        canMknod: !ctx.paths.rootless,
      }),
    ],
    { stdin: archive, noAnswer: workerGone },
  );
  const [got, putDone] = await Promise.allSettled([get, put]);
  if (got.status === 'rejected') {
    archive.destroy();
    // Nothing at that path in the image (or not a directory): an empty volume, as docker leaves it.
    if (isDenError(got.reason) && (got.reason.kind === 'NotFound' || got.reason.code === 'DEN0667')) return;
    throw fillFailed(m, got.reason);
  }
  if (putDone.status === 'rejected') throw fillFailed(m, putDone.reason);
  // The volume's root takes the owner and mode of the image's directory, as docker gives it: the
  // archive's first entry ("." for DEST/.) says them, as the container sees them.
  const top = seen >= 512 ? tarHeaderOwner(Buffer.concat(first).subarray(0, 512)) : undefined;
  if (top) {
    const uid = stored ? shiftId(stored.uid, top.uid) : top.uid;
    const gid = stored ? shiftId(stored.gid, top.gid) : top.gid;
    const r = runSync(
      ctx.ns.wrap([
        'sh',
        '-c',
        'chown "$1" "$3" && chmod "$2" "$3"',
        'den-volume-root',
        `${uid}:${gid}`,
        top.mode.toString(8),
        data,
      ]),
    );
    if (r.status !== 0) throw fillFailed(m, new Error(r.stderr.trim()));
  }
}

/** Owner and permission bits of a tar header (ustar octal fields). */
function tarHeaderOwner(h: Buffer): { uid: number; gid: number; mode: number } | undefined {
  const octal = (at: number, len: number) =>
    parseInt(
      h
        .toString('latin1', at, at + len)
        .replace(/[\0 ]+$/, '')
        .trim(),
      8,
    );
  const mode = octal(100, 8);
  const uid = octal(108, 8);
  const gid = octal(116, 8);
  if (![mode, uid, gid].every(Number.isFinite) || h[156] !== 0x35) return undefined; // '5': a directory
  return { uid, gid, mode: mode & 0o7777 };
}

function fillFailed(m: MountSpec & { type: 'volume' }, e: unknown): DenError {
  return failedPrecondition('DEN1336', `${describe(m)}: cannot fill it from the image: ${(e as Error).message}`, {
    hint: 'add :nocopy (or volume-nocopy) to mount it empty',
    cause: e,
  });
}

function workerGone(status: number): DenError {
  return new DenError('Internal', 'DEN0505', `den's file worker stopped (status ${status}) without an answer`);
}

/** :U: the source becomes the container user's (its ids on the host), recursively, as podman does. */
function chownForContainer(ctx: EngineContext, c: ContainerRecord, m: MountSpec): void {
  const source = hostPath(ctx, m);
  if (!source) return;
  const others = ctx.containers
    .list()
    .filter((o) => o.id !== c.id && mountsOf(o.config).some((x) => hostPath(ctx, x) === source));
  if (others.length > 0) {
    throw failedPrecondition(
      'DEN1333',
      `${describe(m)}: :U would take it from container ${others[0]!.name}, which uses it too`,
      {
        hint: 'give the container a source of its own, or drop :U',
      },
    );
  }
  const map = c.config.idMap;
  const uid = map ? shiftId(map.uid, c.config.uid) : c.config.uid;
  const gid = map ? shiftId(map.gid, c.config.gid) : c.config.gid;
  const r = runSync(ctx.ns.wrap(['chown', '-R', '--no-dereference', `${uid}:${gid}`, source]));
  if (r.status !== 0) {
    throw failedPrecondition('DEN1336', `${describe(m)}: cannot chown it for :U: ${r.stderr.trim()}`, {
      hint: 'check that you own the source',
    });
  }
}

/** rm -v and --rm: the container's anonymous volumes go with it, unless another container uses one. */
export function removeAnonymousVolumes(ctx: EngineContext, c: ContainerRecord): void {
  for (const m of mountsOf(c.config)) {
    if (m.type !== 'volume' || !m.anonymous) continue;
    try {
      ctx.volumes.remove(m.name, () => usersOf(ctx, m.name).filter((id) => id !== c.id));
      removeVolumeFiles(ctx, m.name);
    } catch (e) {
      if (isDenError(e) && (e.kind === 'NotFound' || e.reason === 'in-use')) continue;
      throw e;
    }
  }
}

/**
 * Deletes a volume's directory (its record is gone): an --opt mount is undone first; files of
 * subordinate ids are removed in the namespaces, where they can be.
 */
export function removeVolumeFiles(ctx: EngineContext, name: string): void {
  const dir = ctx.layout.volumeDir(name);
  const data = ctx.layout.volumeData(name);
  const r = runSync(
    ctx.ns.wrap([
      'sh',
      '-c',
      '! mountpoint -q "$1" || umount "$1" || umount -l "$1"; rm -rf --one-file-system "$2"',
      'den-volume-rm',
      data,
      dir,
    ]),
  );
  if (r.status !== 0) {
    ctx.events.warning(`volume ${name}: its files could not all be removed (${r.stderr.trim()}): remove ${dir}`);
  }
}
