import { CommandLineRuntime, type RuntimeFeatures } from './oci-runtime.js';

/**
 * runc: the reference runtime. Attached (`run` without --detach) it refuses a console socket and
 * relays the container's terminal itself, from its own stdio, copying all of the output before it
 * exits; den therefore hands it its stdio instead.
 */
export class RuncRuntime extends CommandLineRuntime {
  readonly kind = 'runc';
  readonly features: RuntimeFeatures = { sendsTerminalWhenAttached: false };
}
