/**
 * `npm run bench` (as root): den against the reference on this machine, side by side in one run.
 *
 * 0. `den --version` against `node -e 0`, and rootless `ps -a` and `images` against podman's
 * (section `cli`): what a command costs before and around its work.
 * 1. `den run --rm --network none IMAGE true` rootless, `podman run --rm --network none` rootless
 * on the same image, and bare `crun run` of a prepared rootless bundle (the floor), interleaved so
 * that all three see the same machine state; medians, and the ratios den/podman and den/crun.
 * 2. As root, `run --rm --userns=auto` on busybox and on a debootstrap Debian image, den and podman:
 * a fresh id range per container must cost the same for a small and a large image.
 * 4. `den pull` of the Debian image from a local registry (gzip with igzip and with zlib, plain, zstd)
 * and `den load` of its docker-archive vs podman pull, skopeo copy, tar -x and igzip | tar; each
 * stage of den's gzip pipeline alone (inflate, hash, unpack), to show which bounds it.
 * 5. Detached containers (services-bench.ts): monitor memory, run -d + rm -f, exec, ps -a with 500.
 * 6. Networks (network-bench.ts): iperf3 through published ports against loopback, run --rm.
 * 7. Volumes (volumes-bench.ts): file I/O on a bind mount and a named volume per userns mode vs the host.
 * 3. Rootless, a new mapping (keep-id and auto) on the Debian image: first and second run and
 * extra disk, den (den-idmap, fuse, a copy on ext4, a copy on xfs with reflinks) vs podman; and
 * file I/O inside, per phase, under den's shifts against den's session mapping and podman's copy.
 *
 * The bench's own set-up installs podman if missing and prepares everything as an unprivileged
 * user of its own (DEN_BENCH_USER, default denbench, created here through scripts/setup-host.sh
 * --bench-user when missing), in directories of its own (/tmp/den-bench-*, /var/tmp/den-bench): it
 * kills that user's processes between runs (`pkill -u`), which must never reach a test run's.
 *
 * `npm run bench -- fuzz [TARGET...]` runs the fuzz targets instead (bench/fuzz.ts).
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  openSync,
  readSync,
  writeSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { busyboxTarball, DenEnv, denBin, REPO } from '../test/harness.js';
import { RegistryHarness } from '../test/registry-server.js';
import { createRunDir, removeRunDir, RUN_DIR_ENV } from '../test/run-dir.js';
import { benchFuzz } from './fuzz.js';
import { benchNetwork } from './network-bench.js';
import { benchServices } from './services-bench.js';
import { benchVolumes } from './volumes-bench.js';

const ROUNDS = Number(process.env.DEN_BENCH_ROUNDS ?? 20);
/** The bench's own user: `pkill -u` of the test user would kill a concurrent test run's processes. */
const BENCH_USER = process.env.DEN_BENCH_USER ?? 'denbench';

function sh(argv: string[], what: string): string {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function timeOnce(argv: string[]): number {
  const [file, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(file!, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/**
 * Runs each command once to warm up, then ROUNDS rounds of all of them in turn, so that every
 * command sees the same machine state (page cache, the ext4 churn DESIGN.md describes). A command
 * gets the round number, for those that need a fresh name each time.
 */
function interleave(commands: Record<string, (round: number) => string[]>): {
  times: Record<string, number[]>;
  medians: Record<string, number>;
} {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const argv of Object.values(commands)) timeOnce(argv(-1));
  for (let i = 0; i < ROUNDS; i++)
    for (const [name, argv] of Object.entries(commands)) times[name]!.push(timeOnce(argv(i)));
  return { times, medians: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A Debian minbase root file system tarball, made once with debootstrap and kept between runs. */
function debianTarball(): string {
  const cached = '/var/tmp/den-bench/debian-bookworm-minbase.tar';
  if (existsSync(cached)) {
    openRootDirectory(cached);
    return cached;
  }
  console.log('bench set-up: building a Debian minbase image with debootstrap (once) ...');
  mkdirSync('/var/tmp/den-bench', { recursive: true });
  if (spawnSync('debootstrap', ['--version']).status !== 0) {
    sh(['apt-get', 'update', '-qq'], 'apt-get update');
    sh(['apt-get', 'install', '-y', '-qq', 'debootstrap'], 'apt-get install debootstrap');
  }
  const root = mkdtempSync('/var/tmp/den-bench/root-');
  try {
    sh(['debootstrap', '--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian'], 'debootstrap');
    // mkdtemp made it 0700: an image's / is 0755, or a container's non-root user cannot exec anything.
    chmodSync(root, 0o755);
    sh(['tar', '-C', root, '--numeric-owner', '-cf', `${cached}.tmp`, '.'], 'tar the Debian root');
    renameSync(`${cached}.tmp`, cached);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return cached;
}

/**
 * Tarballs made by earlier benches have the temporary directory's 0700 as their `./` entry: the
 * image's / then shuts out every user but root (keep-id's exec fails). The entry is the first
 * header and has no data: its mode field and checksum are rewritten in place.
 */
function openRootDirectory(tarball: string): void {
  const fd = openSync(tarball, 'r+');
  try {
    const h = Buffer.alloc(512);
    readSync(fd, h, 0, 512, 0);
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const mode = parseInt(h.toString('latin1', 100, 108).replace(/[\0 ].*$/s, ''), 8);
    if ((name !== './' && name !== '.') || h[156] !== 0x35 || mode === 0o755) return;
    h.write('0000755\0', 100, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    writeSync(fd, h, 0, 512, 0);
    console.log(`bench set-up: ${tarball}: its root directory was ${mode.toString(8)}, now 755`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Root mode, `run --rm --userns=auto true` on a small (busybox) and a large (Debian) image: a new
 * range per container, and with idmapped layers the cost must not grow with the image. podman
 * alongside, with its own pool (the subordinate ids of "containers", added here if missing) and
 * --ulimit host: its default rlimits exceed what root may set on these machines (DESIGN.md).
 */
function benchRootAuto(): void {
  const env = new DenEnv('root');
  try {
    const images = { small: busyboxTarball(), large: debianTarball() };
    for (const [name, tar] of Object.entries(images)) {
      sh(
        env.wrap([process.execPath, denBin(), 'import', '--change', 'CMD ["true"]', tar, `bench/${name}`]),
        'den import',
      );
    }
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      if (
        !readFileSync(file, 'utf8')
          .split('\n')
          .some((l) => l.startsWith('containers:'))
      ) {
        appendFileSync(file, 'containers:3000000000:1000000000\n');
      }
    }
    const podmanRoot = join(env.root, 'podman');
    const podman = (args: string[]) => [
      'podman',
      '--root',
      join(podmanRoot, 'storage'),
      '--runroot',
      join(podmanRoot, 'run'),
      '--cgroup-manager=cgroupfs',
      '--events-backend=file',
      ...args,
    ];
    for (const [name, tar] of Object.entries(images)) sh(podman(['import', tar, `bench/${name}`]), 'podman import');
    const denRun = (image: string) =>
      env.wrap([process.execPath, denBin(), 'run', '--rm', '--userns=auto', '--network', 'none', image, 'true']);
    const commands: Record<string, () => string[]> = {
      'den small': () => denRun('bench/small'),
      'den large': () => denRun('bench/large'),
    };
    // podman 4.3 as root always asks crun for rlimits, and crun's setrlimit(RLIMIT_NPROC) fails on
    // these machines even with --ulimit lowering it: measured when it works, reported when not.
    const podmanRun = (image: string) =>
      podman(['run', '--rm', '--userns=auto', '--ulimit', 'nofile=20000:20000', '--network', 'none', image, 'true']);
    const probe = spawnSync(podmanRun('bench/small')[0]!, podmanRun('bench/small').slice(1), { encoding: 'utf8' });
    if (probe.status === 0) {
      commands['podman small'] = () => podmanRun('bench/small');
      commands['podman large'] = () => podmanRun('bench/large');
    } else {
      console.log(`\npodman as root cannot run a container here: ${probe.stderr.trim()}`);
    }
    const { medians: m } = interleave(commands);
    console.log(`\nroot, run --rm --userns=auto --network none IMAGE true: ${ROUNDS} interleaved rounds, medians`);
    for (const [name, ms] of Object.entries(m)) console.log(`  ${name.padEnd(13)} ${ms.toFixed(1).padStart(7)} ms`);
    console.log(`  den large/small    ${(m['den large']! / m['den small']!).toFixed(2)} (target <= 1.20)`);
    if (m['podman small'] !== undefined) {
      console.log(`  podman large/small ${(m['podman large']! / m['podman small']!).toFixed(2)}`);
      console.log(
        `  den/podman small ${(m['den small']! / m['podman small']!).toFixed(2)}, large ${(m['den large']! / m['podman large']!).toFixed(2)}`,
      );
    }
    sh(podman(['rmi', '-a', '-f']), 'podman rmi');
  } finally {
    env.cleanup();
  }
}

/** Bytes under a directory (du), as root. */
function diskUsage(path: string): number {
  const out = spawnSync('du', ['-sb', path], { encoding: 'utf8' }).stdout;
  return Number(out.split('\t')[0] ?? 0);
}

/**
 * Rootless, a new mapping on the Debian image, for keep-id and auto: first and second run, den vs
 * podman, with the extra disk the first run cost; then file I/O inside (pack /usr/share, unpack it,
 * read every file under /usr), timed per phase inside the container, under den's shift, den's own
 * session mapping (the baseline) and podman's, interleaved and settled alike.
 */
function benchRootlessShift(): void {
  const env = new DenEnv(BENCH_USER);
  try {
    const tar = debianTarball();
    const den = (args: string[]) => env.wrap([process.execPath, denBin(), ...args]);
    sh(den(['import', tar, 'bench/debian']), 'den import');
    const podman = rootlessPodman(env);
    sh(podman(['import', tar, 'bench/debian']), 'podman import');
    const podmanStore = join(env.home, '.local', 'share', 'containers');
    const driver = sh(podman(['info', '--format', '{{.Store.GraphDriverName}}']), 'podman info').trim();
    console.log(`\npodman's storage driver here: ${driver}`);
    const run = (userns: string, cmd = ['true']) => [
      'run',
      '--rm',
      `--userns=${userns}`,
      '--network',
      'none',
      'bench/debian',
      ...cmd,
    ];

    // den's ways of shifting: idmapped mounts by den-idmap (helper-idmapped-snapshotter, chosen where it
    // is installed), fuse (chosen on this ext4 without it) and a copy per mapping (copy-snapshotter), on
    // this ext4 (DEN_SHIFT=copy) and on an xfs with reflinks, where den without den-idmap chooses it.
    const xfsDir = mkdtempSync('/var/tmp/den-bench/xfs-');
    chmodSync(xfsDir, 0o755); // containers with ids of their own pass through it (DEN0685)
    const xfs = freshFileSystem(join(xfsDir, 'mnt'), 'xfs');
    xfs.make(env.user);
    const xfsData = join(xfs.mount, 'den');
    // The session began before the xfs was mounted, and this host's / is private, so the mount
    // does not propagate into it (create-session.ts): start a new one.
    spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
    const denWith = (extra: Record<string, string>) => (args: string[]) =>
      env.wrap([process.execPath, denBin(), ...args], extra);
    sh(denWith({ DEN_DATA_DIR: xfsData })(['import', tar, 'bench/debian']), 'den import (xfs)');
    /** Extra disk: bytes under the store (du), or blocks used on the xfs (du counts shared data twice). */
    const fsUsed = () => {
      const st = statfsSync(xfs.mount);
      return (st.blocks - st.bfree) * st.bsize;
    };
    const tools: [string, (args: string[]) => string[], () => number][] = [
      ['den helper (den-idmap)', denWith({ DEN_SHIFT: 'helper' }), () => diskUsage(env.dataDir)],
      ['den fuse', denWith({ DEN_SHIFT: 'fuse' }), () => diskUsage(env.dataDir)],
      ['den copy (ext4)', denWith({ DEN_SHIFT: 'copy' }), () => diskUsage(env.dataDir)],
      ['den copy (xfs reflinks)', denWith({ DEN_DATA_DIR: xfsData, DEN_IDMAP_HELPER_DIR: '' }), fsUsed],
      ['podman', podman, () => diskUsage(podmanStore)],
    ];
    console.log('\nrootless, a new mapping on the Debian image: first run (the shift), second run, extra disk');
    console.log('  (auto: every container is a new mapping, and a copy goes with its container)');
    try {
      for (const mode of ['keep-id', 'auto']) {
        const results: Record<string, { first: number; second: number; disk: number }> = {};
        for (const [name, tool, used] of tools) {
          settle();
          const before = used();
          const first = timeOnce(tool(run(mode)));
          const disk = used() - before;
          const second = median([0, 1, 2].map(() => timeOnce(tool(run(mode)))));
          results[name] = { first, second, disk };
          console.log(
            `  ${mode.padEnd(8)} ${name.padEnd(24)} first ${first.toFixed(0).padStart(6)} ms   second ${second.toFixed(0).padStart(5)} ms   extra disk ${(disk / 1e6).toFixed(2)} MB`,
          );
        }
        for (const name of ['den helper (den-idmap)', 'den fuse', 'den copy (ext4)', 'den copy (xfs reflinks)']) {
          const ratio = results[name]!.first / results.podman!.first;
          const target = name.startsWith('den helper') ? '0.05; extra disk 0 MB' : '0.20; extra disk <= 1 MB';
          console.log(`  ${mode.padEnd(8)} first run ${name}/podman ${ratio.toFixed(2)} (target <= ${target})`);
        }
      }
    } finally {
      spawnSync('pkill', ['-KILL', '-u', String(env.user.uid), '-f', xfsData]);
      xfs.drop();
      rmSync(xfsDir, { recursive: true, force: true });
    }

    // I/O inside, each phase timed in the container; every configuration once per round, in turn.
    const phases = ['pack /usr/share', 'unpack it', 'read all of /usr'];
    const work = [
      'ms() { echo $(( $(date +%s%N) / 1000000 )); }',
      'cd /tmp; a=$(ms); tar -cf s.tar -C /usr share; b=$(ms)',
      'mkdir x; tar -xf s.tar -C x; c=$(ms)',
      'find /usr -type f -exec cat {} + > /dev/null; d=$(ms)',
      'echo $((b - a)) $((c - b)) $((d - c))',
    ].join('\n');
    // Each run on a fresh ext4 (see benchPull): on the used file system, whichever run followed a
    // mass deletion lost seconds of file creation, which buried what the shift costs.
    const scratch = mkdtempSync('/var/tmp/den-bench/io-');
    chmodSync(scratch, 0o755);
    const fs = freshFileSystem(join(scratch, 'mnt'));
    const denAt = (args: string[]) =>
      env.wrap([process.execPath, denBin(), ...args], { DEN_DATA_DIR: join(fs.mount, 'den'), DEN_SHIFT: 'fuse' });
    const denCopyAt = (args: string[]) =>
      env.wrap([process.execPath, denBin(), ...args], { DEN_DATA_DIR: join(fs.mount, 'den'), DEN_SHIFT: 'copy' });
    const denHelperAt = (args: string[]) =>
      env.wrap([process.execPath, denBin(), ...args], { DEN_DATA_DIR: join(fs.mount, 'den'), DEN_SHIFT: 'helper' });
    const podmanAt = (args: string[]) => podman(['--root', join(fs.mount, 'podman'), ...args]);
    const configs: Record<string, { tool: (args: string[]) => string[]; userns: string }> = {
      'den host (session mapping)': { tool: denAt, userns: 'host' },
      'den keep-id (fuse lower)': { tool: denAt, userns: 'keep-id' },
      'den auto (fuse lower)': { tool: denAt, userns: 'auto' },
      'den keep-id (copy)': { tool: denCopyAt, userns: 'keep-id' },
      'den keep-id (den-idmap)': { tool: denHelperAt, userns: 'keep-id' },
      'den auto (den-idmap)': { tool: denHelperAt, userns: 'auto' },
      'podman keep-id (copy)': { tool: podmanAt, userns: 'keep-id' },
    };
    const names = Object.keys(configs);
    const samples: Record<string, number[][]> = Object.fromEntries(names.map((k) => [k, []]));
    try {
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(round + k) % names.length]!;
          const { tool, userns } = configs[name]!;
          spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
          fs.make(env.user);
          try {
            sh(tool(['import', tar, 'bench/debian']), `${name}: import`);
            settle();
            samples[name]!.push(
              sh(tool(run(userns, ['sh', '-c', work])), name)
                .trim()
                .split(/\s+/)
                .map(Number),
            );
          } finally {
            spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
            fs.drop();
          }
        }
      }
    } finally {
      fs.drop();
      rmSync(scratch, { recursive: true, force: true });
    }
    console.log('\nfile I/O inside, ms per phase, medians of 3 (a fresh ext4 per run, rotating order)');
    console.log(`  ${''.padEnd(28)} ${phases.map((p) => p.padStart(18)).join('')} ${'total'.padStart(8)}`);
    const totals: Record<string, number> = {};
    for (const [name, runs] of Object.entries(samples)) {
      const per = phases.map((_, i) => median(runs.map((r) => r[i]!)));
      totals[name] = median(runs.map((r) => r.reduce((a, b) => a + b, 0)));
      console.log(
        `  ${name.padEnd(28)} ${per.map((v) => v.toFixed(0).padStart(18)).join('')} ${totals[name]!.toFixed(0).padStart(8)}`,
      );
    }
    const base = totals['den host (session mapping)']!;
    for (const name of [
      'den keep-id (fuse lower)',
      'den auto (fuse lower)',
      'den keep-id (copy)',
      'den keep-id (den-idmap)',
      'den auto (den-idmap)',
    ]) {
      const target = name.includes('den-idmap') ? '0.95' : '0.80';
      console.log(
        `  ${name} speed relative to the session mapping ${(base / totals[name]!).toFixed(2)} (target >= ${target})`,
      );
    }
    spawnSync(podman(['rmi', '-a', '-f'])[0]!, podman(['rmi', '-a', '-f']).slice(1));
  } finally {
    spawnSync('pkill', ['-u', String(env.user.uid), '-f', 'catatonit']);
    env.cleanup();
  }
}

/**
 * Lets the machine settle before a measured run: writes back dirty pages (the previous run's
 * unpacked files) and waits out the ext4 slowdown that follows mass deletion (DESIGN.md).
 */
function settle(): void {
  spawnSync('sync');
  spawnSync('sleep', [process.env.DEN_BENCH_SETTLE ?? '3']);
}

/**
 * podman, rootless as the bench user, with its own storage under the bench's HOME and its own
 * runtime directory; there is no systemd here, so cgroupfs and file events.
 */
function rootlessPodman(env: DenEnv): (args: string[]) => string[] {
  const runtimeDir = join(env.root, 'podman-run');
  mkdirSync(runtimeDir, { mode: 0o700 });
  chownSync(runtimeDir, env.user.uid, env.user.gid);
  return (args) =>
    env.wrap(['podman', '--cgroup-manager=cgroupfs', '--events-backend=file', ...args], {
      XDG_RUNTIME_DIR: runtimeDir,
    });
}

function ensurePodman(): void {
  if (spawnSync('podman', ['--version']).status === 0) return;
  console.log('bench set-up: installing podman (the reference) ...');
  sh(['apt-get', 'update', '-qq'], 'apt-get update');
  sh(['apt-get', 'install', '-y', '-qq', 'podman'], 'apt-get install podman');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  // Fuzzing needs neither root nor podman nor the bench user.
  if (wanted[0] === 'fuzz') return benchFuzz(wanted.slice(1));
  if (process.getuid?.() !== 0) throw new Error('run the bench as root: it becomes the bench user and installs podman');
  // `npm run bench -- NAME...` runs only the sections named.
  const sections: Record<string, () => void | Promise<void>> = {
    cli: benchCli,
    run: benchRootlessRun,
    'root-auto': benchRootAuto,
    shift: benchRootlessShift,
    pull: benchPull,
    services: () => benchServices({ benchUser: BENCH_USER, sh, interleave, rootlessPodman }),
    network: () => benchNetwork({ benchUser: BENCH_USER, sh, interleave, rootlessPodman }),
    volumes: () => benchVolumes({ benchUser: BENCH_USER, sh, interleave, rootlessPodman }),
  };
  for (const name of wanted)
    if (!sections[name]) throw new Error(`no bench section ${name}: fuzz, ${Object.keys(sections).join(', ')}`);
  if (BENCH_USER === (process.env.DEN_TEST_USER ?? 'dentest')) {
    throw new Error(`the bench user must not be the test user ${BENCH_USER}: the bench kills its user's processes`);
  }
  ensurePodman();
  ensureBenchUser();
  // The harness's environments, fixtures and registries go into a directory of the bench's own,
  // removed at the end with whatever is left in it (test/run-dir.ts).
  const dir = createRunDir('den-bench-');
  process.env[RUN_DIR_ENV] = dir;
  const stop = (): void => {
    removeRunDir(dir);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const [name, run] of Object.entries(sections)) if (wanted.length === 0 || wanted.includes(name)) await run();
  } finally {
    removeRunDir(dir);
  }
}

/**
 * Creates the bench user with subordinate ranges of its own, through the host set-up (the same
 * function that makes the test user), unless it exists with its ranges.
 */
function ensureBenchUser(): void {
  const has = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${BENCH_USER}:`));
  if (spawnSync('id', [BENCH_USER]).status === 0 && has('/etc/subuid') && has('/etc/subgid')) return;
  console.log(`bench set-up: creating the bench user ${BENCH_USER} ...`);
  const r = spawnSync('bash', [join(REPO, 'scripts', 'setup-host.sh'), '--bench-user', BENCH_USER], {
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`scripts/setup-host.sh --bench-user ${BENCH_USER} failed (${r.status})`);
}

/**
 * `den pull` of the Debian image from a registry on 127.0.0.1, rootless, against `podman pull`
 * (rootless, same user) and `skopeo copy` to an OCI directory, and `tar -x` of the same root file
 * system as the floor. Every run writes into a fresh ext4 of its own (a loop image written out
 * once, mkfs'd per run): on a used ext4, file creation right after a mass deletion runs several
 * times slower, and whichever tool followed a deletion lost (DESIGN.md). Both den's session and
 * podman's pause process are made before the clock starts, after the mount (their mount namespaces
 * would not see it otherwise). Rounds rotate the order; medians, ratios, den's throughput.
 */
async function benchPull(): Promise<void> {
  const rounds = Number(process.env.DEN_BENCH_PULL_ROUNDS ?? 4);
  const env = new DenEnv(BENCH_USER);
  const harness = new RegistryHarness();
  mkdirSync('/var/tmp/den-bench', { recursive: true });
  const scratch = mkdtempSync('/var/tmp/den-bench/pull-');
  chmodSync(scratch, 0o755);
  const fs = freshFileSystem(join(scratch, 'mnt'));
  try {
    const tar = debianTarball();
    const gz = `${tar}.gz`;
    if (!existsSync(gz)) sh(['sh', '-c', `gzip -c ${tar} > ${gz}.tmp && mv ${gz}.tmp ${gz}`], 'gzip the tarball');
    const registry = await harness.start();
    // The image: den imports the tarball as root into a scratch store, skopeo pushes it gzipped.
    const store = join(scratch, 'store');
    const denRoot = ['env', `DEN_DATA_DIR=${store}`, `DEN_RUNTIME_DIR=${join(scratch, 'run')}`];
    sh([...denRoot, process.execPath, denBin(), 'import', tar, 'bench/debian'], 'den import');
    const ref = `${registry.name}/bench/debian:latest`;
    const layout = `oci:${join(store, 'content')}:docker.io/bench/debian:latest`;
    await harness.skopeoCopy(layout, `docker://${ref}`, registry, ['--dest-compress-format', 'gzip']);
    // The same image with its layer as zstd, and as a plain tar (den pushes blobs as stored, and the
    // import stored the tarball as it is): the targets differ by what inflating costs.
    const zstdRef = `${registry.name}/bench/debian:zstd`;
    await harness.skopeoCopy(layout, `docker://${zstdRef}`, registry, ['--dest-compress-format', 'zstd']);
    const tarRef = `${registry.name}/bench/debian:tar`;
    sh([...denRoot, process.execPath, denBin(), 'push', '-q', 'bench/debian', tarRef], 'den push of the plain layer');
    // A docker-archive, as docker save writes it: the layer a plain tar.
    const archive = join(scratch, 'debian-docker-archive.tar');
    sh([...denRoot, process.execPath, denBin(), 'save', '-o', archive, 'bench/debian'], 'den save');
    chmodSync(archive, 0o644);
    const mnt = fs.mount;
    const den = (args: string[], extra: Record<string, string> = {}) =>
      env.wrap([process.execPath, denBin(), ...args], { DEN_DATA_DIR: join(mnt, 'den'), ...extra });
    const podmanAt = rootlessPodman(env);
    const podman = (args: string[]) => podmanAt(['--root', join(mnt, 'podman'), ...args]);
    const runs: Record<string, { before: () => void; run: () => string[] }> = {
      den: { before: () => sh(den(['unshare', 'true']), 'den session'), run: () => den(['pull', '-q', ref]) },
      // The same pull with Node's zlib instead of igzip (the fallback where isal is not installed).
      'den zlib': {
        before: () => sh(den(['unshare', 'true']), 'den session'),
        run: () => den(['pull', '-q', ref], { DEN_GZIP: 'zlib' }),
      },
      'den tar': { before: () => sh(den(['unshare', 'true']), 'den session'), run: () => den(['pull', '-q', tarRef]) },
      'den zstd': {
        before: () => sh(den(['unshare', 'true']), 'den session'),
        run: () => den(['pull', '-q', zstdRef]),
      },
      'den load': {
        before: () => sh(den(['unshare', 'true']), 'den session'),
        run: () => den(['load', '-q', '-i', archive]),
      },
      podman: {
        before: () =>
          void (driver = sh(podman(['info', '--format', '{{.Store.GraphDriverName}}']), 'podman info').trim()),
        run: () => podman(['pull', '-q', '--tls-verify=false', ref]),
      },
      'skopeo copy': {
        before: () => {},
        run: () => [
          'skopeo',
          'copy',
          '-q',
          '--src-tls-verify=false',
          `docker://${ref}`,
          `oci:${join(mnt, 'oci')}:latest`,
        ],
      },
      'tar -x': {
        before: () => {},
        run: () => ['sh', '-c', `mkdir -p ${mnt}/rootfs && tar -xf ${tar} -C ${mnt}/rootfs`],
      },
      // The same layer as pulled, gzip: inflating it is part of any pull.
      'tar -xzf': {
        before: () => {},
        run: () => ['sh', '-c', `mkdir -p ${mnt}/rootfs && tar -xzf ${gz} -C ${mnt}/rootfs`],
      },
      'igzip | tar': {
        before: () => {},
        run: () => ['sh', '-c', `mkdir -p ${mnt}/rootfs && igzip -dc ${gz} | tar -x -C ${mnt}/rootfs`],
      },
    };
    let driver = '?';
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    const names = Object.keys(runs);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        // New namespaces see the new mount: no session or pause process may outlive a run.
        spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
        fs.make(env.user);
        try {
          runs[name]!.before();
          settle();
          times[name]!.push(timeOnce(runs[name]!.run()));
        } finally {
          spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
          fs.drop();
        }
      }
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const bytes = statSync(tar).size;
    const entries = Number(sh(['sh', '-c', `tar -tf ${tar} | wc -l`], 'count entries').trim());
    console.log(
      `\npull of the Debian image (${(bytes / 1e6).toFixed(0)} MB, ${entries} entries) from 127.0.0.1, rootless, a fresh ext4 per run, ${rounds} rotating rounds, medians`,
    );
    for (const [name, ms] of Object.entries(m)) console.log(`  ${name.padEnd(12)} ${ms.toFixed(0).padStart(6)} ms`);
    const ratio = (a: string, b: string, note: string) =>
      console.log(`  ratio ${`${a}/${b}`.padEnd(22)} ${(m[a]! / m[b]!).toFixed(2)} ${note}`);
    ratio('den', 'podman', `(target <= 0.50; podman's storage driver: ${driver})`);
    ratio('den', 'tar -x', '(gzip layer; target <= 1.50)');
    ratio('den', 'igzip | tar', '(the same inflate, then GNU tar)');
    ratio('den zlib', 'den', '(what igzip saves)');
    ratio('den tar', 'tar -x', '(uncompressed layer; target <= 1.20)');
    ratio('den zstd', 'tar -x', '(zstd layer; target <= 1.20)');
    ratio('den load', 'tar -x', '(docker-archive; target <= 1.20)');
    stages(gz, tar, m);
    const seconds = m.den! / 1000;
    console.log(`  den: ${(bytes / 1e6 / seconds).toFixed(0)} MB/s, ${(entries / seconds).toFixed(0)} entries/s`);
  } finally {
    spawnSync('pkill', ['-KILL', '-u', String(env.user.uid)]);
    fs.drop();
    env.cleanup();
    await harness.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Each stage of den's gzip pipeline alone, on the same layer, to show which bounds it: inflate
 * (igzip and zlib into nothing), hash (sha256 of blob and tar, as den does on one thread) and
 * unpack (den's pull of the uncompressed layer, whose pipeline is fetch, hash and unpack).
 */
function stages(gz: string, tar: string, m: Record<string, number>): void {
  const time = (argv: string[]) => median([0, 1, 2].map(() => timeOnce(argv)));
  const node = (code: string) => [process.execPath, '-e', code];
  const igzip = time(['sh', '-c', `igzip -dc ${gz} > /dev/null`]);
  const zlib = time(
    node(
      `const z=require('zlib'),f=require('fs'),{Writable}=require('stream');require('stream').pipeline(f.createReadStream(${JSON.stringify(gz)},{highWaterMark:1<<20}),z.createGunzip({chunkSize:1<<20}),new Writable({write(c,e,cb){cb()}}),()=>{})`,
    ),
  );
  const start = time(node('0'));
  const hashMs = Number(
    sh(
      node(
        `const c=require('crypto'),f=require('fs');let ms=0;for(const p of [${JSON.stringify(gz)},${JSON.stringify(tar)}]){const b=f.readFileSync(p);const t=process.hrtime.bigint();c.createHash('sha256').update(b).digest();ms+=Number(process.hrtime.bigint()-t)/1e6}console.log(ms)`,
      ),
      'hash',
    ).trim(),
  );
  const unpack = m['den tar']!;
  console.log(`  stages alone on this layer (medians of 3; Node's start ${start.toFixed(0)} ms counted out of zlib):`);
  console.log(`    inflate  igzip ${igzip.toFixed(0)} ms (a process of its own), zlib ${(zlib - start).toFixed(0)} ms`);
  console.log(`    hash     ${hashMs.toFixed(0)} ms (sha256 of the blob and the tar, in memory)`);
  console.log(`    unpack   ${unpack.toFixed(0)} ms (den pull of the uncompressed layer: fetch, hash, unpack)`);
  const bound = unpack >= igzip && unpack >= hashMs ? 'unpack' : igzip >= hashMs ? 'inflate' : 'hash';
  const next = Math.max(...[igzip, hashMs, unpack].filter((x) => x !== Math.max(igzip, hashMs, unpack)));
  console.log(
    `    bound by ${bound}: ${Math.max(igzip, hashMs, unpack).toFixed(0)} ms, ${(Math.max(igzip, hashMs, unpack) / next).toFixed(1)}x the next stage; den's gzip pull spends ${(m.den! - unpack).toFixed(0)} ms over its uncompressed one`,
  );
}

/**
 * A 2 GiB ext4 image, written out once (so the host allocates nothing while a run writes), made
 * afresh and mounted at `mount` for each run, owned by the bench user.
 */
function freshFileSystem(mount: string, kind: 'ext4' | 'xfs' = 'ext4') {
  const image = `/var/tmp/den-bench/pull-${kind}.img`;
  if (!existsSync(image)) sh(['dd', 'if=/dev/zero', `of=${image}`, 'bs=1M', 'count=2048', 'status=none'], 'dd');
  let device: string | undefined;
  return {
    mount,
    make(owner: { uid: number; gid: number }) {
      // Two benches on one image (two checkouts, or sections run at once) corrupt each other's
      // file systems, and the run fails later with "Bad message": refuse at once instead.
      const holder = sh(['losetup', '-j', image], 'losetup -j').trim();
      if (holder !== '') throw new Error(`${image} is in use by another bench (${holder}): run one at a time`);
      device = sh(['losetup', '--find', '--show', image], 'losetup').trim();
      if (kind === 'xfs') sh(['mkfs.xfs', '-q', '-f', '-m', 'reflink=1', device], 'mkfs.xfs');
      else sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0,nodiscard', device], 'mkfs.ext4');
      mkdirSync(mount, { recursive: true });
      sh(['mount', device, mount], 'mount');
      chownSync(mount, owner.uid, owner.gid);
    },
    drop() {
      if (device === undefined) return;
      spawnSync('umount', ['-l', mount]);
      spawnSync('losetup', ['-d', device]);
      device = undefined;
      // A lazy unmount of a file system some dying process still holds leaves the loop device
      // attached until it lets go: a new file system made on the same image meanwhile would be
      // overwritten by the old one's last writes ("Bad message" on the next mkdir). Wait for it.
      for (let i = 0; i < 200 && sh(['losetup', '-j', image], 'losetup -j').trim() !== ''; i++) {
        spawnSync('sleep', ['0.05']);
      }
    },
  };
}

/**
 * The commands that do little but start: `den --version` against `node -e 0` (what Node itself
 * costs: den's start-up is the difference), and `ps -a` and `images` rootless against podman's,
 * with one image and one exited container in each, interleaved. DEN_BENCH_BASELINE adds another
 * den build, as for `run`.
 */
function benchCli(): void {
  const env = new DenEnv(BENCH_USER);
  try {
    const tarball = busyboxTarball();
    const den = (args: string[], bin = denBin()) => env.wrap([process.execPath, bin, ...args]);
    sh(den(['import', tarball, 'bench/busybox']), 'den import');
    sh(den(['create', '--network', 'none', 'bench/busybox', 'true']), 'den create');
    const podman = rootlessPodman(env);
    sh(podman(['import', tarball, 'bench/busybox']), 'podman import');
    sh(podman(['create', '--network', 'none', 'bench/busybox', 'true']), 'podman create');
    const commands: Record<string, () => string[]> = {
      'node -e 0': () => env.wrap([process.execPath, '-e', '0']),
      'den --version': () => den(['--version']),
      'podman --version': () => podman(['--version']),
      'den ps -a': () => den(['ps', '-a']),
      'podman ps -a': () => podman(['ps', '-a']),
      'den images': () => den(['images']),
      'podman images': () => podman(['images']),
    };
    const baseline = process.env.DEN_BENCH_BASELINE;
    if (baseline) {
      for (const args of [['--version'], ['ps', '-a'], ['images']])
        commands[`den-base ${args.join(' ')}`] = () => den(args, baseline);
    }
    const { times, medians: m } = interleave(commands);
    console.log(`\nrootless, commands that only start and list: ${ROUNDS} interleaved rounds, medians`);
    for (const [name, ms] of Object.entries(m)) {
      console.log(
        `  ${name.padEnd(26)} ${ms.toFixed(1).padStart(7)} ms   (min ${Math.min(...times[name]!).toFixed(1)}, max ${Math.max(...times[name]!).toFixed(1)})`,
      );
    }
    console.log(`  den --version/node -e 0 ${(m['den --version']! / m['node -e 0']!).toFixed(2)} (target <= 1.20)`);
    console.log(`  den ps -a/podman ps -a  ${(m['den ps -a']! / m['podman ps -a']!).toFixed(2)} (target <= 0.50)`);
    console.log(`  den images/podman images ${(m['den images']! / m['podman images']!).toFixed(2)} (target <= 0.50)`);
    if (baseline) {
      for (const what of ['--version', 'ps -a', 'images'])
        console.log(`  den/den-base ${what} ${(m[`den ${what}`]! / m[`den-base ${what}`]!).toFixed(2)} (${baseline})`);
    }
    spawnSync(podman(['rm', '-a', '-f'])[0]!, podman(['rm', '-a', '-f']).slice(1));
    sh(podman(['rmi', '-a', '-f']), 'podman rmi');
  } finally {
    spawnSync('pkill', ['-u', String(env.user.uid), '-f', 'podman pause']);
    env.cleanup();
    rmSync(env.root, { recursive: true, force: true });
  }
}

/** Rootless `run --rm true`: den, podman and bare crun, interleaved. */
function benchRootlessRun(): void {
  const env = new DenEnv(BENCH_USER);
  try {
    const tarball = busyboxTarball();
    sh(env.wrap([process.execPath, denBin(), 'import', tarball, 'bench/busybox']), 'den import');

    const podman = rootlessPodman(env);
    sh(podman(['import', tarball, 'bench/busybox']), 'podman import');

    // The floor: crun on a ready rootless bundle (its own user namespace with just the caller's id).
    const bundle = mkdtempSync(join(env.root, 'bundle-'));
    chmodSync(bundle, 0o755);
    mkdirSync(join(bundle, 'rootfs'));
    sh(['tar', '-C', join(bundle, 'rootfs'), '-xf', tarball], 'unpack bundle');
    sh(['chown', '-R', `${env.user.uid}:${env.user.gid}`, bundle], 'chown bundle');
    sh(env.wrap(['sh', '-c', `cd ${bundle} && crun spec --rootless`]), 'crun spec');
    const spec = JSON.parse(sh(['cat', join(bundle, 'config.json')], 'read spec')) as {
      process: { args: string[]; terminal: boolean };
    };
    spec.process.args = ['true'];
    spec.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const crunRoot = join(env.root, 'crun-root');
    mkdirSync(crunRoot, { mode: 0o700 });
    chownSync(crunRoot, env.user.uid, env.user.gid);

    const commands: Record<string, (i: number) => string[]> = {
      node: () => env.wrap([process.execPath, '-e', '0']),
      crun: (i) => env.wrap(['crun', '--root', crunRoot, 'run', '-b', bundle, `bench-${i}`]),
      den: () => env.wrap([process.execPath, denBin(), 'run', '--rm', '--network', 'none', 'bench/busybox', 'true']),
      podman: () => podman(['run', '--rm', '--network', 'none', 'bench/busybox', 'true']),
    };
    // DEN_BENCH_BASELINE=/other/checkout/bin/den adds another den build to the same interleaved
    // rounds (same store, same image), for "is this change slower" measured side by side.
    const baseline = process.env.DEN_BENCH_BASELINE;
    if (baseline) {
      commands['den-base'] = () =>
        env.wrap([process.execPath, baseline, 'run', '--rm', '--network', 'none', 'bench/busybox', 'true']);
    }
    const { times, medians: m } = interleave(commands);
    console.log(`\nden run --rm --network none busybox true, rootless: ${ROUNDS} interleaved rounds, medians`);
    for (const [name, ms] of Object.entries(m)) {
      console.log(
        `  ${name.padEnd(8)} ${ms.toFixed(1).padStart(7)} ms   (min ${Math.min(...times[name]!).toFixed(1)}, max ${Math.max(...times[name]!).toFixed(1)})`,
      );
    }
    console.log(`  ratio den/podman ${(m.den! / m.podman!).toFixed(2)} (target <= 0.50)`);
    console.log(`  ratio den/crun   ${(m.den! / m.crun!).toFixed(2)}`);
    if (baseline) console.log(`  ratio den/den-base ${(m.den! / m['den-base']!).toFixed(2)} (${baseline})`);
    sh(podman(['rmi', '-a', '-f']), 'podman rmi');
  } finally {
    spawnSync('pkill', ['-u', String(env.user.uid), '-f', 'podman pause']);
    env.cleanup();
    rmSync(env.root, { recursive: true, force: true });
  }
}

await main();
