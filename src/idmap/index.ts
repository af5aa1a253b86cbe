/**
 * idmap: pure id-mapping arithmetic for den. It parses /etc/subuid and /etc/subgid, builds and checks
 * the uid/gid maps written to /proc/PID/uid_map, translates ids between a container and the host, and
 * allocates ranges. It starts no process and touches no namespace; the only file reads are
 * readSubordinateRanges (also through checkSubordinateIds, den system check's probe) and overflowId.
 */
export {
  INVALID_ID,
  MAX_ID,
  containerId,
  hostId,
  isValidId,
  type ContainerId,
  type HostId,
  type IdRange,
} from './ids.js';
export {
  freeSubordinateRange,
  parseSubordinateIds,
  rangesFor,
  readSubordinateRanges,
  type SubIdEntry,
  type SubIdUser,
} from './subid.js';
export { addRangeCommand, checkSubordinateIds } from './subid-checks.js';
export {
  MAX_EXTENTS,
  containerRanges,
  formatIdMap,
  hostRanges,
  mapSize,
  mountThroughSession,
  newIdMapArgs,
  overflowId,
  parseIdMapSpec,
  sessionMap,
  splitAlongExtents,
  toContainer,
  toHost,
  validateIdMap,
  type IdExtent,
  type IdMap,
  type MountIdExtent,
} from './id-map.js';
export {
  allocateRange,
  intersectRanges,
  normalizeRanges,
  rangesOverlap,
  rangesSize,
  subtractRanges,
} from './ranges.js';
export {
  fromOci,
  mapsHostId,
  shiftId,
  shiftsIds,
  toOci,
  unshiftId,
  type OciIdMapping,
  type OciIdMaps,
} from './oci-id-map.js';
