import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER } from './harness.js';

/**
 * The snapshotter conformance suite (src/snapshots/snapshotter.ts): one list of behaviours, run
 * through the built CLI against every snapshotter, as containerd's snapshotter suite runs its
 * behaviours against every snapshotter. den chooses a snapshotter from how it is run, so each
 * subject below is a user, an environment and the --userns flags that select it:
 *
 *   none      rootless --userns=host, and root --userns=host: the layers as they are
 *   idmapped  root --userns=auto (root's default): idmapped binds of each layer
 *   fuse      rootless DEN_SHIFT=fuse, --userns=auto and keep-id: fuse-overlayfs uidmapping=
 *   copy      rootless DEN_SHIFT=copy, --userns=auto and keep-id: a shifted copy per mapping
 *   helper    rootless DEN_SHIFT=helper, --userns=auto and keep-id: idmapped binds made by den-idmap
 *
 * Every subject runs a two-layer image whose files have several owners and modes and whose top
 * layer deletes a file of the bottom one (a whiteout), with two mappings: one of the container's
 * own (`own`) and one that two containers share (`shared`).
 */

interface Subject {
  name: string;
  user: string;
  env: Record<string, string>;
  /** A mapping of the container's own. */
  own: string[];
  /** A mapping that containers share: the second container must reuse what the first made. */
  shared: string[];
  /** The lower mounts (fstype) the snapshotter makes besides the overlay, in the order mounted. */
  lowerMounts: (layers: number) => string[];
  /** The directories a container with the shared mapping reads its image from (top layer first). */
  lowerDirs: (env: DenEnv, layers: string[]) => string[];
  /** Whether it copies the layers (shifted/), per mapping. */
  copies: boolean;
  /** Why the host cannot run this subject, if it cannot. */
  missing?: () => string | undefined;
}

const ROOTLESS_FUSE = () => {
  if (spawnSync('sh', ['-c', 'command -v fuse-overlayfs']).status !== 0) return 'fuse-overlayfs is not installed';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is missing';
  }
  const mode = lstatSync('/dev/fuse').mode & 0o006;
  return mode === 0o006 ? undefined : `/dev/fuse is not open to ${TEST_USER} (mode 0600: run scripts/setup-host.sh)`;
};

const ROOTLESS_HELPER = () =>
  (statSync('/usr/local/libexec/den/den-idmap', { throwIfNoEntry: false })?.mode ?? 0) & 0o4000
    ? undefined
    : 'den-idmap is not installed setuid root in /usr/local/libexec/den (run scripts/setup-host.sh)';

const layerDirs = (env: DenEnv, layers: string[]) => layers.map((l) => join(env.dataDir, 'layers', l)).reverse();

const SUBJECTS: Subject[] = [
  {
    name: 'none (rootless, --userns=host)',
    user: TEST_USER,
    env: {},
    own: ['--userns=host'],
    shared: ['--userns=host'],
    copies: false,
    lowerMounts: () => [],
    lowerDirs: layerDirs,
  },
  {
    name: 'none (root, --userns=host)',
    user: 'root',
    env: {},
    own: ['--userns=host'],
    shared: ['--userns=host'],
    copies: false,
    lowerMounts: () => [],
    lowerDirs: layerDirs,
  },
  {
    name: 'idmapped (root, --userns=auto)',
    user: 'root',
    env: {},
    own: ['--userns=auto'],
    shared: ['--uidmap', '0:1500000000:70000', '--gidmap', '0:1500000000:70000'],
    // One idmapped bind per layer: a bind keeps the fstype of the layer's file system.
    copies: false,
    lowerMounts: (n) => Array.from({ length: n }, () => fsTypeOf('/tmp')),
    lowerDirs: layerDirs,
  },
  {
    name: 'fuse (rootless, DEN_SHIFT=fuse)',
    user: TEST_USER,
    env: { DEN_SHIFT: 'fuse' },
    own: ['--userns=auto'],
    shared: ['--userns=keep-id'],
    copies: false,
    lowerMounts: () => ['fuse.fuse-overlayfs'],
    lowerDirs: layerDirs,
    missing: ROOTLESS_FUSE,
  },
  {
    name: 'copy (rootless, DEN_SHIFT=copy)',
    user: TEST_USER,
    env: { DEN_SHIFT: 'copy' },
    own: ['--userns=auto'],
    shared: ['--userns=keep-id'],
    copies: true,
    lowerMounts: () => [],
    // Once copied, the shared mapping's containers read the copies, not the canonical layers.
    lowerDirs: (env, layers) => {
      const [key] = readdirSync(join(env.dataDir, 'shifted'));
      return layers.map((l) => join(env.dataDir, 'shifted', key!, l)).reverse();
    },
  },
  {
    name: 'helper (rootless, DEN_SHIFT=helper)',
    user: TEST_USER,
    env: { DEN_SHIFT: 'helper' },
    own: ['--userns=auto'],
    shared: ['--userns=keep-id'],
    // One idmapped bind per layer, made by den-idmap and attached in the session.
    copies: false,
    lowerMounts: (n) => Array.from({ length: n }, () => fsTypeOf('/tmp')),
    lowerDirs: layerDirs,
    missing: ROOTLESS_HELPER,
  },
];

/** What every container of the image must see (behaviour 1), as `stat -c "%a %u:%g %n"` prints it. */
const IMAGE_VIEW = [
  '755 0:0 /',
  '755 0:0 /bin/busybox',
  '700 0:0 /root',
  '755 1000:1000 /home/user',
  '755 0:0 /data',
  '640 1000:1001 /data/owned',
  '600 0:0 /data/secret',
  '2770 0:1000 /data/group-dir',
  '4755 0:0 /data/setuid',
  '644 65534:65534 /data/nobody',
  '644 1000:1000 /etc/replaced',
];
const VIEW_CMD =
  `stat -c "%a %u:%g %n" ${IMAGE_VIEW.map((l) => l.split(' ')[2]).join(' ')}; ` +
  'cat /data/owned /data/secret /etc/kept /etc/replaced; ls -A /opaque; ' +
  'for f in /etc/removed /removed-dir; do [ -e $f ] && echo $f is visible || echo $f whited out; done';
const VIEW_OUT = [
  ...IMAGE_VIEW,
  'owned',
  'secret',
  'kept',
  'top',
  'new',
  '/etc/removed whited out',
  '/removed-dir whited out',
];

for (const subject of SUBJECTS) {
  const missing = subject.missing?.();
  describe(`snapshotter ${subject.name}`, { skip: missing }, () => {
    let env: DenEnv;
    let fixtures: string;
    let layers: string[];
    const den = (args: string[], extra: Record<string, string> = {}) =>
      env.den(args, { env: { ...subject.env, ...extra } });
    // --network none: the mounts these tests count are the snapshotter's, without a network namespace's.
    const run = (userns: string[], args: string[]) => den(['run', '--network', 'none', ...userns, '-u', '0', ...args]);

    before(() => {
      env = new DenEnv(subject.user);
      fixtures = mkdtempSync('/tmp/den-e2e-snap-');
      chmodSync(fixtures, 0o755);
      const image = twoLayerArchive(fixtures);
      const r = env.den(['load', '-i', image.archive]);
      assert.equal(r.status, 0, r.stderr);
      layers = image.chainIds;
      for (const l of layers) assert.ok(existsSync(join(env.dataDir, 'layers', l)), `layer ${l} is in the store`);
    });
    after(() => {
      env?.cleanup();
      if (fixtures) rmSync(fixtures, { recursive: true, force: true });
    });

    test('1. the container sees the image owners, modes and contents, whiteouts and opaque directories', () => {
      for (const userns of [subject.own, subject.shared]) {
        const r = run(userns, ['--rm', 'snap', 'sh', '-c', VIEW_CMD]);
        assert.equal(r.status, 0, `${userns.join(' ')}: ${r.stderr}`);
        assert.deepEqual(r.stdout.trim().split('\n'), VIEW_OUT, userns.join(' '));
      }
    });

    test('2. writes land in the upper directory owned by the ids the map gives; layers/ is unchanged', () => {
      const before = layerFingerprint(env);
      for (const [i, userns] of [subject.own, subject.shared].entries()) {
        const name = `writer-${i}`;
        const r = run(userns, [
          '--name',
          name,
          'snap',
          'sh',
          '-c',
          'touch /root/by-root && echo appended >> /data/owned && chmod 604 /data/secret && ' +
            'su user -s /bin/sh -c "touch /home/user/by-user /tmp/by-user"',
        ]);
        assert.equal(r.status, 0, `${userns.join(' ')}: ${r.stderr}`);
        const id = containerId(env, name);
        const host = hostIds(env, name);
        const upper = join(env.dataDir, 'containers', id, 'upper');
        const owner = (p: string) => {
          const st = lstatSync(join(upper, p));
          return `${st.uid}:${st.gid}`;
        };
        const expect = (uid: number, gid: number) => `${host.uid(uid)}:${host.gid(gid)}`;
        const label = `${userns.join(' ')}: owners on disk`;
        assert.deepEqual(
          ['root', 'root/by-root', 'home/user', 'home/user/by-user', 'tmp/by-user', 'data/owned', 'data/secret'].map(
            owner,
          ),
          [
            expect(0, 0),
            expect(0, 0),
            expect(1000, 1000),
            expect(1000, 1000),
            expect(1000, 1000),
            expect(1000, 1001),
            expect(0, 0),
          ],
          label,
        );
        assert.equal(readFileSync(join(upper, 'data', 'owned'), 'utf8'), 'owned\nappended\n');
        assert.equal(lstatSync(join(upper, 'data', 'secret')).mode & 0o7777, 0o604);
        // The overlay's root takes the upper directory's owner: the image root's, through the map.
        assert.equal(owner('.'), expect(0, 0), `${label}: the upper directory itself`);
        assert.equal(den(['rm', name]).status, 0);
      }
      assert.equal(layerFingerprint(env), before, 'no file in layers/ changed owner, mode or content');
    });

    test('3. a second container with the same mapping starts and reuses what the first made', () => {
      const first = run(subject.shared, ['--rm', 'snap', 'cat', '/data/owned']);
      assert.equal(first.status, 0, first.stderr);
      const made = derived(env);
      const second = run(subject.shared, ['--rm', 'snap', 'sh', '-c', 'stat -c "%u:%g" /data/owned; cat /data/owned']);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, '1000:1001\nowned\n');
      assert.doesNotMatch(second.stderr, /copying/);
      assert.deepEqual(derived(env), made, 'the second container made no new copy (same directories, same inodes)');
      if (!subject.copies) assert.deepEqual(made, [], 'only the copy snapshotter copies');
    });

    test('4. while it runs: the overlay and the lower mounts; after it exits: no mount of it remains', async () => {
      for (const userns of [subject.own, subject.shared]) {
        const child = env.spawnDen(
          ['run', '-i', '--network', 'none', ...userns, '--name', 'mounted', 'snap', 'head', '-n', '1'],
          {
            env: subject.env,
          },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        let seen: Mount[] = [];
        for (let i = 0; i < 400 && !seen.some((m) => m.fstype === 'overlay'); i++) {
          await sleep(25);
          seen = mountsOf(env);
        }
        const id = containerId(env, 'mounted');
        const dir = join(env.dataDir, 'containers', id);
        const expected = [
          ...subject.lowerMounts(layers.length).map((fstype, i) => `${fstype} ${join(dir, 'lower', String(i))}`),
          `overlay ${join(dir, 'rootfs')}`,
        ];
        child.stdin.end('go\n');
        assert.equal(await exited, 0, stderr);
        assert.deepEqual(
          seen.map((m) => `${m.fstype} ${m.point}`),
          expected,
          `${userns.join(' ')}: the mounts while it ran`,
        );
        assert.deepEqual(mountsOf(env), [], `${userns.join(' ')}: the mounts after it exited`);
        assert.equal(den(['rm', 'mounted']).status, 0);
      }
    });

    test('5. rm removes the container and what was its own; prune collects what nothing uses', () => {
      const shared = den(['create', '--network', 'none', ...subject.shared, 'snap', 'true']);
      assert.equal(shared.status, 0, shared.stderr);
      const withShared = derived(env);
      const own = den(['create', '--network', 'none', ...subject.own, 'snap', 'true']);
      assert.equal(own.status, 0, own.stderr);
      const withBoth = derived(env);
      if (subject.copies) assert.ok(withBoth.length > withShared.length, 'the auto container has copies of its own');
      else assert.deepEqual(withBoth, [], 'only the copy snapshotter copies');
      const prunedEarly = den(['image', 'prune', '-f'], { DEN_GC_GRACE_SECONDS: '0' });
      assert.equal(prunedEarly.status, 0, prunedEarly.stderr);
      assert.deepEqual(derived(env), withBoth, 'prune kept what containers still use');
      const ownId = own.stdout.trim();
      assert.ok(existsSync(join(env.dataDir, 'containers', ownId)));
      const rm = den(['rm', ownId]);
      assert.equal(rm.status, 0, rm.stderr);
      assert.ok(!existsSync(join(env.dataDir, 'containers', ownId)), 'rm removed the container directory');
      assert.deepEqual(derived(env), withShared, "rm took what was the container's own (an auto container's copies)");
      assert.equal(den(['rm', shared.stdout.trim()]).status, 0);
      const prune = den(['image', 'prune', '-f'], { DEN_GC_GRACE_SECONDS: '0' });
      assert.equal(prune.status, 0, prune.stderr);
      assert.deepEqual(derived(env), [], 'prune collected the copies no container uses');
      assert.deepEqual(env.containerDirs(), [], 'nothing is left under containers/');
      assert.equal(den(['ps', '-a', '-q']).stdout, '');
      const check = den(['system', 'check', '--store']);
      assert.equal(check.status, 0, check.stdout + check.stderr);
    });

    test('6. a mount that fails: den clear error, exit 125, no mount left; it works again once repaired', () => {
      // The shared mapping's image (for copy, its copies, made here) with its top layer turned into a file.
      const ok = run(subject.shared, ['--rm', 'snap', 'true']);
      assert.equal(ok.status, 0, ok.stderr);
      const [top] = subject.lowerDirs(env, layers);
      const aside = `${top}.aside`;
      renameSync(top!, aside);
      writeFileSync(top!, 'not a directory');
      try {
        const r = run(subject.shared, ['--rm', 'snap', 'true']);
        assert.equal(r.status, 125, r.stderr);
        assert.match(r.stderr, /Error: container \S+: cannot (mount its root file system|idmap its layers): \S/);
        assert.match(r.stderr, /Hint: run `den system check`/);
        assert.deepEqual(mountsOf(env), [], 'the failed start left no mount');
        assert.deepEqual(env.containerDirs(), [], '--rm removed what the failed start made');
        const kept = run(subject.shared, ['--name', 'kept', 'snap', 'true']);
        assert.equal(kept.status, 125, kept.stderr);
        assert.match(den(['ps', '-a', '--format', '{{.Names}} {{.State}}']).stdout, /^kept exited$/m);
        assert.deepEqual(mountsOf(env), []);
        assert.equal(den(['rm', 'kept']).status, 0);
      } finally {
        rmSync(top!);
        renameSync(aside, top!);
      }
      const again = run(subject.shared, ['--rm', 'snap', 'cat', '/data/owned']);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout, 'owned\n');
      assert.deepEqual(env.containerDirs(), []);
      assert.deepEqual(mountsOf(env), []);
    });

    test('6b. a container of its own mapping over a damaged layer fails cleanly, leaving nothing', () => {
      const before = derived(env);
      const top = join(env.dataDir, 'layers', layers[layers.length - 1]!);
      renameSync(top, `${top}.aside`);
      writeFileSync(top, 'not a directory');
      try {
        const r = run(subject.own, ['--rm', 'snap', 'true']);
        assert.equal(r.status, 125, r.stderr);
        assert.match(
          r.stderr,
          /Error: (container \S+: cannot (mount its root file system|idmap its layers)|cannot copy layer [0-9a-f]{12} with shifted owners): \S/,
        );
        assert.deepEqual(mountsOf(env), [], 'the failed start left no mount');
        assert.deepEqual(env.containerDirs(), [], 'nothing is left under containers/');
        assert.deepEqual(derived(env), before, 'no copy, whole or half, was left');
        assert.equal(den(['ps', '-a', '-q']).stdout, '');
      } finally {
        rmSync(top);
        renameSync(`${top}.aside`, top);
      }
    });

    test('7. den killed while its container runs: rm -f unmounts everything and removes it', async () => {
      for (const userns of [subject.own, subject.shared]) {
        const child = env.spawnDen(
          ['run', '-i', '--network', 'none', ...userns, '--name', 'orphan', 'snap', 'head', '-n', '1'],
          {
            env: subject.env,
          },
        );
        for (let i = 0; i < 400 && !mountsOf(env).some((m) => m.fstype === 'overlay'); i++) await sleep(25);
        assert.ok(
          mountsOf(env).some((m) => m.fstype === 'overlay'),
          'the container started',
        );
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        const rm = den(['rm', '-f', 'orphan']);
        child.stdin.destroy();
        assert.equal(rm.status, 0, rm.stderr);
        assert.deepEqual(mountsOf(env), [], `${userns.join(' ')}: no mount is left`);
        assert.deepEqual(env.containerDirs(), [], `${userns.join(' ')}: nothing is left under containers/`);
        assert.deepEqual(env.strayProcesses(), [], `${userns.join(' ')}: no process is left`);
      }
    });
  });
}

/**
 * A docker-archive of a two-layer image, `snap`, built as root with real owners: the busybox
 * fixture plus a few files, and on top a layer of files of several owners and modes that deletes a
 * file and a directory of the bottom one (whiteouts), hides another's content (an opaque directory)
 * and replaces a file.
 */
function twoLayerArchive(dir: string): { archive: string; chainIds: string[] } {
  const sh = (cmd: string) => {
    const r = spawnSync('sh', ['-euc', cmd], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
  };
  const bottom = join(dir, 'bottom');
  const top = join(dir, 'top');
  for (const d of [bottom, top]) {
    mkdirSync(d);
    chmodSync(d, 0o755);
  }
  sh(
    `tar -C ${bottom} -xf ${busyboxTarball()} && cd ${bottom} && echo kept > etc/kept && echo gone > etc/removed && ` +
      'echo bottom > etc/replaced && mkdir opaque removed-dir && touch opaque/old removed-dir/file',
  );
  sh(`tar -C ${bottom} --numeric-owner -cf ${dir}/bottom.tar .`);
  mkdirSync(join(top, 'etc'));
  chmodSync(join(top, 'etc'), 0o755);
  // Whiteouts of a file and a directory, an opaque directory, a file replaced with another owner.
  writeFileSync(join(top, 'etc', '.wh.removed'), '');
  writeFileSync(join(top, '.wh.removed-dir'), '');
  mkdirSync(join(top, 'opaque'));
  chmodSync(join(top, 'opaque'), 0o755);
  writeFileSync(join(top, 'opaque', '.wh..wh..opq'), '');
  writeFileSync(join(top, 'opaque', 'new'), '');
  writeFileSync(join(top, 'etc', 'replaced'), 'top\n');
  chownSync(join(top, 'etc', 'replaced'), 1000, 1000);
  chmodSync(join(top, 'etc', 'replaced'), 0o644);
  const data = join(top, 'data');
  mkdirSync(data);
  chmodSync(data, 0o755);
  const file = (name: string, content: string, mode: number, uid: number, gid: number) => {
    writeFileSync(join(data, name), content);
    chownSync(join(data, name), uid, gid);
    chmodSync(join(data, name), mode);
  };
  file('owned', 'owned\n', 0o640, 1000, 1001);
  file('secret', 'secret\n', 0o600, 0, 0);
  file('setuid', '#!/bin/sh\n', 0o4755, 0, 0);
  file('nobody', '', 0o644, 65534, 65534);
  mkdirSync(join(data, 'group-dir'));
  chownSync(join(data, 'group-dir'), 0, 1000);
  chmodSync(join(data, 'group-dir'), 0o2770);
  sh(`tar -C ${top} --numeric-owner -cf ${dir}/top.tar .`);
  const diffIds = ['bottom.tar', 'top.tar'].map((f) => `sha256:${sha256(readFileSync(join(dir, f)))}`);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(dir, configName), config);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: ['snap:latest'], Layers: ['bottom.tar', 'top.tar'] }]),
  );
  const out = join(dir, 'snap.tar');
  sh(`tar -C ${dir} -cf ${out} bottom.tar top.tar ${configName} manifest.json && chmod 644 ${out}`);
  // A layer's chain id: its diff id at the bottom, then sha256 of "<chain below> <diff id>".
  const chainIds: string[] = [];
  for (const diffId of diffIds) {
    const below = chainIds[chainIds.length - 1];
    chainIds.push(below === undefined ? diffId.slice(7) : sha256(`sha256:${below} ${diffId}`));
  }
  return { archive: out, chainIds };
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Owner, inode, mode and content of every file in layers/: what a chown, copy or write would change. */
function layerFingerprint(env: DenEnv): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const content = st.isFile() ? sha256(readFileSync(path)) : '';
      out.push(`${path} ${st.ino} ${st.uid}:${st.gid} ${st.mode.toString(8)} ${content}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(join(env.dataDir, 'layers'));
  return out.join('\n');
}

/** What snapshotters derived from the layers: shifted/<key>/<layer> with each copy's inode. */
function derived(env: DenEnv): string[] {
  const dir = join(env.dataDir, 'shifted');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((key) =>
      readdirSync(join(dir, key))
        .sort()
        .map((n) => `${key}/${n} ${lstatSync(join(dir, key, n)).ino}`),
    );
}

function containerId(env: DenEnv, name: string): string {
  const r = env.den(['inspect', '--format', '{{.Id}}', name]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

type IdMap = [number, number, number][];

/**
 * The host ids of a container's ids: its maps (relative to the session rootless; none when it
 * uses the session's or the host's ids as they are) and, rootless, the session's own maps.
 */
function hostIds(env: DenEnv, name: string): { uid: (id: number) => number; gid: (id: number) => number } {
  const r = env.den(['inspect', '--format', '{{json .HostConfig.IDMappings}}', name]);
  assert.equal(r.status, 0, r.stderr);
  const mappings = JSON.parse(r.stdout) as { UidMap: string[]; GidMap: string[] } | null;
  const parse = (lines: string[]): IdMap => lines.map((l) => l.split(':').map(Number) as [number, number, number]);
  const session = (kind: 'uid' | 'gid'): IdMap | undefined => {
    if (!env.rootless) return undefined;
    const text = readFileSync(`/proc/${env.sessionPid()}/${kind}_map`, 'utf8');
    return text
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  };
  const through = (map: IdMap | undefined, id: number) => {
    if (!map) return id;
    const e = map.find(([inside, , size]) => id >= inside && id < inside + size);
    assert.ok(e, `id ${id} is not mapped by ${JSON.stringify(map)}`);
    return e[1] + id - e[0];
  };
  const container = { uid: mappings && parse(mappings.UidMap), gid: mappings && parse(mappings.GidMap) };
  const sessionMaps = { uid: session('uid'), gid: session('gid') };
  return {
    uid: (id) => through(sessionMaps.uid, through(container.uid ?? undefined, id)),
    gid: (id) => through(sessionMaps.gid, through(container.gid ?? undefined, id)),
  };
}

interface Mount {
  point: string;
  fstype: string;
}

/** The mounts under the environment, in the session (rootless) or the host (root), in mount order. */
function mountsOf(env: DenEnv): Mount[] {
  const pid = env.rootless ? env.sessionPid() : 'self';
  if (pid === undefined) return [];
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right] = line.split(' - ');
      return { point: left!.split(' ')[4]!, fstype: right!.split(' ')[0]! };
    })
    .filter((m) => m.point.startsWith(env.root));
}

/** The type of the file system `path` is on, as mountinfo names it. */
function fsTypeOf(path: string): string {
  return spawnSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', path], { encoding: 'utf8' }).stdout.trim();
}
