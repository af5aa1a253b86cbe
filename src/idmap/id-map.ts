import { readFileSync } from 'node:fs';
import { invalidArgument } from '../common/errors.js';
import { INVALID_ID, MAX_ID, isValidId, type ContainerId, type HostId, type IdRange } from './ids.js';
import { subtractRanges } from './ranges.js';

/**
 * One line of /proc/PID/uid_map: container ids `container .. container+size-1` are host ids
 * `host .. host+size-1`. "Host" is the parent namespace's view; for den that is the initial namespace
 * except inside the rootless session, where a container's host ids are the session's ids.
 */
export interface IdExtent {
  readonly container: ContainerId;
  readonly host: HostId;
  readonly size: number;
}

/** A uid or gid map: the extents in the order they are written to the kernel. */
export type IdMap = readonly IdExtent[];

/** Extents per map the kernel accepts since Linux 4.15 (before that, 5). */
export const MAX_EXTENTS = 340;

/**
 * The rootless session's map, as newuidmap and podman lay it out: the caller's own id becomes root,
 * and the subordinate ranges follow from container id 1 in the order given.
 *
 *   sessionMap(1000, [{start: 1000, count: 1}, {start: 100000, count: 65535}])
 *   -> 0 1000 1 / 1 100000 65535
 *
 * Host ids already mapped (the own id, or a range listed twice under the user's name and uid) are
 * left out of later ranges, because the kernel refuses a map that names a host id twice. The map is
 * cut short rather than reach container id 4294967295. The result still goes through validateIdMap.
 */
export function sessionMap(ownId: number, ranges: readonly IdRange[]): IdMap {
  const map: IdExtent[] = [{ container: 0 as ContainerId, host: ownId as HostId, size: 1 }];
  const mapped: IdRange[] = [{ start: ownId as HostId, count: 1 }];
  let next = 1;
  for (const range of ranges) {
    for (const piece of subtractRanges([range], mapped)) {
      const size = Math.min(piece.count, INVALID_ID - next);
      if (size <= 0) return map;
      map.push({ container: next as ContainerId, host: piece.start, size });
      mapped.push({ start: piece.start, count: size });
      next += size;
    }
  }
  return map;
}

/**
 * A nested namespace's map, cut wherever an extent crosses from one extent of the parent's map into
 * the next. The kernel wants every extent of a child map inside a single extent of its parent's,
 * even where the parent's extents follow each other without a gap (the rootless session's do: its
 * ids are contiguous, the host ids behind them are not). `parent` is the parent namespace's own side
 * of its map. Ids outside the parent's extents are left as they are, for the kernel to refuse.
 *
 *   splitAlongExtents([0 1 70000], [0+1, 1+65536, 65537+196608]) -> 0 1 65536 / 65536 65537 4464
 */
export function splitAlongExtents(map: IdMap, parent: readonly IdRange<ContainerId>[]): IdExtent[] {
  const out: IdExtent[] = [];
  for (const e of map) {
    let container = e.container as number;
    let host = e.host as number;
    let left = e.size;
    while (left > 0) {
      const p = parent.find((r) => host >= r.start && host < r.start + r.count);
      const size = p ? Math.min(left, p.start + p.count - host) : left;
      out.push({ container: container as ContainerId, host: host as HostId, size });
      container += size;
      host += size;
      left -= size;
    }
  }
  return out;
}

function describe(kind: string, map: IdMap, index: number): string {
  const e = map[index]!;
  return `${kind} map entry ${index + 1} (${e.container} ${e.host} ${e.size})`;
}

/**
 * Checks a map against the rules the kernel applies when it is written to /proc/PID/uid_map or
 * gid_map, so that a bad map is reported with the entry at fault instead of the kernel's bare EINVAL.
 */
export function validateIdMap(map: IdMap, kind: 'uid' | 'gid'): void {
  if (map.length === 0) {
    throw invalidArgument('DEN0204', `${kind} map is empty: it must map at least one id`, {
      hint: `give at least one container:host:size entry, or check /etc/sub${kind} for your user`,
    });
  }
  if (map.length > MAX_EXTENTS) {
    throw invalidArgument(
      'DEN0205',
      `${kind} map has ${map.length} entries; the kernel accepts at most ${MAX_EXTENTS} (5 before Linux 4.15)`,
      { hint: 'merge adjacent ranges into larger entries' },
    );
  }
  map.forEach((e, i) => {
    if (!Number.isInteger(e.size) || e.size < 1) {
      throw invalidArgument(
        'DEN0206',
        `${describe(kind, map, i)}: size ${e.size} must be a whole number of at least 1`,
      );
    }
    for (const [side, first] of [
      ['container', e.container],
      ['host', e.host],
    ] as const) {
      if (!isValidId(first)) {
        throw invalidArgument(
          'DEN0207',
          `${describe(kind, map, i)}: ${side} id ${first} is not a valid id (0-${MAX_ID})`,
        );
      }
      if (first + e.size > INVALID_ID) {
        throw invalidArgument(
          'DEN0207',
          `${describe(kind, map, i)}: ${side} ids ${first}-${first + e.size - 1} go past ${MAX_ID}; ` +
            `${INVALID_ID} is (${kind}_t)-1 and can never be mapped`,
        );
      }
    }
  });
  checkOverlap(map, kind, 'container');
  checkOverlap(map, kind, 'host');
}

function checkOverlap(map: IdMap, kind: 'uid' | 'gid', side: 'container' | 'host'): void {
  const order = map.map((_, i) => i).sort((a, b) => map[a]![side] - map[b]![side]);
  // Sorted by first id, any overlap shows up between neighbours.
  for (let k = 1; k < order.length; k++) {
    const [i, j] = [order[k - 1]!, order[k]!].sort((a, b) => a - b) as [number, number];
    const a = map[i]!;
    const b = map[j]!;
    const lo = Math.max(a[side], b[side]);
    const hi = Math.min(a[side] + a.size, b[side] + b.size);
    if (lo < hi) {
      throw invalidArgument(
        side === 'container' ? 'DEN0208' : 'DEN0209',
        `${describe(kind, map, i)} and entry ${j + 1} (${b.container} ${b.host} ${b.size}) both map ${side} ids ${lo}-${hi - 1}`,
        {
          hint:
            side === 'container'
              ? `each container ${kind} can stand for only one host ${kind}`
              : `each host ${kind} can appear in only one entry; the kernel rejects the map otherwise`,
        },
      );
    }
  }
}

/** The host id that container id `id` stands for, or undefined when the map does not cover it. */
export function toHost(map: IdMap, id: ContainerId): HostId | undefined {
  for (const e of map) {
    if (id >= e.container && id < e.container + e.size) return (e.host + (id - e.container)) as HostId;
  }
  return undefined;
}

/**
 * The container id under which host id `id` appears, or undefined when it is not mapped (the kernel
 * then shows it as the overflow id, see overflowId).
 */
export function toContainer(map: IdMap, id: HostId): ContainerId | undefined {
  for (const e of map) {
    if (id >= e.host && id < e.host + e.size) return (e.container + (id - e.host)) as ContainerId;
  }
  return undefined;
}

/** The number of ids the map covers. */
export function mapSize(map: IdMap): number {
  return map.reduce((n, e) => n + e.size, 0);
}

/** The host ids a map uses, e.g. to mark them taken when allocating ranges. */
export function hostRanges(map: IdMap): IdRange[] {
  return map.map((e) => ({ start: e.host, count: e.size }));
}

/** The container ids a map covers. */
export function containerRanges(map: IdMap): IdRange<ContainerId>[] {
  return map.map((e) => ({ start: e.container, count: e.size }));
}

/** The map as the kernel reads it from /proc/PID/uid_map: one `container host size` line per entry. */
export function formatIdMap(map: IdMap): string {
  return map.map((e) => `${e.container} ${e.host} ${e.size}\n`).join('');
}

/** The map as newuidmap(1) and newgidmap(1) take it after the pid: `container host size ...`. */
export function newIdMapArgs(map: IdMap): string[] {
  return map.flatMap((e) => [String(e.container), String(e.host), String(e.size)]);
}

/**
 * Parses a `--uidmap`/`--gidmap` value: `container:host:size`, several separated by commas. Each entry
 * is checked on its own; overlaps between entries (which may come from several flags) are left to
 * validateIdMap on the assembled map.
 */
export function parseIdMapSpec(spec: string, option = '--uidmap'): IdExtent[] {
  const hint = `write ${option} as container:host:size, e.g. ${option}=0:100000:65536; separate several with commas`;
  const bad = (problem: string) => invalidArgument('DEN0210', `${option} "${spec}": ${problem}`, { hint });
  if (spec.trim() === '') throw bad('the mapping is empty');
  return spec.split(',').map((raw, i) => {
    const entry = raw.trim();
    const where = `entry ${i + 1}`;
    if (entry === '') throw bad(`${where} is empty`);
    const fields = entry.split(':').map((f) => f.trim());
    if (fields.length !== 3) throw bad(`${where} "${entry}" is not container:host:size`);
    const [container, host, size] = fields.map((f, k) => {
      const name = ['container id', 'host id', 'size'][k]!;
      if (!/^\d+$/.test(f)) throw bad(`${where}: ${name} "${f}" is not a number`);
      return Number(f);
    }) as [number, number, number];
    if (size < 1) throw bad(`${where}: size must be at least 1`);
    for (const [name, first] of [
      ['container', container],
      ['host', host],
    ] as const) {
      if (first + size > INVALID_ID) {
        throw bad(`${where}: ${name} ids ${first}-${first + size - 1} go past the highest id ${MAX_ID}`);
      }
    }
    return { container: container as ContainerId, host: host as HostId, size };
  });
}

/**
 * The id the kernel shows for host ids a namespace does not map (nobody, 65534 unless the administrator
 * changed it). `file` is for tests.
 */
export function overflowId(kind: 'uid' | 'gid', file = `/proc/sys/kernel/overflow${kind}`): ContainerId {
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (/^\d+$/.test(value) && isValidId(Number(value))) return Number(value) as ContainerId;
  } catch {
    // No /proc (a test chroot, a non-Linux host): the kernel's compiled-in default is the best guess.
  }
  return 65534 as ContainerId;
}

/** One extent of an idmapped mount's map: host ids on disk and the host ids they appear as. */
export interface MountIdExtent {
  readonly onDisk: HostId;
  readonly seen: HostId;
  readonly size: number;
}

/**
 * The map of an idmapped mount that shows a rootless layer to a container, in host ids. A rootless
 * layer is unpacked in the session, so the image's id k is on disk as the session's host id for k;
 * the container, whose map `container` takes its ids to session ids, must see it as the host id
 * behind its own k. Both sides go through `session` (session id -> host id), cut wherever either
 * crosses from one of its extents into the next. Container ids the session does not have (no layer
 * can hold them) are left out; a container extent naming session ids the session does not have
 * is an error, as the kernel would refuse it.
 *
 *   session 0 1000 1 / 1 100000 65536, container 0 1 70 (auto: its own block from session id 1)
 *   -> 1000 -> 100000 (1), then 100000 -> 100001 (69)
 */
export function mountThroughSession(container: IdMap, session: IdMap): MountIdExtent[] {
  const out: MountIdExtent[] = [];
  // How many ids from `id` on map contiguously through `map`, and to what; undefined when unmapped.
  const run = (id: number): { host: number; left: number } | undefined => {
    for (const e of session) {
      if (id >= e.container && id < e.container + e.size)
        return { host: e.host + (id - e.container), left: e.container + e.size - id };
    }
    return undefined;
  };
  for (const e of container) {
    for (let off = 0; off < e.size;) {
      const disk = run(e.container + off);
      const seen = run(e.host + off);
      if (!seen)
        throw new Error(
          `container map ${e.container} ${e.host} ${e.size}: session id ${e.host + off} is not the session's`,
        );
      if (!disk) {
        // Past the session's ids on the image's side: skip to where the session has the next id.
        const next = session.map((s) => s.container as number).filter((c) => c > e.container + off);
        if (next.length === 0) break;
        off = Math.min(...next) - e.container;
        continue;
      }
      const size = Math.min(disk.left, seen.left, e.size - off);
      const last = out[out.length - 1];
      if (last && last.onDisk + last.size === disk.host && last.seen + last.size === seen.host) {
        out[out.length - 1] = { ...last, size: last.size + size };
      } else {
        out.push({ onDisk: disk.host as HostId, seen: seen.host as HostId, size });
      }
      off += size;
    }
  }
  return out;
}
