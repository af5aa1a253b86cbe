import { CommandLineRuntime, type RuntimeFeatures } from './oci-runtime.js';

/** crun, den's default: small, fast to start, and it sends an attached run's terminal to a console socket. */
export class CrunRuntime extends CommandLineRuntime {
  readonly kind = 'crun';
  readonly features: RuntimeFeatures = { sendsTerminalWhenAttached: true };
}
