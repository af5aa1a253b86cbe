import { findRuntime as findInPath, type OciRuntime } from '../runtime/index.js';
import type { EngineContext } from './context.js';

export { findExecutable } from '../common/exec.js';
export { DEFAULT_RUNTIME } from '../runtime/index.js';

/** The OCI runtime by name (crun, runc) or path, in the engine's search path. */
export function findRuntime(ctx: EngineContext, name?: string): OciRuntime {
  return findInPath(name ?? ctx.config.defaultRuntime, ctx.config.searchPath, ctx.paths.runtimeDir);
}
