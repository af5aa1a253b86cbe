import { containerId, hostId } from './ids.js';
import { toContainer, toHost, type IdMap } from './id-map.js';

/**
 * A map in the OCI runtime spec's form (`linux.uidMappings`): the form den records with a
 * container, hands the runtime, writes to /proc/PID/uid_map for idmapped mounts and gives
 * fuse-overlayfs and the shifted copier. Plain numbers, because that is what crosses those
 * boundaries as JSON; `fromOci`/`toOci` convert to and from the branded `IdMap` where arithmetic
 * is done. Declared here once, for every module that passes maps along.
 */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A container's uid and gid maps, in OCI form. */
export interface OciIdMaps {
  uid: OciIdMapping[];
  gid: OciIdMapping[];
}

/** The kernel's overflow id: what an unmapped id is shown as (/proc/sys/kernel/overflowuid). */
const OVERFLOW_ID = 65534;

export function toOci(map: IdMap): OciIdMapping[] {
  return map.map((e) => ({ containerID: e.container as number, hostID: e.host as number, size: e.size }));
}

export function fromOci(map: readonly OciIdMapping[]): IdMap {
  return map.map((e) => ({ container: containerId(e.containerID), host: hostId(e.hostID), size: e.size }));
}

/**
 * The id container id `id` has on the other side of the map; the overflow id when the map does
 * not cover it. With `0 1000 1 / 1 100000 65535`: 0 -> 1000, 1 -> 100000, 70000 -> 65534.
 */
export function shiftId(map: readonly OciIdMapping[], id: number): number {
  return toHost(branded(map), containerId(id)) ?? OVERFLOW_ID;
}

/**
 * The container id under which id `id` (on the other side of the map) appears; the overflow id when
 * the map does not cover it, as the kernel shows it. With `0 1000 1 / 1 100000 65535`: 1000 -> 0,
 * 100005 -> 6, 5 -> 65534.
 */
export function unshiftId(map: readonly OciIdMapping[], id: number): number {
  return toContainer(branded(map), hostId(id)) ?? OVERFLOW_ID;
}

/** The shifted copier asks twice per file: convert each map once, not per question. */
const brandedMaps = new WeakMap<readonly OciIdMapping[], IdMap>();
function branded(map: readonly OciIdMapping[]): IdMap {
  let b = brandedMaps.get(map);
  if (!b) brandedMaps.set(map, (b = fromOci(map)));
  return b;
}

/** True when the maps shift ids (anything but 0 -> 0): the image must then be shown shifted. */
export function shiftsIds(maps: OciIdMaps | undefined): boolean {
  if (!maps) return false;
  return [...maps.uid, ...maps.gid].some((e) => e.containerID !== e.hostID);
}

/** True when some container id maps to host id `host`. */
export function mapsHostId(map: readonly OciIdMapping[], host: number): boolean {
  return map.some((m) => host >= m.hostID && host < m.hostID + m.size);
}
