/**
 * A container's own cgroup after the runtime made it: what is left of it to remove, and the CPUs a
 * container may be pinned to. The runtime removes the cgroup when it deletes the container; this is
 * for a container whose runtime was killed before it could.
 */
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { errnoCode } from '../common/errors.js';
import { cgroupDirs, parentCgroup, type CgroupLayout } from './cgroup-layout.js';

/** How long the processes of a cgroup being removed get to die after SIGKILL. */
const KILL_WAIT_MS = 2000;

/**
 * Removes cgroup `path` from every hierarchy, killing what still runs in it first. Returns the
 * directories that could not be removed (processes den may not kill, a hierarchy it may not write).
 */
export function removeCgroup(layout: CgroupLayout, path: string): string[] {
  const left: string[] = [];
  for (const dir of cgroupDirs(layout, path)) {
    if (!removeDir(dir)) left.push(dir);
  }
  return left;
}

function removeDir(dir: string): boolean {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (let killed = false; ;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() > deadline) return false;
    }
    if (!killed) {
      killAll(dir);
      killed = true;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** cgroup.kill where the kernel has it (v2, 5.14), else each process cgroup.procs lists. */
function killAll(dir: string): void {
  try {
    writeFileSync(`${dir}/cgroup.kill`, '1');
    return;
  } catch {
    // v1, or an older kernel
  }
  let procs = '';
  try {
    procs = readFileSync(`${dir}/cgroup.procs`, 'utf8');
  } catch {
    return;
  }
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to kill
    }
  }
}

/**
 * The CPUs a container under cgroup `parent` may use, in the kernel's list form (`0-3,6`): the
 * nearest existing cgroup's effective cpuset, else the CPUs online.
 */
export function availableCpus(layout: CgroupLayout, parent: string): string {
  const cpuset = layout.version === 'v2' ? layout.unified : layout.v1.get('cpuset');
  const file = layout.version === 'v2' ? 'cpuset.cpus.effective' : 'cpuset.cpus';
  if (cpuset) {
    for (let p: string | undefined = parent; p !== undefined; p = parentCgroup(p)) {
      const text = readOrUndefined(`${cpuset}${p === '/' ? '' : p}/${file}`)?.trim();
      if (text) return text;
    }
  }
  return readOrUndefined('/sys/devices/system/cpu/online')?.trim() ?? '0';
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
