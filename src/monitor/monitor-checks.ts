/** `den system check`'s probe for the monitor of detached containers. */
import { checkTool, type Finding, type Host } from '../common/host-check.js';

/** conmon: without it den runs containers attached only (no run -d, start, logs, restart policies). */
export function checkConmon(h: Host): Finding {
  return checkTool(h, 'conmon', 'warn', 'apt-get install conmon');
}
