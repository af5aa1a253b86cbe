import { spawn } from 'node:child_process';
import { DenError } from '../common/errors.js';

/**
 * The health-check scheduler of a running container: a `sh` loop that sleeps the check's interval
 * and runs den's probe command, until that command says the container is no more to be probed.
 *
 * Why a shell loop: den has no daemon, and conmon (the container's monitor) has no health checks.
 * A resident Node.js process per container would hold about 40 MB; dash sleeping in `sleep` holds
 * about 3.4 MB resident between them, nearly all of it libc pages shared with every other process
 * (about 0.35 MB proportional, 0.2 MB private; measured on Debian 12). den itself starts only for
 * each probe, as podman's healthcheck timers start podman.
 *
 *   sh -c LOOP den-health INTERVAL PROBE_COMMAND...
 *
 * The loop is the leader of a process group of its own (setsid), so `stopHealthLoop` ends it with its
 * `sleep` and a probe under way at once. The probe command exits HEALTH_LOOP_DONE when the
 * container stopped, is gone, or has another loop now: the loop then ends by itself, which is what
 * ends a loop nobody killed (its container's monitor was killed, say). Any other status (a probe
 * that failed, a den that could not open its store for a moment) keeps it going.
 */
export const HEALTH_LOOP_DONE = 3;

const LOOP = `interval=$1; shift
while sleep "$interval"; do
  "$@"
  [ $? -ne ${HEALTH_LOOP_DONE} ] || exit 0
done`;

/**
 * Starts the loop in the background, detached from den (its own session, no stdio, cwd /: it
 * must hold nothing of the den that started it), and returns its pid.
 *
 * @param intervalNs the time between the end of one probe and the start of the next, docker's
 *   interval (the first probe comes one interval after the start)
 * @param probe den's probe command, [program, ...arguments]
 */
export function startHealthLoop(intervalNs: number, probe: readonly string[]): number {
  const child = spawn('/bin/sh', ['-c', LOOP, 'den-health', seconds(intervalNs), ...probe], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.on('error', () => {}); // reported below: a spawn that failed has no pid
  child.unref();
  if (child.pid === undefined) {
    throw new DenError('Internal', 'DEN1135', 'cannot start the health-check scheduler (/bin/sh)');
  }
  return child.pid;
}

/** Ends a loop and whatever it runs (its sleep, a probe under way): its whole process group. */
export function stopHealthLoop(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Nanoseconds as sleep(1) takes them: seconds with up to nine decimals, 1500000000 -> "1.5". */
function seconds(ns: number): string {
  return String(Number((ns / 1e9).toFixed(9)));
}
