/**
 * The engine: den's use cases, the only module that composes the others. The CLI calls it, and so
 * will the Docker API socket and the CRI endpoint; nothing here prints or reads the terminal.
 */
export { EngineContext } from './context.js';
export { createContainer, parseVolume, type CreateOptions } from './create-container.js';
export { exportContainer } from './export-container.js';
export { importImage, type ImportOptions } from './import-image.js';
export { pullImage, type PullEvent, type PullOptions } from './pull-image.js';
export { pushImage, type PushEvent, type PushOptions } from './push-image.js';
export { isRunning, reconcile, removeContainer } from './remove-container.js';
export { removeImage, type RemovedImage } from './remove-image.js';
export { runAttached, type AttachIO } from './run-attached.js';
export { runInSession } from './run-in-session.js';
export { findExecutable, findRuntime, DEFAULT_RUNTIME } from './runtimes.js';
export { checkSystem, type CheckOptions, type CheckResult } from './system-check.js';
export {
  checkStore,
  collectGarbage,
  diskUsage,
  pruneImages,
  type Collected,
  type DiskUsage,
} from './store-maintenance.js';
export { loadArchive, type LoadedImage, type LoadOptions } from './load-archive.js';
export { ARCHIVE_FORMATS, saveArchive, type ArchiveFormat, type SaveOptions } from './save-archive.js';
export { imageHistory, tagImage, type HistoryEntry } from './tag-image.js';
