import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';

/**
 * Runs `fn` with the pid of a process that sits in a new user namespace without maps, so that the
 * caller can write maps (as root, or through newuidmap) or open the namespace. The process is
 * `unshare --user cat` reading a pipe from us: it is killed afterwards, and it ends by itself
 * should we die first.
 */
export function withUnmappedUserns<T>(unshare: string, fn: (pid: number) => T): T {
  const child = spawn(unshare, ['--user', 'cat'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('error', () => {}); // reported below as a pid that never appears
  try {
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${unshare}`);
    const own = readlinkSync('/proc/self/ns/user');
    const wait = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; ; waited += 5) {
      let ns: string | undefined;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/user`);
      } catch {
        ns = undefined; // gone: it failed
      }
      if (ns !== undefined && ns !== own) break;
      if (ns === undefined || waited >= 5000) {
        throw new Error(`unshare --user did not enter a new user namespace${stderr ? `: ${stderr.trim()}` : ''}`);
      }
      // A synchronous check waits by blocking; Atomics.wait is the sleep that does not spin.
      Atomics.wait(wait, 0, 0, 5);
    }
    return fn(pid);
  } finally {
    child.kill('SIGKILL');
    child.stdin?.destroy();
  }
}
