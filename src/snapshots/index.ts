export { LayerStore, type LayerRecord } from './layer-store.js';
export { fuseOverlayOptions, overlayMountOptions, type IdShift, type OverlayMount } from './overlay.js';
export { StoreLayout } from './layout.js';
