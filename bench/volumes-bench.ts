/**
 * `npm run bench -- volumes`: file I/O inside a container on a bind mount and on a named volume,
 * against the same work on the host, for each user namespace mode, side by side in one run
 * (docs/volumes.md). Target: >= 0.9 x the host's for the default mode (rootless, the session's
 * mapping).
 *
 * The work, one shell run by the same static busybox on the host and in the container (the
 * fixture's image is that busybox), timed inside it: write a 256 MiB file in 1 MiB blocks and
 * fsync it; create 5000 small files in a directory, then remove the directory. A container runs
 * detached and each round is one `den exec`, so that start-up costs nothing here. Rounds alternate
 * host and containers (DEN_BENCH_VOLUME_ROUNDS, default 5); medians.
 *
 * Modes: rootless default, keep-id and auto (the bench user), root auto (idmapped mounts) and root
 * host. Everything in environments of the bench's own.
 */
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxTarball, DenEnv, denBin } from '../test/harness.js';
import type { BenchTools } from './services-bench.js';

const ROUNDS = Number(process.env.DEN_BENCH_VOLUME_ROUNDS ?? 5);

/** Prints "WRITE_MS SMALL_MS" for the work done in DIR ($1). */
const WORK = [
  // busybox's date has no %N: /proc/uptime's centiseconds are the clock (10 ms; the work takes seconds).
  'now() { read up _ < /proc/uptime; echo "${up%.*}${up#*.}"; }',
  'd=$1/w; rm -rf "$d"; mkdir -p "$d"',
  't0=$(now)',
  'dd if=/dev/zero of="$d/big" bs=1M count=256 conv=fsync 2>/dev/null',
  't1=$(now)',
  'mkdir "$d/s"; i=0; while [ $i -lt 5000 ]; do echo x > "$d/s/$i"; i=$((i+1)); done; sync; rm -rf "$d/s"',
  't2=$(now)',
  'rm -rf "$d"',
  'echo $(( (t1-t0)*10 )) $(( (t2-t1)*10 ))',
].join('\n');

interface Subject {
  label: string;
  run: () => [number, number];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function parse(out: string, what: string): [number, number] {
  const m = /^(\d+) (\d+)\s*$/.exec(out.trim());
  if (!m) throw new Error(`${what}: unexpected output ${JSON.stringify(out)}`);
  return [Number(m[1]), Number(m[2])];
}

export async function benchVolumes(t: BenchTools): Promise<void> {
  const subjects: Subject[] = [];
  const envs: DenEnv[] = [];
  try {
    for (const user of [t.benchUser, 'root']) {
      const env = new DenEnv(user);
      envs.push(env);
      const den = (args: string[]) => env.wrap([process.execPath, denBin(), ...args]);
      t.sh(den(['import', busyboxTarball(), 'bench/busybox']), 'den import');
      const hostDir = join(env.root, 'host-work');
      mkdirSync(hostDir);
      chownSync(hostDir, env.user.uid, env.user.gid);
      const who = user === 'root' ? 'root' : 'rootless';
      subjects.push({
        label: `${who}: host`,
        run: () => parse(t.sh(env.wrap(['busybox', 'sh', '-c', WORK, 'work', hostDir]), 'host work'), 'host'),
      });
      const modes: [string, string[]][] =
        user === 'root'
          ? [
              ['auto (idmapped)', []],
              ['host', ['--userns=host']],
            ]
          : [
              ['default', []],
              ['keep-id', ['--userns=keep-id', '-u', '0']],
              ['auto', ['--userns=auto']],
            ];
      modes.forEach(([mode, flags], i) => {
        const bind = join(env.root, `bind-${i}`);
        mkdirSync(bind);
        chownSync(bind, env.user.uid, env.user.gid);
        chmodSync(bind, 0o777); // every mode's root may write there
        const name = `io-${i}`;
        const volume = `iovol-${i}`;
        t.sh(
          den([
            'run',
            '-d',
            '--name',
            name,
            '--network',
            'none',
            ...flags,
            '-v',
            `${bind}:/b`,
            '-v',
            `${volume}:/v`,
            'bench/busybox',
            'sleep',
            'infinity',
          ]),
          `den run ${mode}`,
        );
        for (const [where, dir] of [
          ['bind', '/b'],
          ['volume', '/v'],
        ] as const) {
          subjects.push({
            label: `${who}: ${mode}, ${where}`,
            run: () =>
              parse(t.sh(den(['exec', name, 'sh', '-c', WORK, 'work', dir]), `${mode} ${where}`), `${mode} ${where}`),
          });
        }
      });
    }
    const samples = new Map<string, [number[], number[]]>(subjects.map((s) => [s.label, [[], []]]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order, so that no subject always follows the same one.
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(k + round) % subjects.length]!;
        const [write, small] = s.run();
        samples.get(s.label)![0].push(write);
        samples.get(s.label)![1].push(small);
      }
    }
    console.log(
      `\nfile I/O on mounts, ms (medians of ${ROUNDS}): 256 MiB written and fsynced; 5000 files made, synced and removed`,
    );
    console.log(
      'subject                          write  small   host/write  host/small  (>= 0.9 wanted for the default)',
    );
    const hostOf = (label: string) => samples.get(`${label.split(':')[0]}: host`)!;
    for (const s of subjects) {
      const [w, f] = samples.get(s.label)!;
      const [hw, hf] = hostOf(s.label);
      const ratio = (host: number[], mine: number[]) => (median(host) / median(mine)).toFixed(2);
      console.log(
        `${s.label.padEnd(32)} ${String(median(w)).padStart(5)}  ${String(median(f)).padStart(5)}   ${ratio(hw, w).padStart(8)}  ${ratio(hf, f).padStart(10)}`,
      );
    }
  } finally {
    for (const env of envs) {
      env.exec([process.execPath, denBin(), 'rm', '-f', '-v', ...['io-0', 'io-1', 'io-2']]);
      env.cleanup();
      rmSync(join(env.root, 'host-work'), { recursive: true, force: true });
    }
  }
}
