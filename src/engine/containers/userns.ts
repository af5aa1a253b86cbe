import { failedPrecondition, invalidArgument } from '../../common/errors.js';
import { parseUserns, type UsernsRequest } from './create-spec.js';
import type { ContainerIdMap } from '../../containers/index.js';
import { IdRangeStore } from '../../containers/index.js';
import {
  containerId,
  hostId,
  fromOci,
  splitAlongExtents,
  toOci,
  type ContainerId,
  readSubordinateRanges,
  type IdRange,
} from '../../idmap/index.js';
import { hexOf } from '../../content/index.js';
import type { ImageRecord } from '../../images/index.js';
import type { SessionMaps } from '../../session/index.js';
import type { EngineContext } from '../context.js';
import { readImageFile } from './image-users.js';

/** The /etc/subuid and /etc/subgid owner whose ranges root mode hands out (scripts/setup-host.sh). */
export const ROOT_POOL_USER = 'den';

/**
 * Resolves the request into the container's maps. `auto` takes a range inside the transaction
 * that records the container (`allocateUserns`): as root from the pool of the system user den,
 * rootless from the session's own ids (the caller's subordinate ranges, numbered from 1 in the
 * session), so ranges stay valid as long as /etc/subuid does.
 */
export function planUserns(ctx: EngineContext, request: UsernsRequest, image: ImageRecord): UsernsPlan {
  if (request.mode === 'default') request = parseUserns(ctx.config.defaultUserns || defaultUserns(ctx).mode, [], []);
  return ctx.paths.rootless ? planRootless(ctx, request, image) : planRoot(ctx, request, image);
}

function planRootless(ctx: EngineContext, request: UsernsRequest, image: ImageRecord): UsernsPlan {
  if (request.mode === 'default' || request.mode === 'host') return { mode: 'host' };
  const maps = ctx.sessionMaps();
  if (request.mode === 'keep-id') return { mode: 'keep-id', idMap: fitToSession(keepIdMap(ctx, request), maps) };
  const uidTotal = argsSize(maps.uidArgs);
  const gidTotal = argsSize(maps.gidArgs);
  if (request.mode === 'explicit') {
    // Relative to the session, as podman's rootless --uidmap: host ids are the session's ids.
    for (const [kind, map, total] of [
      ['uid', request.uidMap, uidTotal],
      ['gid', request.gidMap, gidTotal],
    ] as const) {
      const top = Math.max(...map.map((e) => (e.host as number) + e.size));
      if (top > total) {
        throw invalidArgument(
          'DEN0684',
          `--${kind}map: rootless, host ids are your session's, 0 to ${total - 1}, and this map reaches ${top - 1}`,
          { hint: `your session maps your own ${kind} to 0 and your subordinate ranges above it` },
        );
      }
    }
    return { mode: 'explicit', idMap: fitToSession({ uid: toOci(request.uidMap), gid: toOci(request.gidMap) }, maps) };
  }
  const size = checkAutoSize(ctx, request, image);
  const pools = { uid: sessionPool(maps.uidArgs), gid: sessionPool(maps.gidArgs) };
  return { mode: 'auto', pools, size, poolName: 'your subordinate ranges (/etc/subuid, /etc/subgid)' };
}

function planRoot(ctx: EngineContext, request: UsernsRequest, image: ImageRecord): UsernsPlan {
  if (request.mode === 'keep-id') {
    throw invalidArgument('DEN0682', '--userns=keep-id is for rootless den: as root, use --userns=auto or --uidmap');
  }
  if (request.mode === 'host') return { mode: 'host', idMap: identity() };
  if (request.mode === 'explicit') {
    return { mode: 'explicit', idMap: { uid: toOci(request.uidMap), gid: toOci(request.gidMap) } };
  }
  const pools = rootPools();
  if (!pools) {
    if (request.mode === 'auto') {
      throw failedPrecondition(
        'DEN0676',
        `--userns=auto: no id pool: /etc/subuid and /etc/subgid have no range for ${ROOT_POOL_USER}`,
        {
          hint: `run scripts/setup-host.sh, or add e.g. "${ROOT_POOL_USER}:1000000000:1000000000" to both files`,
        },
      );
    }
    return { mode: 'host', idMap: identity() }; // no pool configured: the one-to-one mapping
  }
  return { mode: 'auto', pools, size: checkAutoSize(ctx, request, image), poolName: `the ${ROOT_POOL_USER} pool` };
}

function checkAutoSize(ctx: EngineContext, request: UsernsRequest, image: ImageRecord): number {
  const needed = autoSize(ctx, image);
  if (request.mode !== 'auto' || request.size === undefined) return needed;
  if (request.size < needed) {
    throw invalidArgument(
      'DEN0678',
      `--userns=auto:size=${request.size} is too small for this image: it uses ids up to ${needed - 1}`,
      { hint: `give at least size=${needed}, or leave the size out` },
    );
  }
  return request.size;
}

/**
 * The mode a container gets without --userns when nothing configures one (config.defaultUserns:
 * DEN_USERNS, den.conf or containers.conf). As root, `auto`: container root is never host root,
 * and idmapped mounts make it free. Rootless, `host`, the session's mapping, as Docker's and
 * Podman's rootless modes: container root is the caller, so bind mounts are writable and what the
 * container writes stays the caller's, the image is read at native speed, and the default does not
 * depend on how many subordinate ids the caller has. `den system check` reports it.
 */
export function defaultUserns(ctx: EngineContext): { mode: 'auto' | 'host'; why: string } {
  if (!ctx.paths.rootless) return { mode: 'auto', why: 'root: a range of its own per container, no copies' };
  return {
    mode: 'host',
    why: 'rootless: the session mapping, container root is you; --userns=auto, DEN_USERNS=auto or `userns = auto` in den.conf give each container a range of its own',
  };
}

export type UsernsPlan =
  | { mode: 'host' | 'explicit' | 'keep-id'; idMap?: ContainerIdMap }
  | {
      mode: 'auto';
      pools: { uid: IdRange[]; gid: IdRange[] };
      size: number;
      /** Where the ids come from, for the error when there is no room. */
      poolName: string;
    };

/** Takes the plan's range (auto) inside the container's insert transaction; returns the maps. */
export function allocateUserns(ctx: EngineContext, plan: UsernsPlan, containerId: string): ContainerIdMap | undefined {
  if (plan.mode !== 'auto') return plan.idMap;
  const range = new IdRangeStore(ctx.db).allocate(containerId, plan.pools, plan.size);
  if (!range) {
    throw failedPrecondition('DEN0677', `--userns=auto: no free range of ${plan.size} ids left in ${plan.poolName}`, {
      hint: 'remove containers you no longer need, pass a smaller auto:size=N, or add ids to /etc/subuid and /etc/subgid',
    });
  }
  return {
    uid: [{ containerID: 0, hostID: range.uidStart, size: range.size }],
    gid: [{ containerID: 0, hostID: range.gidStart, size: range.size }],
  };
}

/**
 * Enough ids for every owner in the image: the highest uid or gid on a file in its layers or in its
 * /etc/passwd and /etc/group, plus one, within the configured bounds.
 */
export function autoSize(ctx: EngineContext, image: ImageRecord): number {
  let highest = 0;
  for (const layer of image.layers) {
    const ids = ctx.layers.highestIds(layer.chainId);
    if (ids) highest = Math.max(highest, ids.uid, ids.gid);
  }
  const dirs = image.layers.map((l) => ctx.layout.layerDir(hexOf(l.chainId))).reverse();
  for (const file of ['etc/passwd', 'etc/group']) {
    for (const line of readImageFile(dirs, file).split('\n')) {
      const fields = line.split(':');
      for (const f of [fields[2], fields[3]]) {
        if (f !== undefined && /^[0-9]+$/.test(f) && Number(f) < 0xfffffffe) highest = Math.max(highest, Number(f));
      }
    }
  }
  const { min, max } = ctx.config.autoRange;
  return Math.min(max, Math.max(min, highest + 1));
}

/**
 * keep-id's maps, relative to the session (where the caller is 0 and subordinate ids follow from 1):
 * container ids below U take session ids 1..U, container U is session 0 (the caller), and the rest
 * map to themselves. Written with the same triplets, they are also fuse-overlayfs's uidmapping:
 * the image's on-disk id d is shown as the session id that container id d maps to.
 */
function keepIdMap(ctx: EngineContext, request: { uid?: number; gid?: number }): ContainerIdMap {
  const maps = ctx.sessionMaps();
  const size = argsSize;
  const build = (id: number, total: number, kind: string) => {
    if (id < 1 || id >= total - 1) {
      throw invalidArgument('DEN0683', `--userns=keep-id: ${kind} ${id} must be between 1 and ${total - 2}`, {
        hint: 'your session maps only as many ids as your subordinate ranges give',
      });
    }
    return [
      { containerID: 0, hostID: 1, size: id },
      { containerID: id, hostID: 0, size: 1 },
      { containerID: id + 1, hostID: id + 1, size: total - id - 1 },
    ];
  };
  return {
    uid: build(request.uid ?? ctx.uid, size(maps.uidArgs), 'uid'),
    gid: build(request.gid ?? ctx.gid, size(maps.gidArgs), 'gid'),
  };
}

/** A map relative to the session, its extents cut where they cross from one session extent to the next. */
function fitToSession(idMap: ContainerIdMap, maps: SessionMaps): ContainerIdMap {
  const fit = (map: ContainerIdMap['uid'], args: string[]) => {
    return toOci(splitAlongExtents(fromOci(map), sessionExtents(args)));
  };
  return { uid: fit(idMap.uid, maps.uidArgs), gid: fit(idMap.gid, maps.gidArgs) };
}

/**
 * The session's ids that auto ranges come from: every extent of its map but the caller's own id 0,
 * one range per extent (a nested map's extent must lie within one of the session's).
 */
function sessionPool(args: string[]): IdRange[] {
  const pool: IdRange[] = [];
  for (const e of sessionExtents(args)) {
    const skip = e.start === 0 ? 1 : 0; // the caller's own id
    if (e.count > skip) pool.push({ start: hostId(e.start + skip), count: e.count - skip });
  }
  return pool;
}

/** The session's own ids, extent by extent, from flat newuidmap arguments (container host size, repeated). */
function sessionExtents(args: string[]): IdRange<ContainerId>[] {
  const extents: IdRange<ContainerId>[] = [];
  for (let i = 0; i + 2 < args.length; i += 3) {
    extents.push({ start: containerId(Number(args[i])), count: Number(args[i + 2]) });
  }
  return extents;
}

/** How many ids the session maps, from flat newuidmap arguments. */
function argsSize(args: string[]): number {
  return sessionExtents(args).reduce((n, e) => n + e.count, 0);
}

function rootPools() {
  const user = { name: ROOT_POOL_USER, uid: -1 };
  const uid = readSubordinateRanges('uid', user);
  const gid = readSubordinateRanges('gid', user);
  return uid.length > 0 && gid.length > 0 ? { uid, gid } : undefined;
}

function identity(): ContainerIdMap {
  const m = [{ containerID: 0, hostID: 0, size: 65536 }];
  return { uid: m, gid: m };
}
