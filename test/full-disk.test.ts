/**
 * A full disk under the store during `den pull`, `den load` and `den import`: den says the disk is
 * full, where (the data directory, the file system's mount point and its free space) and how much
 * the command needed, exits 1 as docker does, and leaves the store as it was (check --store clean).
 *
 * The test user's whole environment (HOME, so the store; the session's runtime directory) is on
 * a 24 MiB tmpfs mounted for the test, made before den's session so the session sees it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { humanSize } from '../src/common/sizes.js';
import { denCommand, DenEnv } from './harness.js';
import { buildLayout, RegistryHarness, tinyTar, type LayoutImage, type TestRegistry } from './registry-server.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a full disk under the store: den says it is full, where, and how much was needed', () => {
  let harness: RegistryHarness;
  let plain: TestRegistry;
  let image: LayoutImage;
  let mount: string;
  let env: DenEnv;
  let full: DenEnv;
  let archive: string;
  let tarball: string;
  before(async () => {
    harness = new RegistryHarness();
    chmodSync(harness.dir, 0o755);
    plain = await harness.start();
    // 20 MB of random bytes, as text: about 20 MB gzipped, 27 MB unpacked; 24 MiB cannot hold both.
    image = buildLayout(join(harness.dir, 'big'), {
      tag: 'big',
      noBusybox: true,
      extraLayers: [tinyTar('noise', randomBytes(15_000_000).toString('base64'))],
    });
    await harness.skopeoCopy(`oci:${image.dir}:big`, `docker://${plain.name}/big:latest`, plain);
    // The same image as a docker-archive, from a store with room, and its layer as a tarball.
    env = new DenEnv();
    const pulled = await env.denAsync(['pull', '-q', `${plain.name}/big:latest`]);
    assert.equal(pulled.status, 0, pulled.stderr);
    archive = join(env.home, 'big.tar');
    assert.equal(env.den(['save', '-o', archive, `${plain.name}/big:latest`]).status, 0);
    chmodSync(archive, 0o644);
    tarball = join(env.root, 'noise.tar');
    writeFileSync(tarball, tinyTar('noise', randomBytes(15_000_000).toString('base64')));
    chmodSync(tarball, 0o644);

    mount = join(harness.dir, 'tiny');
    mkdirSync(mount);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', mount], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    full = new DenEnv(undefined, mount);
  });
  after(async () => {
    full?.cleanup();
    env?.cleanup();
    if (mount) spawnSync('umount', ['-l', mount]);
    await harness.cleanup();
  });

  /** The message's parts: the free space and the bytes of blobs it says were needed. */
  const said = (stderr: string, what: string): { free: string; blobs: string } => {
    const m = new RegExp(
      `^Error: the disk that holds den's data directory ${escape(full.dataDir)} is full ` +
        `\\(${escape(mount)}: ([0-9.]+[kMG]?B) free of 25\\.2MB\\): ${escape(what)} needs at least ([0-9.]+[kMG]?B) there, ` +
        `([0-9.]+[kMG]?B) of blobs and their files unpacked, which take as much or more\\n` +
        `Hint: free space there \\(den image prune -a, den system df; df -h ${escape(full.dataDir)}\\) and run the command again\\n$`,
    ).exec(stderr);
    assert.ok(m, stderr);
    return { free: m[1]!, blobs: m[3]! };
  };

  /** After the failure: no image, nothing half-made, check --store clean, the space given back. */
  const nothingLeft = (what: string) => {
    assert.equal(full.den(['images', '-q']).stdout, '', what);
    const check = full.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, `${what}: ${check.stdout}`);
    const layers = join(full.dataDir, 'layers');
    const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
    assert.deepEqual(
      [...list(layers), ...list(join(full.dataDir, 'content', 'ingest'))].filter(
        (n) => n !== '.locks' && n !== '.leases',
      ),
      [],
      what,
    );
    const df = spawnSync('df', ['--output=avail', '-B1', mount], { encoding: 'utf8' }).stdout.split('\n')[1]!;
    assert.ok(Number(df) > 20_000_000, `${what}: the space is given back (${df} bytes free)`);
  };

  test('pull: the blobs of the layers it lacks, and their unpacked files', async () => {
    const r = await full.denAsync(['pull', '-q', `${plain.name}/big:latest`]);
    assert.equal(r.status, 1, r.stderr);
    const config = statSync(join(image.dir, 'blobs', 'sha256', image.manifests[0]!.config.slice(7))).size;
    const blobs = image.manifests[0]!.layers.reduce((n, l) => n + l.size, config);
    assert.equal(said(r.stderr, `pulling ${plain.name}/big:latest`).blobs, humanSize(blobs));
    nothingLeft('pull');
  });

  test('load: the archive, and its layers unpacked', () => {
    const r = full.den(['load', '-i', archive]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(said(r.stderr, `loading ${archive}`).blobs, humanSize(statSync(archive).size));
    nothingLeft('load');
    // Standard input redirected from the file: its size is known as well.
    const stdin = full.exec(['sh', '-c', `${denCommand().join(' ')} load < ${archive}`]);
    assert.equal(stdin.status, 1, stdin.stderr);
    said(stdin.stderr, 'loading standard input');
    nothingLeft('load < archive');
  });

  test('import of zeros, gzipped: the unpacker in the session meets the full disk, and it is said as one', () => {
    // 64 MB of zeros are 63 kB gzipped: the blob fits, its files do not; the unpacker fails.
    const dir = join(env.root, 'zeros');
    mkdirSync(dir, { mode: 0o755 });
    const zeros = join(env.root, 'zeros.tar.gz');
    const made = spawnSync('sh', [
      '-c',
      `head -c 64000000 /dev/zero > ${dir}/zeros && tar -cf - -C ${dir} . | gzip > ${zeros}`,
    ]);
    assert.equal(made.status, 0);
    chmodSync(zeros, 0o644);
    const r = full.den(['import', zeros, 'zeros']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Error: the disk that holds den's data directory ${escape(full.dataDir)} is full \\(${escape(mount)}: [0-9.]+MB free of 25\\.2MB\\): ` +
          `importing ${escape(zeros)} needs more than the [0-9.]+MB free there, ${escape(humanSize(statSync(zeros).size))} of blobs and their files unpacked, which take the rest\\n`,
      ),
    );
    assert.doesNotMatch(r.stderr, /ENOSPC|cannot write/);
    nothingLeft('import of zeros');
  });

  test('import: the tarball, and its files unpacked', () => {
    const r = full.den(['import', tarball, 'noise']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(said(r.stderr, `importing ${tarball}`).blobs, humanSize(statSync(tarball).size));
    nothingLeft('import');
  });
});
