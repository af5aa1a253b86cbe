// The store's locks, leases and sweeps live in snapshots/ with the layers they guard; this name
// stays while the image use cases move to importing them from there.
export {
  abandoned,
  leased,
  lockedLayers,
  ownerAliveOfName,
  ownerTag,
  removeTree,
  sweepAbandoned,
  takeLease,
  withLayerLock,
  type Abandoned,
} from '../snapshots/index.js';
