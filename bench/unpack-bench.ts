/**
 * `node --import tsx bench/unpack-bench.ts` (as root): den's layer unpacker against GNU tar on the
 * same layer, plain, gzip and zstd, on ext4 (a directory under /var/tmp).
 *
 * The layer is the Debian minbase root file system that `npm run bench` builds once with
 * debootstrap (/var/tmp/den-bench/debian-bookworm-minbase.tar, or DEN_BENCH_TAR); its gzip and
 * zstd forms are made once beside the outputs. den runs as `tar -x` does, a process of its own per
 * unpack (the unpacker bundled like the CLI: Node.js itself takes about 50 ms to start here), and
 * reports the unpack's own time as well. Before the timed rounds, `tar --diff` checks den's tree
 * against the archive (modes, owners, times, contents, links).
 *
 * Fairness: tar and den alternate (which goes first alternates too), and every run gets a file
 * system of its own: a fresh ext4 (mkfs with its inode tables written out, so no lazy init runs
 * behind the bench) on a 1 GiB image written out once under DEN_BENCH_DIR, through a loop device;
 * then the machine is synced and left alone for DEN_BENCH_SETTLE seconds before the clock starts.
 * A fresh file system is what makes the numbers repeat: on a used ext4, file creation after a mass
 * deletion is several times slower for minutes, because ext4 skips inodes freed recently (while
 * their inode table block is not written back) and the scan for a free one dominates the profile
 * (recently_deleted and find_inode_bit in `perf`); 0.3 s for tar became 2 to 6 s. With
 * DEN_BENCH_FS=dir the runs go into fresh directories of DEN_BENCH_DIR itself, deleted at the end.
 * What remains is the virtual machine's own noise (memory the host hands back on first touch, a
 * second vCPU that is not always there): hence medians, and both sides in every round.
 *
 * Environment: DEN_BENCH_ROUNDS (5), DEN_BENCH_SETTLE (3 s), DEN_BENCH_DIR
 * (/var/tmp/den-unpack-bench), DEN_BENCH_FS (loop or dir), DEN_BENCH_FORMATS (tar,gzip,zstd),
 * DEN_BENCH_WORKER (a worker bundle of another den build, to compare before and after: it takes
 * the same arguments and prints the same line as bench/unpack-worker.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.DEN_BENCH_ROUNDS ?? 5);
const SETTLE_S = Number(process.env.DEN_BENCH_SETTLE ?? 3);
const WORK = process.env.DEN_BENCH_DIR ?? '/var/tmp/den-unpack-bench';
const SOURCE = process.env.DEN_BENCH_TAR ?? '/var/tmp/den-bench/debian-bookworm-minbase.tar';
const FORMATS = (process.env.DEN_BENCH_FORMATS ?? 'tar,gzip,zstd').split(',') as Format[];
const LOOP = (process.env.DEN_BENCH_FS ?? 'loop') === 'loop';
const IMAGE = join(WORK, 'ext4.img');
const MOUNT = join(WORK, 'mnt');

type Format = 'tar' | 'gzip' | 'zstd';

interface Blob {
  format: Format;
  path: string;
  /** How GNU tar is told to read it. */
  tarFlags: string[];
}

interface Sample {
  wallMs: number;
  /** den only: the unpack inside the process, without Node.js start-up. */
  innerMs?: number;
}

function sh(argv: string[], what: string): string {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The compressed forms of the layer, made once and kept while the source does not change. */
function blobs(): Blob[] {
  const inputs = join(WORK, 'inputs');
  mkdirSync(inputs, { recursive: true });
  const made = (path: string): boolean => existsSync(path) && statSync(path).mtimeMs >= statSync(SOURCE).mtimeMs; // zstd keeps the source's mtime;
  const gz = join(inputs, 'layer.tar.gz');
  const zst = join(inputs, 'layer.tar.zst');
  if (FORMATS.includes('gzip') && !made(gz)) {
    console.log('bench set-up: gzip -6 of the layer (once) ...');
    sh(['sh', '-c', `gzip -6 -c "$0" > "$1"`, SOURCE, gz], 'gzip');
  }
  if (FORMATS.includes('zstd') && !made(zst)) {
    console.log('bench set-up: zstd -3 of the layer (once) ...');
    sh(['zstd', '-q', '-f', '-3', SOURCE, '-o', zst], 'zstd');
  }
  const all: Blob[] = [
    { format: 'tar', path: SOURCE, tarFlags: ['-xf'] },
    { format: 'gzip', path: gz, tarFlags: ['-xzf'] },
    { format: 'zstd', path: zst, tarFlags: ['--zstd', '-xf'] },
  ];
  return all.filter((b) => FORMATS.includes(b.format));
}

/** den's unpacker in one CommonJS file, as the CLI ships it; koffi is found from the repository. */
async function bundleWorker(): Promise<string> {
  const out = join(REPO, '.bench', 'unpack-worker.cjs');
  const entry = join(REPO, 'bench', 'unpack-worker.ts');
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['*.node', 'koffi'],
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(entry).href) },
    logLevel: 'warning',
  });
  return out;
}

function settle(): void {
  sh(['sync'], 'sync');
  spawnSync('sleep', [String(SETTLE_S)]);
}

let runs = 0;

/** Where the next run writes: a new, empty ext4 (or a new directory); `done` unmounts it. */
function freshDir(): { dir: string; done: () => void } {
  if (!LOOP) {
    const dir = join(WORK, 'out', `run-${runs++}`);
    mkdirSync(dir, { recursive: true });
    return { dir, done: () => undefined };
  }
  // Every run writes its blocks into the same image, written out beforehand, so the host file
  // system allocates nothing while the clock runs. mkfs goes through the loop device, so that its cache
  // never holds the previous run's blocks.
  const device = sh(['losetup', '--find', '--show', IMAGE], 'losetup').trim();
  try {
    sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0,nodiscard', device], 'mkfs.ext4');
    mkdirSync(MOUNT, { recursive: true });
    sh(['mount', device, MOUNT], 'mount');
  } catch (e) {
    sh(['losetup', '-d', device], 'losetup -d');
    throw e;
  }
  const dir = join(MOUNT, 'out');
  mkdirSync(dir);
  return {
    dir,
    done: () => {
      sh(['umount', MOUNT], 'umount');
      sh(['losetup', '-d', device], 'losetup -d');
    },
  };
}

function timeTar(blob: Blob): Sample {
  const { dir, done } = freshDir();
  try {
    settle();
    const start = process.hrtime.bigint();
    sh(['tar', ...blob.tarFlags, blob.path, '-C', dir], 'tar');
    return { wallMs: Number(process.hrtime.bigint() - start) / 1e6 };
  } finally {
    done();
  }
}

interface DenOutput {
  ms: number;
  entries: number;
  bytes: number;
}

/** `check` is given the tree before it goes. */
function timeDen(worker: string, blob: Blob, check?: (dir: string) => void): Sample & { out: DenOutput } {
  const { dir: parent, done } = freshDir();
  const dir = join(parent, 'layer'); // unpackLayer makes dest itself
  try {
    settle();
    const start = process.hrtime.bigint();
    const stdout = sh([process.execPath, worker, blob.path, dir], 'den unpack');
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    check?.(dir);
    const out = JSON.parse(stdout) as DenOutput;
    return { wallMs, innerMs: out.ms, out };
  } finally {
    done();
  }
}

/** What GNU tar itself finds different between the archive and den's tree (modes, owners, times, data). */
function compareWithTar(blob: Blob, dir: string): string {
  const r = spawnSync('tar', [...blob.tarFlags.map((f) => f.replace('x', 'd')), blob.path, '-C', dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return r.status === 0 ? '' : `${r.stdout}${r.stderr}`.trim();
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run the unpack bench as root: layers carry arbitrary owners');
  if (!existsSync(SOURCE)) throw new Error(`${SOURCE} is missing: \`npm run bench\` builds it once (debootstrap)`);
  rmSync(join(WORK, 'out'), { recursive: true, force: true });
  if (LOOP) {
    spawnSync('umount', [MOUNT], { stdio: 'ignore' }); // left mounted by an interrupted run
    mkdirSync(WORK, { recursive: true });
    // Written out, not fallocated: the host would otherwise convert unwritten extents behind the
    // first runs (ext4-rsv-conversion workers), slowing whichever side comes next.
    if (!existsSync(IMAGE)) {
      sh(['dd', 'if=/dev/zero', `of=${IMAGE}`, 'bs=1M', 'count=1024', 'conv=fsync', 'status=none'], 'dd');
    }
  }
  const worker = process.env.DEN_BENCH_WORKER ?? (await bundleWorker());
  const list = blobs();
  const tarBytes = statSync(SOURCE).size;
  for (const b of list) readFileSync(b.path); // into the page cache, for both sides alike
  const where = LOOP ? `a fresh ext4 per run (loop image in ${WORK})` : `new directories in ${WORK}`;
  console.log(`${ROUNDS} rounds, ${SETTLE_S} s settle, on ${where}`);
  console.log(`layer: ${SOURCE} (${(tarBytes / 1e6).toFixed(0)} MB uncompressed)`);

  const rows: string[][] = [];
  try {
    for (const blob of list) {
      // A warm-up of each, then the check that den's tree is the one tar would make.
      timeTar(blob);
      let diff = '';
      timeDen(worker, blob, (dir) => (diff = compareWithTar(blob, dir)));
      if (diff !== '') console.log(`${blob.format}: tar --diff finds differences in den's tree:\n${diff}`);
      const tar: Sample[] = [];
      const den: Array<Sample & { out: DenOutput }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 2 === 0) {
          tar.push(timeTar(blob));
          den.push(timeDen(worker, blob));
        } else {
          den.push(timeDen(worker, blob));
          tar.push(timeTar(blob));
        }
      }
      const tarMs = median(tar.map((s) => s.wallMs));
      const denMs = median(den.map((s) => s.wallMs));
      const innerMs = median(den.map((s) => s.innerMs!));
      const { entries } = den[0]!.out;
      const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
      console.log(`${blob.format}: tar ${fmt(tar.map((s) => s.wallMs))} ms; den ${fmt(den.map((s) => s.wallMs))} ms`);
      rows.push([
        blob.format,
        `${(statSync(blob.path).size / 1e6).toFixed(0)} MB`,
        tarMs.toFixed(0),
        denMs.toFixed(0),
        innerMs.toFixed(0),
        (denMs / tarMs).toFixed(2),
        (innerMs / tarMs).toFixed(2),
        ((tarBytes / 1e6) * (1000 / denMs)).toFixed(0),
        (entries * (1000 / denMs)).toFixed(0),
        diff === '' ? 'same' : 'DIFFERS',
      ]);
    }
  } finally {
    rmSync(join(WORK, 'out'), { recursive: true, force: true });
    rmSync(IMAGE, { force: true });
  }

  const head = [
    'layer',
    'blob',
    'tar ms',
    'den ms',
    'den unpack ms',
    'den/tar',
    'unpack/tar',
    'den MB/s',
    'den entries/s',
    'tar --diff',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(`\nmedians of ${ROUNDS}; den ms is the whole process, den unpack ms the unpack inside it`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
