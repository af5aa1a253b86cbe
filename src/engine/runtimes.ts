import { findExecutable } from '../common/exec.js';
import { DenError } from '../common/errors.js';

export { findExecutable };
import { OciRuntime, runtimeStateRoot } from '../runtime/index.js';
import type { EngineContext } from './context.js';

export const DEFAULT_RUNTIME = 'crun';

/** The OCI runtime by name (crun, runc) or path, found in PATH like a shell would. */
export function findRuntime(ctx: EngineContext, name: string = DEFAULT_RUNTIME): OciRuntime {
  const binary = findExecutable(name, ctx.config.searchPath);
  if (!binary) {
    throw new DenError('FailedPrecondition', 'DEN0640', `OCI runtime "${name}" not found in PATH`, {
      hint:
        name === 'crun' || name === 'runc'
          ? `install it (apt-get install ${name}) or run scripts/setup-host.sh`
          : 'give the name or path of crun or runc with --runtime',
    });
  }
  const base = name.includes('/') ? 'custom' : name;
  return new OciRuntime(base, binary, runtimeStateRoot(ctx.paths.runtimeDir, base));
}
