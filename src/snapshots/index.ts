export { LayerStore, type LayerRecord } from './layer-store.js';
export { overlayMountOptions, shiftedLowerOptions, type IdShift, type OverlayMount } from './overlay.js';
export { StoreLayout } from './layout.js';
export { copyShifted, shiftId, type ShiftCopyOptions, type ShiftCopyStats } from './shifted-copy.js';
