export {
  describeStatus,
  humanDuration,
  type BindSpec,
  type DeviceSpec,
  type MountOrigin,
  type MountSpec,
  mountsOf,
  type Propagation,
  type ContainerIdMap,
  type ContainerConfig,
  type SecurityConfig,
  type ContainerLimits,
  type ContainerRecord,
  type HealthConfig,
  type HealthProbe,
  type HealthState,
  type LogConfig,
  type MonitorKind,
  type RestartPolicy,
  type ContainerNetworking,
  type Ulimit,
} from './container.js';
export {
  activeHealthcheck,
  goDuration,
  HEALTH_DEFAULTS,
  HEALTH_LOG_ENTRIES,
  HEALTH_OUTPUT_LIMIT,
  healthFilter,
  healthFilterValue,
  probeArgv,
  probeOutput,
  recordProbe,
  startingHealth,
  type HealthFilterValue,
  type HealthStatus,
} from './health.js';
export { canTransition, isActive, TRANSITIONS, type ContainerStatus, type LifecycleEvent } from './lifecycle.js';
export { ContainerStore, type ContainerChange, type StartFields } from './container-store.js';
export { newContainerId, randomName, validateName } from './names.js';
export { IdRangeStore, type AllocatedRange } from './id-range-store.js';
export { NetworkStore, type AttachRequest, type NetworkRequest } from './network-store.js';
export {
  anonymousVolumeName,
  validateVolumeName,
  validateVolumeOptions,
  VolumeStore,
  type VolumeRecord,
  type VolumeRequest,
} from './volume-store.js';
