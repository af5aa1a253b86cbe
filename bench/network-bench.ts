/**
 * `npm run bench -- network`: throughput through published ports, rootless, side by side in one run
 * (iperf3, DEN_BENCH_IPERF_SECONDS each, default 10):
 *
 * 1. The host's own loopback (the ceiling).
 * 2. host -> container and container -> host (iperf3 -R) through a published port on 127.0.0.1,
 *    for den's default (pasta) and slirp4netns, and podman 4.3's default (slirp4netns with its
 *    rootlessport forwarder). Target: den's default >= 0.7 x loopback both ways.
 * 3. `run --rm IMAGE true` with each engine's default network, interleaved (target den <= 0.5 x
 *    podman).
 *
 * The container runs the host's iperf3 (its /usr and /lib bound read-only into the busybox image),
 * so nothing is downloaded. Everything runs as the bench user in an environment of its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { busyboxTarball, DenEnv, denBin } from '../test/harness.js';
import type { BenchTools } from './services-bench.js';

const SECONDS = Number(process.env.DEN_BENCH_IPERF_SECONDS ?? 10);
/** The host's iperf3 and its libraries, inside the busybox image. */
const HOST_BINARIES = ['-v', '/usr:/usr:ro', '-v', '/lib:/lib:ro', '-v', '/lib64:/lib64:ro'];

function gbits(json: string): number {
  const r = JSON.parse(json) as { end: { sum_received: { bits_per_second: number } } };
  return r.end.sum_received.bits_per_second / 1e9;
}

/** iperf3 client on the host against PORT; `reverse`: the server (in the container) sends. */
function iperf(port: number, reverse: boolean, attempts = 5): number {
  const r = spawnSync(
    'iperf3',
    ['-c', '127.0.0.1', '-p', String(port), '-t', String(SECONDS), '-J', ...(reverse ? ['-R'] : [])],
    {
      encoding: 'utf8',
      timeout: (SECONDS + 30) * 1000,
    },
  );
  if (r.status !== 0) {
    // A helper listens on the host before the server in the container does: try again shortly.
    if (attempts > 1) {
      spawnSync('sleep', ['0.5']);
      return iperf(port, reverse, attempts - 1);
    }
    throw new Error(`iperf3 -c :${port} failed: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  }
  return gbits(r.stdout);
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

export async function benchNetwork(t: BenchTools): Promise<void> {
  if (spawnSync('iperf3', ['--version']).status !== 0)
    t.sh(['apt-get', 'install', '-y', '-qq', 'iperf3'], 'apt-get install iperf3');
  const env = new DenEnv(t.benchUser);
  const den = (args: string[]) => env.wrap([process.execPath, denBin(), ...args]);
  const podman = t.rootlessPodman(env);
  try {
    const tarball = busyboxTarball();
    t.sh(den(['import', tarball, 'bench/busybox']), 'den import');
    t.sh(podman(['import', tarball, 'bench/busybox']), 'podman import');
    const results: Record<string, [number, number]> = {};

    // 1. Loopback.
    const server = spawn('iperf3', ['-s', '-p', '15201'], { stdio: 'ignore' });
    await waitForPort(15201);
    results['host loopback'] = [iperf(15201, false), iperf(15201, true)];
    server.kill();

    // 2. Through published ports.
    const serve = async (label: string, engine: (a: string[]) => string[], port: number, network: string[]) => {
      t.sh(
        engine([
          'run',
          '-d',
          '--name',
          `iperf${port}`,
          ...network,
          '-p',
          `127.0.0.1:${port}:5201`,
          ...HOST_BINARIES,
          'bench/busybox',
          '/usr/bin/iperf3',
          '-s',
        ]),
        `${label} run -d`,
      );
      try {
        await waitForPort(port);
        await new Promise((resolve) => setTimeout(resolve, 300));
        results[label] = [iperf(port, false), iperf(port, true)];
      } finally {
        t.sh(engine(['rm', '-f', `iperf${port}`]), `${label} rm -f`);
      }
    };
    await serve('den default (pasta)', den, 15202, []);
    await serve('den slirp4netns', den, 15203, ['--network', 'slirp4netns']);
    await serve('podman default (slirp4netns+rootlessport)', podman, 15204, []);

    console.log(`\nthroughput through a published port on 127.0.0.1, rootless, iperf3 ${SECONDS} s each (Gbit/s)`);
    console.log(`  ${'path'.padEnd(44)} host->ctr  ctr->host`);
    const [loIn, loOut] = results['host loopback']!;
    for (const [name, [into, out]] of Object.entries(results)) {
      console.log(
        `  ${name.padEnd(44)} ${into.toFixed(1).padStart(8)}  ${out.toFixed(1).padStart(9)}   (${(into / loIn).toFixed(2)} / ${(out / loOut).toFixed(2)} x loopback)`,
      );
    }
    const [dIn, dOut] = results['den default (pasta)']!;
    console.log(
      `  den default / loopback: ${(dIn / loIn).toFixed(2)} host->ctr, ${(dOut / loOut).toFixed(2)} ctr->host (target >= 0.70)`,
    );

    // 3. run --rm with the default network.
    const runs = t.interleave({
      den: () => den(['run', '--rm', 'bench/busybox', 'true']),
      podman: () => podman(['run', '--rm', 'bench/busybox', 'true']),
    });
    console.log("\nrun --rm IMAGE true, rootless, each engine's default network: interleaved rounds, medians");
    for (const [name, ms] of Object.entries(runs.medians))
      console.log(`  ${name.padEnd(8)} ${ms.toFixed(1).padStart(7)} ms`);
    console.log(`  ratio den/podman ${(runs.medians.den! / runs.medians.podman!).toFixed(2)} (target <= 0.50)`);
  } finally {
    env.cleanup();
  }
}
