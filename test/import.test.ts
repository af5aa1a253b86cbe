import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pack } from 'tar-stream';
import { busyboxTarball, DenEnv } from './harness.js';

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  content?: string;
  uid?: number;
}

async function tarball(dir: string, fileName: string, entries: Entry[]): Promise<string> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      uid: e.uid ?? 0,
      gid: 0,
      mode: 0o644,
      ...(e.linkname ? { linkname: e.linkname } : {}),
    };
    if (type === 'file') p.entry(header, e.content ?? 'x');
    else p.entry(header);
  }
  p.finalize();
  await done;
  const file = join(dir, fileName);
  writeFileSync(file, Buffer.concat(chunks));
  chmodSync(file, 0o644);
  return file;
}

function layerDirs(env: DenEnv): string[] {
  const dir = join(env.dataDir, 'layers');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('den import', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
  });
  after(() => env.cleanup());

  test('a rootfs tarball becomes a one-layer image in an OCI layout, with owners kept', () => {
    const r = env.den(['import', '--change', 'CMD ["/bin/sh", "-c", "echo from-cmd"]', busyboxTarball(), 'local/bb:1']);
    assert.equal(r.status, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const images = env.den(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).stdout;
    assert.equal(images, `local/bb:1 ${id.slice(7, 19)}\n`);
    // The store is an OCI image layout whose index names the image.
    const index = JSON.parse(storeFile('content/index.json', env)) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    assert.equal(index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'], 'docker.io/local/bb:1');
    const layer = layerDirs(env)[0]!;
    const home = statSync(join(env.dataDir, 'layers', layer, 'home', 'user'));
    assert.notEqual(home.uid, env.user.uid, 'uid 1000 in the tarball is a subordinate id on the host');
    const run = env.den(['run', '--rm', 'local/bb:1']);
    assert.equal(run.stdout, 'from-cmd\n', run.stderr);
    const inspect = JSON.parse(env.den(['inspect', 'local/bb:1']).stdout) as {
      RepoTags: string[];
      RootFS: { Layers: string[] };
    }[];
    assert.deepEqual(inspect[0]!.RepoTags, ['local/bb:1']);
    assert.equal(inspect[0]!.RootFS.Layers.length, 1);
  });

  test('importing the same content twice shares the layer; rmi removes names, then the image', () => {
    const before = layerDirs(env);
    assert.equal(env.den(['import', busyboxTarball(), 'other:latest']).status, 0);
    assert.deepEqual(layerDirs(env), before, 'no second copy of the same layer');
    const untag = env.den(['rmi', 'other']);
    assert.equal(untag.status, 0, untag.stderr);
    assert.match(untag.stdout, /Untagged: other:latest/);
    assert.equal(env.den(['create', '--name', 'user-of-image', 'local/bb:1']).status, 0);
    const busy = env.den(['rmi', 'local/bb:1']);
    assert.equal(busy.status, 1, 'docker rmi exits 1 when it fails');
    assert.match(busy.stderr, /being used by 1 container/);
    assert.equal(env.den(['rm', 'user-of-image']).status, 0);
    const gone = env.den(['rmi', 'local/bb:1']);
    assert.equal(gone.status, 0, gone.stderr);
    assert.match(gone.stdout, /Deleted: sha256:/);
    assert.equal(env.den(['images', '-q']).stdout, '');
    assert.deepEqual(layerDirs(env), []);
    assert.deepEqual(readdirSync(join(env.dataDir, 'content', 'blobs', 'sha256')), []);
  });

  test('concurrent imports of the same tarball all succeed and share one layer', { timeout: 60_000 }, async () => {
    const runs = ['c1', 'c2', 'c3'].map((name) => env.spawnDen(['import', busyboxTarball(), name]));
    const statuses = await Promise.all(runs.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve))));
    assert.deepEqual(statuses, [0, 0, 0]);
    assert.equal(layerDirs(env).length, 1);
    for (const name of ['c1', 'c2', 'c3']) assert.equal(env.den(['rmi', name]).status, 0);
    assert.deepEqual(layerDirs(env), []);
  });

  test('import from stdin, and an empty stdin refused', () => {
    const r = env.den(['import', '-', 'piped'], { input: readFileSync(busyboxTarball()) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(env.den(['images', '--format', '{{.Repository}}']).stdout, /^piped$/m);
    assert.equal(env.den(['rmi', 'piped']).status, 0);
    const empty = env.den(['import', '-', 'empty'], { input: '' });
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /the archive is empty/);
    assert.equal(env.den(['images', '-q']).stdout, '');
    assert.deepEqual(layerDirs(env), []);
  });

  test('an absolute symlink is followed inside the layer, never on the host', async () => {
    const sentinel = join(env.root, 'outside');
    const file = await tarball(env.root, 'abs-symlink.tar', [
      { name: 'evil', type: 'symlink', linkname: sentinel },
      { name: 'evil/inside' },
    ]);
    const r = env.den(['import', file, 'abs-symlink']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(sentinel, 'inside')), false);
    const layer = layerDirs(env)[0]!;
    assert.equal(existsSync(join(env.dataDir, 'layers', layer, sentinel, 'inside')), true);
    assert.equal(env.den(['rmi', 'abs-symlink']).status, 0);
  });

  test('hostile tarballs are refused and nothing is written outside the store', async () => {
    const sentinel = join(env.root, 'outside');
    const cases: [string, Entry[], RegExp][] = [
      ['dotdot', [{ name: '../../outside/pwned' }], /escapes/],
      ['absolute', [{ name: `${sentinel}/pwned` }], /absolute|escapes/],
      [
        'symlink-dotdot',
        [{ name: 'up', type: 'symlink', linkname: '../../../../../../..' }, { name: `up${sentinel}/pwned` }],
        /symlink|escapes/,
      ],
      ['hardlink', [{ name: 'passwd', type: 'link', linkname: '../../../../etc/passwd' }], /escapes|hardlink|link/],
    ];
    for (const [label, entries, message] of cases) {
      const file = await tarball(env.root, `${label}.tar`, entries);
      const r = env.den(['import', file, `hostile-${label}`]);
      assert.equal(r.status, 1, `${label}: ${r.stderr}`);
      assert.match(r.stderr, message, label);
      assert.equal(existsSync(join(sentinel, 'pwned')), false, `${label} wrote outside`);
      assert.deepEqual(layerDirs(env), [], `${label} left a layer`);
      assert.equal(env.den(['images', '-q']).stdout, '', `${label} left an image`);
      assert.deepEqual(readdirSync(join(env.dataDir, 'content', 'ingest')), [], `${label} left an ingest file`);
    }
  });

  test('igzip and zlib unpack a gzip layer into identical trees with the same diff id; a trailing-garbage gzip is refused by both', async (t) => {
    if (!existsSync('/usr/bin/igzip')) return t.skip('igzip is not installed (scripts/setup-host.sh installs isal)');
    // Two stores: in one they would share the layer, and the second import would unpack nothing.
    const other = new DenEnv();
    t.after(() => other.cleanup());
    const gz = join(env.root, 'busybox.tar.gz');
    assert.equal(spawnSync('sh', ['-c', `gzip -c ${busyboxTarball()} > ${gz}`]).status, 0);
    chmodSync(gz, 0o644);
    const zlib = env.den(['import', gz, 'by/zlib'], { env: { DEN_GZIP: 'zlib' } });
    assert.equal(zlib.status, 0, zlib.stderr);
    const igzip = other.den(['import', gz, 'by/igzip'], { env: { DEN_GZIP: 'igzip' } });
    assert.equal(igzip.status, 0, igzip.stderr);
    const diffIds = (e: DenEnv, name: string) => e.den(['inspect', '--format', '{{json .RootFS.Layers}}', name]).stdout;
    assert.equal(diffIds(other, 'by/igzip'), diffIds(env, 'by/zlib'));
    const [diffId] = JSON.parse(diffIds(env, 'by/zlib')) as string[];
    // Every entry's type, mode, owner, size, time and link target, and every file's content.
    const tree = (e: DenEnv) => {
      const dir = join(e.dataDir, 'layers', diffId!.slice('sha256:'.length));
      const r = spawnSync(
        'sh',
        [
          '-c',
          `cd ${dir} && find . -printf '%p %y %m %U %G %s %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`,
        ],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const zlibTree = tree(env);
    assert.match(zlibTree, /\.\/bin\/busybox f /);
    assert.equal(tree(other), zlibTree);
    // The same blob with bytes after its end: both refuse it with the same error.
    const garbage = join(env.root, 'garbage.tar.gz');
    writeFileSync(garbage, Buffer.concat([readFileSync(gz), Buffer.from('trailing garbage')]));
    chmodSync(garbage, 0o644);
    const refusals = ['zlib', 'igzip'].map((decoder) =>
      env.den(['import', garbage, 'g'], { env: { DEN_GZIP: decoder } }),
    );
    for (const r of refusals) {
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^Error: layer import source .*garbage\.tar\.gz: gzip stream is truncated or corrupt: /);
    }
    assert.equal(env.den(['images', '-q', 'g']).stdout, '');
  });

  test('a gzip of zeros (a decompression bomb) is refused by DEN_MAX_LAYER_RATIO before it fills the disk', () => {
    // 256 MB of zeros, 250 kB gzipped: a thousand to one, where files compress two to ten times.
    const dir = join(env.root, 'bomb');
    const bomb = join(env.root, 'bomb.tar.gz');
    const made = spawnSync('sh', [
      '-c',
      `mkdir -m 755 ${dir} && head -c 256000000 /dev/zero > ${dir}/zeros && tar -cf - -C ${dir} . | gzip > ${bomb} && rm -r ${dir}`,
    ]);
    assert.equal(made.status, 0);
    chmodSync(bomb, 0o644);
    const layersBefore = layerDirs(env);
    const r = env.den(['import', bomb, 'bomb']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^Error: import source ${bomb.replace(/[.]/g, '\\.')}: unpacks to more than 100 times its compressed size ` +
          '\\(([0-9.]+)MB from ([0-9.]+)kB so far\\): refused as a decompression bomb\\n' +
          'Hint: if you trust the image, raise the bound: DEN_MAX_LAYER_RATIO=1000 \\(0 lifts it\\)\\n$',
      ),
    );
    // Stopped soon after the first 64 MiB, not at the end of the 256 MB, and nothing kept.
    const unpacked = Number(/\(([0-9.]+)MB from/.exec(r.stderr)![1]);
    assert.ok(unpacked >= 67.1 && unpacked < 100, `stopped at ${unpacked} MB`);
    assert.deepEqual(layerDirs(env), layersBefore);
    assert.deepEqual(readdirSync(join(env.dataDir, 'content', 'ingest')), []);
    assert.equal(env.den(['images', '-q', 'bomb']).stdout, '');
    assert.equal(env.den(['system', 'check', '--store']).status, 0);
    // A bound that says 0 lets through what the person trusts; a higher one too.
    const trusted = env.den(['import', bomb, 'bomb'], { env: { DEN_MAX_LAYER_RATIO: '0' } });
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.equal(env.den(['run', '--rm', 'bomb', 'true']).status, 127, 'the image holds the zeros and no shell');
    assert.equal(env.den(['rmi', 'bomb']).status, 0);
    const raised = env.den(['import', bomb, 'bomb'], { env: { DEN_MAX_LAYER_RATIO: '2000' } });
    assert.equal(raised.status, 0, raised.stderr);
    assert.equal(env.den(['rmi', 'bomb']).status, 0);
    const bad = env.den(['import', bomb, 'bomb'], { env: { DEN_MAX_LAYER_RATIO: 'lots' } });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /DEN_MAX_LAYER_RATIO=lots: not a whole number/);
  });
});

function storeFile(relative: string, env: DenEnv): string {
  return readFileSync(join(env.dataDir, relative), 'utf8');
}
