/**
 * `npm run bench -- services`: detached containers, den against rootless podman, side by side:
 *
 * 1. Resident memory per running detached container: den's monitor (conmon) against podman's
 *    conmon, and each one's default network helper beside it (den's pasta, podman's slirp4netns).
 * 2. `run -d` followed by `rm -f`, interleaved rounds (target den <= 0.5 x podman).
 * 3. `ps -a` and `images` with no containers and with 500 (target <= 0.5 x podman; den's cost
 *    must grow no faster than podman's).
 * 4. `exec CONTAINER true` into a running detached container (target <= 0.5 x podman).
 *
 * Everything runs as the bench user in an environment of its own (run.ts makes and removes it).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { busyboxTarball, DenEnv, denBin } from '../test/harness.js';

export interface BenchTools {
  benchUser: string;
  sh(argv: string[], what: string): string;
  interleave(commands: Record<string, (round: number) => string[]>): {
    times: Record<string, number[]>;
    medians: Record<string, number>;
  };
  rootlessPodman(env: DenEnv): (args: string[]) => string[];
}

/** How many containers the listing measurement holds. */
const MANY = Number(process.env.DEN_BENCH_CONTAINERS ?? 500);

/** VmRSS of a process in kB (0 when it is gone). */
function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Pids of the bench user's processes whose command line matches `pattern` (pgrep -f). */
function pids(uid: number, pattern: string): number[] {
  const out = spawnSync('pgrep', ['-u', String(uid), '-f', pattern], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

const mb = (kb: number) => `${(kb / 1024).toFixed(2)} MB`;

export function benchServices(t: BenchTools): void {
  const env = new DenEnv(t.benchUser);
  const den = (args: string[]) => env.wrap([process.execPath, denBin(), ...args]);
  try {
    const tarball = busyboxTarball();
    t.sh(den(['import', tarball, 'bench/busybox']), 'den import');
    const podman = t.rootlessPodman(env);
    t.sh(podman(['import', tarball, 'bench/busybox']), 'podman import');

    // 1. Memory: five detached containers each, then the monitors' (and helpers') resident sizes.
    const n = 5;
    for (let i = 0; i < n; i++) {
      t.sh(den(['run', '-d', '--name', `mem${i}`, 'bench/busybox', 'sleep', '1000']), 'den run -d');
      t.sh(podman(['run', '-d', '--name', `pmem${i}`, 'bench/busybox', 'sleep', '1000']), 'podman run -d');
    }
    const denMonitors = pids(env.user.uid, `conmon .*${env.dataDir}`);
    const podmanMonitors = pids(env.user.uid, 'conmon .*-n pmem');
    const slirp = pids(env.user.uid, 'slirp4netns');
    const pasta = pids(env.user.uid, `pasta .*${env.dataDir}`);
    const sum = (ps: number[]) => ps.reduce((a, p) => a + rssKb(p), 0);
    const denPer = sum(denMonitors) / n;
    const pastaPer = sum(pasta) / n;
    const podmanPer = sum(podmanMonitors) / n;
    const slirpPer = sum(slirp) / n;
    console.log(`\nresident memory per running detached container, rootless (${n} each, VmRSS)`);
    console.log(
      `  den    conmon ${mb(denPer)} (${denMonitors.length} monitors), pasta ${mb(pastaPer)} (${pasta.length})`,
    );
    console.log(
      `  podman conmon ${mb(podmanPer)} (${podmanMonitors.length}), slirp4netns ${mb(slirpPer)} (${slirp.length})`,
    );
    console.log(
      `  ratio den/podman ${((denPer + pastaPer) / (podmanPer + slirpPer)).toFixed(2)} (monitor and helpers; target <= 1)`,
    );
    for (let i = 0; i < n; i++) {
      t.sh(den(['rm', '-f', `mem${i}`]), 'den rm -f');
      t.sh(podman(['rm', '-f', '-t', '0', `pmem${i}`]), 'podman rm -f');
    }

    // 2. run -d + rm -f, as one shell command each, so that both halves are timed.
    const pair = (argv: (args: string[]) => string[], name: string, rmArgs: string[]) => [
      'sh',
      '-c',
      `${quote(argv(['run', '-d', '--name', name, '--network', 'none', 'bench/busybox', 'sleep', '1000']))} > /dev/null && ${quote(argv(['rm', '-f', ...rmArgs, name]))} > /dev/null`,
    ];
    const { times, medians } = t.interleave({
      den: (i) => pair(den, `d${i + 1}`, []),
      podman: (i) => pair(podman, `p${i + 1}`, ['-t', '0']),
    });
    console.log('\nrun -d + rm -f, rootless, busybox sleep: interleaved rounds, medians');
    for (const [name, ms] of Object.entries(medians)) {
      console.log(
        `  ${name.padEnd(8)} ${ms.toFixed(1).padStart(7)} ms   (min ${Math.min(...times[name]!).toFixed(1)})`,
      );
    }
    console.log(`  ratio den/podman ${(medians.den! / medians.podman!).toFixed(2)} (target <= 0.50)`);

    // 4. exec into a running container, each engine's own, interleaved.
    t.sh(den(['run', '-d', '--name', 'ex', '--network', 'none', 'bench/busybox', 'sleep', '1000']), 'den run -d');
    t.sh(
      podman(['run', '-d', '--name', 'pex', '--network', 'none', 'bench/busybox', 'sleep', '1000']),
      'podman run -d',
    );
    const exec = t.interleave({
      den: () => den(['exec', 'ex', 'true']),
      podman: () => podman(['exec', 'pex', 'true']),
      'node -e 0': () => env.wrap([process.execPath, '-e', '0']),
    });
    console.log('\nexec CONTAINER true, rootless: interleaved rounds, medians');
    for (const [name, ms] of Object.entries(exec.medians))
      console.log(`  ${name.padEnd(10)} ${ms.toFixed(1).padStart(7)} ms`);
    console.log(`  ratio den/podman ${(exec.medians.den! / exec.medians.podman!).toFixed(2)} (target <= 0.50)`);
    t.sh(den(['rm', '-f', 'ex']), 'den rm -f');
    t.sh(podman(['rm', '-f', '-t', '0', 'pex']), 'podman rm -f');

    // 3. Listing, empty and with MANY created containers.
    const listing = (label: string) => {
      const r = t.interleave({
        'den ps -a': () => den(['ps', '-a']),
        'podman ps -a': () => podman(['ps', '-a']),
        'den images': () => den(['images']),
        'podman images': () => podman(['images']),
      });
      console.log(`\nps -a and images, rootless, ${label}: medians`);
      for (const [name, ms] of Object.entries(r.medians))
        console.log(`  ${name.padEnd(14)} ${ms.toFixed(1).padStart(7)} ms`);
      console.log(
        `  ratio den/podman ps -a ${(r.medians['den ps -a']! / r.medians['podman ps -a']!).toFixed(2)} (target <= 0.50)`,
      );
      console.log(
        `  ratio den/podman images ${(r.medians['den images']! / r.medians['podman images']!).toFixed(2)} (target <= 0.50)`,
      );
      return r.medians;
    };
    const empty = listing('no containers');
    console.log(`\nbench set-up: creating ${MANY} containers with each engine ...`);
    for (let i = 0; i < MANY; i += 10) {
      const batch = Array.from({ length: Math.min(10, MANY - i) }, (_, k) => i + k);
      t.sh(
        [
          'sh',
          '-c',
          batch
            .map((k) => `${quote(den(['create', '--name', `m${k}`, 'bench/busybox', 'true']))} > /dev/null &`)
            .join(' ') + ' wait',
        ],
        'den create',
      );
      t.sh(
        [
          'sh',
          '-c',
          batch
            .map((k) => `${quote(podman(['create', '--name', `m${k}`, 'bench/busybox', 'true']))} > /dev/null &`)
            .join(' ') + ' wait',
        ],
        'podman create',
      );
    }
    const full = listing(`${MANY} containers`);
    const growth = (engine: string) => full[`${engine} ps -a`]! - empty[`${engine} ps -a`]!;
    console.log(
      `  ps -a growth for ${MANY} containers: den +${growth('den').toFixed(1)} ms, podman +${growth('podman').toFixed(1)} ms`,
    );
    t.sh(podman(['rm', '-a', '-f']), 'podman rm -a');
  } finally {
    spawnSync('pkill', ['-u', String(env.user.uid), '-f', 'podman pause']);
    spawnSync('pkill', ['-KILL', '-u', String(env.user.uid), 'conmon']);
    env.cleanup();
  }
}

/** A shell word for each argument. */
function quote(argv: string[]): string {
  return argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
}
