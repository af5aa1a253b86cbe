export {
  CommandLineRuntime,
  parseState,
  runtimeStateRoot,
  type OciRuntime,
  type ExecIo,
  type RunIo,
  type RuntimeFeatures,
  type RuntimeKind,
  type RuntimeState,
} from './oci-runtime.js';
export { CrunRuntime } from './crun-runtime.js';
export { RuncRuntime } from './runc-runtime.js';
export { DEFAULT_RUNTIME, findRuntime } from './find-runtime.js';
export { readRuntimeFailure, type RuntimeFailure, type RuntimeFailureReason } from './runtime-log.js';
export { DEFAULT_SECCOMP_PROFILE, parseSeccompProfile } from './seccomp.js';
export { checkCrun, checkRunc, checkSeccompProfile } from './runtime-checks.js';
export {
  buildOciSpec,
  DEFAULT_CAPABILITIES,
  MASKED_PATHS,
  ociConfigJson,
  READONLY_PATHS,
  type BindMount,
  type DeviceMount,
  type IdMapping,
  type OciResources,
  type OciHook,
  type SpecInput,
} from './spec.js';
export {
  canRaiseHardLimits,
  hardLimits,
  ociRlimit,
  RLIM_INFINITY,
  rlimitsAboveOwn,
  ULIMIT_NAMES,
  type OciRlimit,
} from './rlimits.js';
export { ConsoleSocket, duplicateDescriptor, setTerminalSize } from './console-socket.js';
export {
  cgroupStats,
  containerCgroup,
  containerProcesses,
  freezerMissing,
  parseMembership,
  procStats,
  type ContainerCgroup,
  type StatsSample,
} from './container-cgroup.js';
export { buildExecProcess, type ExecProcessInput } from './exec-process.js';
export { allCapabilities, boundingCapabilities, capabilityName } from './capabilities.js';
