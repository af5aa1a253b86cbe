export { OciRuntime, runtimeStateRoot, type RuntimeFailure } from './oci-runtime.js';
export { DEFAULT_SECCOMP_PROFILE } from './seccomp.js';
export {
  buildOciSpec,
  DEFAULT_CAPABILITIES,
  MASKED_PATHS,
  READONLY_PATHS,
  type BindMount,
  type IdMapping,
  type SpecInput,
} from './spec.js';
export { ConsoleSocket, duplicateDescriptor, setTerminalSize } from './console-socket.js';
