export {
  describeStatus,
  humanDuration,
  type BindSpec,
  type ContainerIdMap,
  type ContainerConfig,
  type ContainerLimits,
  type ContainerRecord,
  type Ulimit,
} from './container.js';
export { canTransition, TRANSITIONS, type ContainerStatus, type LifecycleEvent } from './lifecycle.js';
export { ContainerStore } from './container-store.js';
export { newContainerId, randomName, validateName } from './names.js';
export { IdRangeStore, type AllocatedRange } from './id-range-store.js';
