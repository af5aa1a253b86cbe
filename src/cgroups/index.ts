export {
  CGROUP_ROOT,
  cgroupDirs,
  cgroupLayout,
  childCgroup,
  LIMIT_CONTROLLERS,
  ROOT_CGROUP_PARENT,
  rootControllers,
  unifiedCgroupOf,
  type CgroupLayout,
  type CgroupVersion,
  type LimitController,
} from './cgroup-layout.js';
export {
  delegationFix,
  findDelegation,
  LiveCgroupTree,
  type CgroupTree,
  type DelegatedCgroup,
  type Delegation,
} from './delegation.js';
export { availableCpus, removeCgroup } from './container-cgroup.js';
export { checkCgroupLimits, checkCgroups, describeCgroups } from './cgroup-checks.js';
