import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/** What a failed command must leave: its store exactly as before. */
function storeSnapshot(env: DenEnv): string {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort().join(',') : '');
  return [
    env.den(['images', '-q', '--no-trunc']).stdout,
    env.den(['ps', '-a', '-q', '--no-trunc']).stdout,
    list(join(env.dataDir, 'layers')),
    list(join(env.dataDir, 'content', 'blobs', 'sha256')),
    list(join(env.dataDir, 'content', 'ingest')),
    list(join(env.dataDir, 'containers')),
  ].join('|');
}

describe("bad input: a clear error, docker's exit status, nothing left behind", () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  test('a registry that takes the connection and never answers: den says it waits, then names it and stops', async () => {
    // A server that accepts and holds every connection, as a wedged registry or proxy does.
    const held: Socket[] = [];
    const server = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const before = storeSnapshot(env);
      const started = Date.now();
      const r = await env.denAsync(['pull', `127.0.0.1:${port}/silent:1`], {
        env: { DEN_REGISTRY_TIMEOUT_SECONDS: '6' },
      });
      const took = Date.now() - started;
      assert.equal(r.status, 1);
      assert.match(r.stdout, new RegExp(`Waiting for 127\\.0\\.0\\.1:${port}: no answer for 5 s`));
      assert.match(
        r.stderr,
        new RegExp(
          `registry 127\\.0\\.0\\.1:${port}: cannot connect: it accepted the connection but sent no answer in 6 s`,
        ),
      );
      assert.match(r.stderr, /Hint: check that .* is a registry and is up/);
      // Two tries of 6 s at most, not four of 30 s (about three minutes of silence, before).
      assert.ok(took < 30_000, `took ${took} ms`);
      assert.equal(storeSnapshot(env), before);
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  test('a data directory den cannot write: every command says which directory and why, not SQLite words', () => {
    const data = join(env.root, 'readonly-data');
    mkdirSync(data);
    chownSync(data, env.user.uid, env.user.gid);
    const first = env.den(['import', busyboxTarball(), 'busybox'], { env: { DEN_DATA_DIR: data } });
    assert.equal(first.status, 0, first.stderr);
    chmodSync(data, 0o500);
    try {
      // docker's CLI fails with 1 when the engine fails (run and create with 125).
      for (const args of [['images'], ['import', busyboxTarball(), 'x'], ['ps', '-a']]) {
        // A fresh WAL: the shared-memory file a reader needs cannot be made either.
        for (const f of ['den.db-wal', 'den.db-shm']) rmSync(join(data, f), { force: true });
        const r = env.den(args, { env: { DEN_DATA_DIR: data } });
        assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(
            `den cannot write in its data directory ${data}: ${data} is not writable for you \\(owner ${env.user.uid}, mode 500\\)`,
          ),
          args[0],
        );
        assert.match(r.stderr, /Hint: make it writable for you, or point den elsewhere with DEN_DATA_DIR/);
        assert.doesNotMatch(r.stderr, /readonly database|unable to open database|internal error/);
      }
    } finally {
      chmodSync(data, 0o700);
    }
  });

  test('a full disk under the store: den says which disk is full and what to do', () => {
    // A 3 MiB tmpfs as the data directory, filled to the last byte once den has its database.
    const mount = join(env.root, 'tiny');
    mkdirSync(mount);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0755', 'tmpfs', mount]).status, 0);
    try {
      const data = join(mount, 'den');
      mkdirSync(data);
      chownSync(data, env.user.uid, env.user.gid);
      assert.equal(env.den(['images'], { env: { DEN_DATA_DIR: data } }).status, 0);
      spawnSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
      const r = env.den(['import', busyboxTarball(), 'x'], { env: { DEN_DATA_DIR: data } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`the disk that holds den's data directory ${data} is full`));
      assert.match(r.stderr, /Hint: free space there/);
    } finally {
      spawnSync('umount', ['-l', mount]);
    }
  });

  test('an unknown image: not here, and (this machine has no internet) not pullable either', () => {
    const before = storeSnapshot(env);
    const never = env.den(['run', '--rm', '--pull=never', 'nosuch:image', 'true']);
    assert.equal(never.status, 125);
    assert.match(never.stderr, /unable to find image 'nosuch:image' locally/);
    const r = env.den(['run', '--rm', 'nosuch:image', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^Unable to find image 'nosuch:image' locally\n/);
    assert.match(r.stderr, /Error: registry docker\.io: /);
    assert.equal(storeSnapshot(env), before);
  });

  test('malformed flags and arguments', () => {
    const before = storeSnapshot(env);
    // docker's statuses: 125 for flag errors and run's own refusals, 126 for a user that is not
    // there, 1 for a wrong number of arguments or a command it does not have (cobra's plain errors).
    const cases: [string[], RegExp, number][] = [
      [['run', '--bogus', 'busybox'], /unknown flag: --bogus/, 125],
      [['run', '-e'], /flag needs an argument/, 125],
      [['run'], /^den: 'den run' requires at least 1 argument\n\nUsage:  den run \[OPTIONS\] IMAGE /, 1],
      [
        ['run', '--rm', '-v', './relative:/x', 'busybox', 'true'],
        /invalid volume name "\.\/relative": if you meant a host directory, give its absolute path/,
        125,
      ],
      [
        ['run', '--rm', '-v', '/nonexistent-dir:/x', 'busybox', 'true'],
        /bind mount source path \/nonexistent-dir does not exist/,
        125,
      ],
      [['run', '--rm', '-v', ':/x', 'busybox', 'true'], /invalid volume specification/, 125],
      [['run', '--rm', '-w', 'relative', 'busybox', 'true'], /absolute path/, 125],
      [['run', '--rm', '--name', 'bad name', 'busybox', 'true'], /invalid container name/, 125],
      [['run', '--rm', '--network', 'nonet', 'busybox', 'true'], /network nonet not found/, 125],
      [['run', '--rm', '-u', 'nobody-here', 'busybox', 'true'], /unable to find user nobody-here/, 126],
      [['run', '--rm', '--userns=nomap', 'busybox', 'true'], /--userns=nomap is not supported yet/, 125],
      [['run', '--rm', '--userns=auto:size=x', 'busybox', 'true'], /expected auto or auto:size=N/, 125],
      [['run', '--rm', 'BadName', 'true'], /unable to find image|invalid reference/, 125],
      [['images', 'a', 'b'], /^den: 'den images' requires at most 1 argument\n/, 1],
      [['frobnicate'], /is not a den command/, 1],
    ];
    for (const [args, message, status] of cases) {
      const r = env.den(args);
      assert.equal(r.status, status, `den ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, `den ${args.join(' ')}`);
    }
    assert.equal(storeSnapshot(env), before);
  });

  test('a name already in use', () => {
    assert.equal(env.den(['create', '--name', 'twin', 'busybox', 'true']).status, 0);
    const r = env.den(['run', '--rm', '--name', 'twin', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /container name "\/twin" is already in use/);
    assert.equal(env.den(['rm', 'twin']).status, 0);
  });

  test('crun missing from PATH', () => {
    // A PATH with every tool den needs but crun: links to /usr/bin's programs, crun left out.
    const bin = join(env.root, 'nocrun-bin');
    mkdirSync(bin);
    chmodSync(bin, 0o755);
    for (const name of readdirSync('/usr/bin'))
      if (name !== 'crun') symlinkSync(join('/usr/bin', name), join(bin, name));
    const before = storeSnapshot(env);
    const r = env.den(['run', '--rm', 'busybox', 'true'], { env: { PATH: `${bin}:/usr/sbin:/sbin` } });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /OCI runtime "crun" not found in PATH/);
    assert.match(r.stderr, /apt-get install crun/);
    assert.equal(storeSnapshot(env), before);
  });

  test('an unknown --runtime', () => {
    const r = env.den(['run', '--rm', '--runtime', 'nosuchruntime', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /OCI runtime "nosuchruntime" not found/);
  });

  test('import of a missing file, a directory, and garbage', () => {
    const before = storeSnapshot(env);
    const garbage = join(env.root, 'garbage.tar');
    writeFileSync(garbage, 'this is not a tar archive at all'.repeat(40));
    chmodSync(garbage, 0o644);
    const gz = join(env.root, 'truncated.tar.gz');
    spawnSync('sh', ['-c', `gzip -c ${busyboxTarball()} | head -c 20000 > ${gz}; chmod 644 ${gz}`]);
    const cases: [string, RegExp][] = [
      ['/nonexistent.tar', /no such file/],
      [env.root, /directory/],
      [garbage, /corrupt|truncated|invalid/i],
      [gz, /corrupt|truncated|unexpected end/i],
    ];
    for (const [file, message] of cases) {
      const r = env.den(['import', file, 'broken']);
      assert.equal(r.status, 1, `${file}: ${r.stderr}`);
      assert.match(r.stderr, message, file);
    }
    assert.equal(storeSnapshot(env), before);
  });
});

describe('a store whose layer went missing', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  test('a missing layer is named, with what to do', () => {
    const layers = join(env.dataDir, 'layers');
    const [layer] = readdirSync(layers);
    renameSync(join(layers, layer!), join(layers, 'aside'));
    const r = env.den(['run', '--rm', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /layer [a-f0-9]{12} is missing from the store/);
    assert.match(r.stderr, /den rmi -f busybox/);
    assert.deepEqual(env.containerDirs(), []);
    // A layer that is there but cannot be mounted (a file, not a directory): the mount's own words.
    writeFileSync(join(layers, layer!), 'not a directory');
  });

  test('a mount failure: exit 125 with the mount error, and --rm leaves nothing', () => {
    const r = env.den(['run', '--rm', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /cannot mount its root file system: mount: /);
    assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
    assert.deepEqual(env.containerDirs(), []);
    assert.deepEqual(env.mountsUnderRoot(), []);
    const kept = env.den(['run', '--name', 'kept', 'busybox', 'true']);
    assert.equal(kept.status, 125);
    assert.match(env.den(['ps', '-a', '--format', '{{.Names}} {{.State}}']).stdout, /^kept exited$/m);
  });
});

describe('a user with no subordinate ids', () => {
  const name = 'dennosubid';
  let env: DenEnv;
  before(() => {
    if (spawnSync('id', [name]).status !== 0) spawnSync('useradd', ['--no-create-home', name]);
    // useradd hands out subordinate ranges by itself (login.defs SUB_UID_*): take them back.
    for (const file of ['/etc/subuid', '/etc/subgid']) spawnSync('sed', ['-i', `/^${name}:/d`, file]);
    env = new DenEnv(name);
  });
  after(() => env.cleanup());

  test('gets a clear error naming /etc/subuid and the fix', () => {
    const r = env.den(['import', busyboxTarball(), 'busybox']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /has no subordinate uid range in \/etc\/subuid/);
    const proposed = /usermod --add-subuids ([0-9]+)-([0-9]+) --add-subgids \1-\2 /.exec(r.stderr);
    assert.ok(proposed, r.stderr);
    // The range proposed is nobody's yet (it once proposed 100000-165535 whoever had it).
    const [first, last] = [Number(proposed[1]), Number(proposed[2])];
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      for (const line of readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => /^[^#].*:[0-9]+:[0-9]+$/.test(l))) {
        const [, start, count] = line.split(':').map(Number) as [number, number, number];
        assert.ok(last < start || first >= start + count, `${first}-${last} overlaps ${file}: ${line}`);
      }
    }
    assert.equal(env.sessionPid(), undefined, 'no session was left behind');
  });
});
