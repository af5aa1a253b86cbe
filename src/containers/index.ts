export {
  describeStatus,
  humanDuration,
  type BindSpec,
  type ContainerIdMap,
  type ContainerConfig,
  type ContainerRecord,
  type ContainerStatus,
} from './container.js';
export { ContainerStore } from './container-store.js';
export { newContainerId, randomName, validateName } from './names.js';
export { IdRangeStore, type AllocatedRange } from './id-range-store.js';
