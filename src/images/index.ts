export { DEFAULT_PATH, MEDIA_TYPES, type ImageConfig, type ImageRecord, type LayerRef } from './image.js';
export { ImageStore } from './image-store.js';
export {
  DEFAULT_DOMAIN,
  familiarName,
  familiarRepository,
  formatReference,
  parseReference,
  repositoryOf,
  type Reference,
} from './reference.js';
