export { LayerStore, type LayerRecord } from './layer-store.js';
export { overlayMountOptions, shiftedLowerOptions, type IdShift, type OverlayMount } from './overlay.js';
export { StoreLayout } from './layout.js';
export { copyShifted, type ShiftCopyOptions, type ShiftCopyStats } from './shifted-copy.js';
export {
  imageRootOwner,
  MOUNT_ROOTFS,
  MOUNT_ROOTFS_ARGC,
  removeRootfs,
  rootfsCleanupHook,
  unmountRootfs,
  lowerMountsDir,
  type RootfsMounts,
  type RootfsRequest,
  type RuntimeHook,
  type ShiftMethod,
  type ShiftProgress,
  type SnapshotContext,
  type Snapshotter,
} from './snapshotter.js';
export { chooseShift, fuseShift, snapshotterFor, SNAPSHOTTERS, type ShiftChoice } from './choose-snapshotter.js';
export { shiftKey } from './copy-snapshotter.js';
export {
  checkFuseDevice,
  checkFuseOverlayfs,
  checkIdmapHelper,
  checkIdmappedMounts,
  checkOverlay,
} from './snapshot-checks.js';
export { findIdmapHelper, IDMAP_HELPER_DIRS, IDMAP_HELPER_STATUS, type IdmapHelper } from './idmap-helper.js';
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
  type StoreAccess,
} from './store-lock.js';
export { upperChanges, upperLayer, type Change, type ChangeKind, type UpperRequest } from './upper-changes.js';
export { attachMounts, type AttachRequest } from './idmapped-snapshotter.js';
export { attachThroughHelper, helperMaps } from './helper-idmapped-snapshotter.js';
