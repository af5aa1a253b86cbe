export { unpackLayer, DEFAULT_LIMITS, OPAQUE_XATTR } from './tar-unpacker.js';
export type { UnpackOptions, UnpackStats, UnpackLimits } from './tar-unpacker.js';
