export { ContentStore, Ingest, type Descriptor } from './content-store.js';
export { chainIds, digestFromHash, digestOf, hexOf, isDigest, newHash, parseDigest, type Digest } from './digest.js';
