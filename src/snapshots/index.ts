export { LayerStore, type LayerRecord } from './layer-store.js';
export { overlayMountOptions, type OverlayMount } from './overlay.js';
export { StoreLayout } from './layout.js';
