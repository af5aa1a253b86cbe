/**
 * The engine: den's use cases, the only module that composes the others. The CLI calls it, and so
 * will the Docker API socket and the CRI endpoint; nothing here prints or reads the terminal.
 *
 * Use cases that pull in much code (the registry client with node:https, the archive readers) are
 * loaded on first call: `den run` of a local image, on every container start, never parses them.
 */
import type { Writable } from 'node:stream';
import type { EngineContext } from './context.js';
import type { PullOptions } from './images/pull-image.js';
import type { PushOptions } from './images/push-image.js';
import type { RegistryAccess } from './images/registry-access.js';
import type { LoadOptions } from './images/load-archive.js';
import type { SaveOptions } from './images/save-archive.js';
import type { CopyFromContainer, CopyToContainer } from './containers/copy-files.js';
import type { CommitOptions } from './containers/container-changes.js';
import type { Readable } from 'node:stream';

export { EngineContext } from './context.js';
export { followEvents, type EventsOptions } from './events.js';
export { createContainer } from './containers/create-container.js';
export {
  envFileEntries,
  parseBytes,
  parseDuration,
  parseLabels,
  parseLogConfig,
  parseNetwork,
  parseRestartPolicy,
  parseSignal,
  parseUserns,
  parseVolume,
  parseMount,
  parseTmpfs,
  parseDevice,
  resolveEnv,
  type CreateSpec,
  type HealthFlags,
  type UsernsRequest,
} from './containers/create-spec.js';
export {
  defaultSecurity,
  KEEP_GROUPS,
  parseSecurity,
  type SecurityFlags,
  type SecuritySpec,
} from './containers/security.js';
export { parseInt64, parseMemoryBytes, parseMemorySwap, parseNanoCpus, parseUlimit } from './containers/limits.js';
export { containerCgroupDirs, planLimits, type LimitsPlan } from './containers/container-cgroup.js';
export type { ContainerLimits, MountSpec, Ulimit } from '../containers/index.js';
export {
  formatPort,
  formatPortsColumn,
  hostAddress,
  parseAddHost,
  parseDnsServer,
  parseExpose,
  parseMacAddress,
  parsePublish,
  portKey,
  type NetworkMode,
  type NetworkRequest,
  type PortRequest,
  type PublishedPort,
} from '../network/index.js';
export { publishedPorts } from './containers/container-network.js';
export type { ContainerNetworking } from '../containers/index.js';
export { HEALTH_DEFAULTS } from '../containers/index.js';
export { engineConfigFromEnv, type EngineConfig, type ShiftPreference } from './config.js';
export type { EngineEvents } from './context.js';
export type { ShiftChoice, ShiftProgress } from '../snapshots/index.js';
export { importImage, type ImportOptions } from './images/import-image.js';
export type { PullEvent, PullOptions } from './images/pull-image.js';
export type { RegistryAccess } from './images/registry-access.js';
export type { PushEvent, PushOptions } from './images/push-image.js';
export { isRunning, LOST_EXIT_CODE, reconcile } from './containers/container-state.js';
export { removeContainer } from './containers/remove-container.js';
export { renameContainer } from './containers/rename-container.js';
export { pauseContainer, unpauseContainer } from './containers/pause-container.js';
export {
  parsePruneFilters,
  pruneContainers,
  type PruneFilters,
  type PrunedContainers,
} from './containers/prune-containers.js';
export { sampleStats, statsBetween, type ContainerStats } from './containers/container-stats.js';
export {
  CONTAINER_FILTERS,
  listContainers,
  parseContainerFilters,
  type ContainerFilterKey,
  type ContainerFilters,
  type ListContainersOptions,
  type ListedContainer,
} from './containers/list-containers.js';
export { restartContainer, startContainer } from './containers/start-detached.js';
export { restartAtBoot } from './containers/restart-at-boot.js';
export { containerLogs, parseLogTime, type LogsOptions } from './containers/container-logs.js';
export { containerExited, restartDelay } from './containers/container-exited.js';
export {
  DEFAULT_STOP_TIMEOUT,
  killContainer,
  stopContainer,
  waitContainer,
  type WaitCondition,
} from './containers/stop-container.js';
export {
  runHealthcheck,
  scheduledHealthcheck,
  type HealthcheckResult,
  type ScheduledProbe,
} from './containers/health-check.js';
export { HEALTH_LOOP_DONE } from '../monitor/index.js';
export {
  containerInitPid,
  inspectContainer,
  type ContainerInspect,
  type ContainerState,
  type HostConfig,
  type NetworkSettings,
} from './containers/inspect-container.js';
export { inspectImage, type ImageInspect } from './images/inspect-image.js';
export {
  listImages,
  parseImageFilters,
  selectImages,
  type ImageFilters,
  type ImageSummary,
} from './images/list-images.js';
export { removeImage, type RemovedImage } from './images/remove-image.js';
export { runAttached, type AttachIO, type RunFailure } from './containers/run-attached.js';
export { execContainer, type ExecSpec } from './containers/exec-container.js';
export {
  attachContainer,
  startAttached,
  type AttachOutcome,
  type AttachSpec,
  type AttachStreams,
} from './containers/attach-container.js';
export { DEFAULT_DETACH_KEYS, parseDetachKeys } from './containers/detach-keys.js';
export { topContainer, type ContainerTop } from './containers/top-container.js';
export type { UserLookupFailure } from './containers/image-users.js';
export { runInSession } from './containers/run-in-session.js';
export { findExecutable, findRuntime, DEFAULT_RUNTIME } from './runtimes.js';
export { checkSystem, type CheckOptions, type CheckResult } from './system/system-check.js';
export { systemInfo, type SystemInfo } from './system/system-info.js';
export {
  API_VERSION,
  dockerInfo,
  dockerServerVersion,
  goArch,
  MIN_API_VERSION,
  runtimeVersionNumber,
  unameArch,
} from './system/docker-facts.js';
export {
  checkStore,
  collectGarbage,
  diskUsage,
  pruneImages,
  type Collected,
  type DiskUsage,
} from './system/store-maintenance.js';
export type { LoadedImage, LoadOptions } from './images/load-archive.js';
export type { ArchiveFormat, SaveOptions } from './images/save-archive.js';
export type { CopyFromContainer, CopyToContainer } from './containers/copy-files.js';
export type { CommitOptions } from './containers/container-changes.js';
export type { Change } from '../snapshots/index.js';
export { imageHistory, tagImage, type HistoryEntry } from './images/tag-image.js';

export async function pullImage(ctx: EngineContext, options: PullOptions) {
  return (await import('./images/pull-image.js')).pullImage(ctx, options);
}

export async function registryLogin(
  registry: string,
  credentials: { username: string; password: string },
  access: Omit<RegistryAccess, 'creds'>,
) {
  return (await import('./images/registry-access.js')).registryLogin(registry, credentials, access);
}

export async function registryLogout(registry: string, authFile?: string) {
  return (await import('./images/registry-access.js')).registryLogout(registry, authFile);
}

export async function pushImage(ctx: EngineContext, options: PushOptions) {
  return (await import('./images/push-image.js')).pushImage(ctx, options);
}

export async function loadArchive(ctx: EngineContext, options: LoadOptions) {
  return (await import('./images/load-archive.js')).loadArchive(ctx, options);
}

export async function saveArchive(ctx: EngineContext, options: SaveOptions) {
  return (await import('./images/save-archive.js')).saveArchive(ctx, options);
}

export async function exportContainer(
  ctx: EngineContext,
  ref: string,
  output: { path: string } | { stream: Writable },
) {
  return (await import('./containers/export-container.js')).exportContainer(ctx, ref, output);
}

export async function copyFromContainer(ctx: EngineContext, spec: CopyFromContainer & { dest: string }) {
  return (await import('./containers/copy-files.js')).copyFromContainer(ctx, spec);
}

export async function archiveFromContainer(
  ctx: EngineContext,
  spec: CopyFromContainer,
  out: Writable,
  onSource?: (source: { path: string; isDir: boolean }) => void,
) {
  return (await import('./containers/copy-files.js')).archiveFromContainer(ctx, spec, out, onSource);
}

export async function copyToContainer(
  ctx: EngineContext,
  spec: CopyToContainer & { src: string; followLink: boolean },
) {
  return (await import('./containers/copy-files.js')).copyToContainer(ctx, spec);
}

export async function extractToContainer(ctx: EngineContext, spec: CopyToContainer, input: Readable) {
  return (await import('./containers/copy-files.js')).extractToContainer(ctx, spec, input);
}

export async function containerChanges(ctx: EngineContext, ref: string) {
  return (await import('./containers/container-changes.js')).containerChanges(ctx, ref);
}

export async function commitContainer(ctx: EngineContext, options: CommitOptions) {
  return (await import('./containers/container-changes.js')).commitContainer(ctx, options);
}
export {
  connectContainer,
  disconnectContainer,
  forgetContainerNetworks,
  networkConnect,
  networkDeps,
  networkDisconnect,
  type ConnectRequest,
  type DisconnectRequest,
  type NetworkDeps,
  type NetworkJoin,
} from './networks/connect-container.js';
export {
  createNetwork,
  inspectNetwork,
  listNetworks,
  parseNetworkFilters,
  pruneNetworks,
  removeNetwork,
  type NetworkCreateSpec,
  type NetworkFilters,
  type NetworkResource,
} from './networks/manage-networks.js';
export type { AttachmentInfo, PortMapping, UserNetwork } from '../network/index.js';
export {
  createVolume,
  inspectVolume,
  listVolumes,
  parseVolumeFilters,
  pruneVolumes,
  reclaimVolume,
  removeVolume,
  type VolumeCreateSpec,
  type VolumeFilters,
  type VolumeInspect,
} from './volumes/manage-volumes.js';
export {
  createToolbox,
  listToolboxes,
  removeToolbox,
  runInToolbox,
  type ToolboxRun,
  type ToolboxSummary,
} from './toolbox/toolbox.js';
export {
  checkToolboxName,
  defaultToolboxName,
  resolveShare,
  type SessionShare,
  type ShareFlags,
  type ToolboxCreateSpec,
  type ToolboxUser,
} from './toolbox/toolbox-spec.js';
