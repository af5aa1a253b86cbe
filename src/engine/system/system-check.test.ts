import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { engineConfigFromEnv } from '../config.js';
import { EngineContext } from '../context.js';
import { checkSystem, type CheckResult } from './system-check.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TEST_USER = process.env.DEN_TEST_USER ?? 'dentest';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const isRoot = process.getuid?.() === 0;
const SELF = { node: process.execPath, script: undefined };
const engineFor = (env: NodeJS.ProcessEnv) => new EngineContext(engineConfigFromEnv(env, SELF));

const IDS = [
  'newuidmap',
  'newgidmap',
  'subuid',
  'subgid',
  'session-maps',
  'userns',
  'overlay',
  'idmapped-mounts',
  'idmap-helper',
  'crun',
  'runc',
  'conmon',
  'cgroups',
  'cgroup-limits',
  'network',
  'pasta',
  'slirp4netns',
  'tun',
  'netavark',
  'fuse',
  'runtime-dir',
  'seccomp',
  'fuse-overlayfs',
  'gzip',
  'zstd',
  'userns-shift',
  'userns-default',
];

function byId(results: CheckResult[]): Map<string, CheckResult> {
  return new Map(results.map((r) => [r.id, r]));
}

function get(results: Map<string, CheckResult>, id: string): CheckResult {
  const r = results.get(id);
  assert.ok(r, `no result ${id}`);
  return r;
}

describe('checkSystem as root on this machine', { skip: isRoot ? false : 'needs root' }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'den-check-test-'));
    mkdirSync(join(dir, 'data'));
    env = { PATH, DEN_DATA_DIR: join(dir, 'data'), DEN_RUNTIME_DIR: join(dir, 'run') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every check reports, in order, and this host passes them all', () => {
    const results = checkSystem(engineFor(env), { env });
    assert.deepEqual(
      results.map((r) => r.id),
      IDS,
    );
    const failed = results.filter((r) => r.status !== 'ok');
    assert.deepEqual(failed, [], 'scripts/setup-host.sh has prepared this machine');
    const r = byId(results);
    assert.equal(get(r, 'newuidmap').detail, '/usr/bin/newuidmap is setuid root');
    assert.match(get(r, 'subuid').detail, /^root mode's pool: \d+ uids of den/);
    assert.match(get(r, 'overlay').detail, /on ext4 in .*\/data$/);
    // The probe shows the data directory's owner (root) through a map of 0 to 100000.
    assert.match(get(r, 'idmapped-mounts').detail, /bind mount of .*\/data \(ext4\) works: owner 0 shows as 100000/);
    assert.equal(
      get(r, 'idmap-helper').detail,
      '/usr/local/libexec/den/den-idmap is setuid root; root mode makes idmapped mounts itself',
    );
    assert.match(get(r, 'crun').detail, /^\/usr\/bin\/crun: crun version \d+\.\d+/);
    assert.match(get(r, 'runc').detail, /runc version \d+\.\d+/);
    assert.match(get(r, 'fuse-overlayfs').detail, /: version \d+\.\d+/);
    assert.equal(get(r, 'gzip').detail, 'igzip (ISA-L) in a process of its own: /usr/bin/igzip (found in PATH)');
    assert.match(get(r, 'zstd').detail, /^\/usr\/bin\/zstd: .*v\d+\.\d+/);
    assert.match(get(r, 'userns-shift').detail, /^idmapped mounts of the layers/);
    assert.match(get(r, 'userns-default').detail, /^default --userns: auto \(root: a range of its own per container/);
    assert.match(
      get(r, 'cgroup-limits').detail,
      /^as root: cgroup .*controllers memory cpu cpuset pids; containers' cgroups under \/den$/,
    );
    assert.equal(get(r, 'runtime-dir').detail, `${join(dir, 'run')} (DEN_RUNTIME_DIR), created on first use`);
  });

  test('the probes leave nothing behind in the data directory and create no runtime directory', () => {
    checkSystem(engineFor(env), { env });
    assert.deepEqual(readdirSync(join(dir, 'data')), []);
    assert.deepEqual(readdirSync(dir), ['data']);
  });

  test('tools missing from PATH fail or warn with a fix instead of breaking the check', () => {
    const empty = join(dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const bare = { ...env, PATH: empty };
    const r = byId(checkSystem(engineFor(bare), { env: bare }));
    for (const id of ['crun', 'userns', 'overlay', 'idmapped-mounts', 'network']) {
      assert.equal(get(r, id).status, 'fail', id);
    }
    assert.equal(get(r, 'network').fix, 'apt-get install passt slirp4netns');
    // Root mode does not use the setuid helpers, and runc and pasta are optional.
    for (const id of ['newuidmap', 'runc', 'pasta', 'slirp4netns', 'fuse-overlayfs', 'gzip', 'zstd']) {
      assert.equal(get(r, id).status, 'warn', id);
    }
    // Without igzip den inflates gzip itself, more slowly.
    assert.match(get(r, 'gzip').detail, /^zlib \(Node\.js\): igzip is not installed/);
    assert.equal(get(r, 'gzip').fix, 'apt-get install isal');
    const zlib = { ...env, DEN_GZIP: 'zlib' };
    assert.deepEqual(get(byId(checkSystem(engineFor(zlib), { env: zlib })), 'gzip'), {
      id: 'gzip',
      title: 'gzip layer decompression',
      status: 'ok',
      detail: 'zlib (Node.js), DEN_GZIP=zlib',
    });
    // They are installed, just not in this PATH: the fix says so.
    assert.equal(get(r, 'crun').detail, 'crun is not in PATH (it is at /usr/bin/crun)');
    assert.equal(get(r, 'crun').fix, 'add /usr/bin to PATH');
    assert.match(get(r, 'overlay').detail, /^not probed: unshare is not in PATH/);
  });
});

/** Runs checkSystem as the unprivileged test user, in a hermetic HOME and runtime directory. */
function checkAsUser(
  home: string,
  extraEnv: Record<string, string>,
  options: { subuidFile?: string } = {},
): Map<string, CheckResult> {
  const script = join(home, '..', 'check.ts');
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${TEST_USER}`,
      `--regid=${TEST_USER}`,
      '--init-groups',
      'env',
      '-i',
      `PATH=${PATH}`,
      `HOME=${home}`,
      ...Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      '--import',
      'tsx',
      script,
      JSON.stringify(options),
    ],
    { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return byId(JSON.parse(r.stdout) as CheckResult[]);
}

function userCanRead(path: string): boolean {
  return (
    spawnSync('setpriv', [`--reuid=${TEST_USER}`, `--regid=${TEST_USER}`, '--init-groups', 'test', '-r', path])
      .status === 0
  );
}

function userExists(): boolean {
  return spawnSync('id', ['-u', TEST_USER]).status === 0;
}

const rootlessSkip = !isRoot
  ? 'needs root to become the test user'
  : !userExists()
    ? `no user ${TEST_USER}: run scripts/setup-host.sh --test-user ${TEST_USER}`
    : !userCanRead(join(REPO, 'src', 'engine', 'system', 'system-check.ts'))
      ? `${TEST_USER} cannot read the checkout`
      : false;

describe(`checkSystem as the unprivileged user ${TEST_USER}`, { skip: rootlessSkip }, () => {
  let dir: string;
  let home: string;
  let runtime: string;
  let uid: number;
  let gid: number;
  before(() => {
    uid = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout.trim());
    gid = Number(spawnSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).stdout.trim());
    dir = mkdtempSync(join(tmpdir(), 'den-check-test-'));
    chmodSync(dir, 0o755);
    home = join(dir, 'home');
    runtime = join(dir, 'run');
    for (const d of [home, runtime, join(home, '.local', 'share', 'den')]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    spawnSync('chown', ['-R', `${uid}:${gid}`, home, runtime]);
    const engine = join(REPO, 'src', 'engine');
    writeFileSync(
      join(dir, 'check.ts'),
      [
        `import { EngineContext } from '${join(engine, 'context.ts')}';`,
        `import { engineConfigFromEnv } from '${join(engine, 'config.ts')}';`,
        `import { checkSystem } from '${join(engine, 'system', 'system-check.ts')}';`,
        `const options = JSON.parse(process.argv[2] ?? '{}');`,
        `process.stdout.write(JSON.stringify(checkSystem(new EngineContext(engineConfigFromEnv(process.env, { node: process.execPath, script: undefined })), { env: process.env, ...options })));`,
      ].join('\n'),
      { mode: 0o644 },
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('with its subordinate ids, the session, overlay and devices are all usable', () => {
    const r = checkAsUser(home, { XDG_RUNTIME_DIR: runtime });
    assert.deepEqual([...r.keys()], IDS);
    const expected = readFileSync('/etc/subuid', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${TEST_USER}:`) || l.startsWith(`${uid}:`))
      .reduce((n, l) => n + Number(l.split(':')[2]), 0);
    assert.match(get(r, 'subuid').detail, new RegExp(`^${expected} uids for ${TEST_USER} in /etc/subuid`));
    assert.equal(get(r, 'subuid').status, 'ok');
    assert.equal(get(r, 'session-maps').status, 'ok', get(r, 'session-maps').detail);
    assert.equal(get(r, 'userns').status, 'ok', get(r, 'userns').detail);
    assert.equal(get(r, 'overlay').status, 'ok', get(r, 'overlay').detail);
    assert.match(get(r, 'overlay').detail, new RegExp(`in ${home}/.local/share/den$`));
    // The kernel refuses idmapped mounts of ext4 to an unprivileged user; the check says it inferred that.
    assert.equal(get(r, 'idmapped-mounts').status, 'warn');
    assert.match(get(r, 'idmapped-mounts').detail, /^inferred, not probed: .*ext4/);
    // ... but den-idmap, which setup-host.sh installs, makes one for the user: probed for real.
    assert.equal(get(r, 'idmap-helper').status, 'ok', get(r, 'idmap-helper').detail);
    assert.match(
      get(r, 'idmap-helper').detail,
      /^\/usr\/local\/libexec\/den\/den-idmap is setuid root and made an idmapped mount of .* \(ext4\) for you \(probed\)/,
    );
    assert.equal(get(r, 'runtime-dir').status, 'ok');
    assert.equal(get(r, 'runtime-dir').detail, `${runtime}/den (XDG_RUNTIME_DIR), created on first use`);
    assert.equal(get(r, 'tun').status, 'ok', get(r, 'tun').detail);
    // Debian installs netavark off PATH, in /usr/lib/podman: found there.
    assert.match(get(r, 'netavark').detail, /^\/usr\/lib\/podman\/netavark: netavark 1\./);
    assert.equal(get(r, 'fuse').status, 'ok', get(r, 'fuse').detail);
    // den-idmap makes idmapped mounts of the store for the user, so den shifts ids with it.
    assert.match(
      get(r, 'userns-shift').detail,
      /^helper \(\/usr\/local\/libexec\/den\/den-idmap makes idmapped mounts/,
    );
    // Rootless, the session's mapping whatever the subordinate ids (container root is the caller).
    assert.match(
      get(r, 'userns-default').detail,
      /^default --userns: host \(rootless: the session mapping, container root is you/,
    );
    // Rootless limits need a delegated cgroup v2, which this hybrid host cannot have: said, not failed.
    assert.equal(get(r, 'cgroup-limits').status, 'warn');
    assert.match(
      get(r, 'cgroup-limits').detail,
      /^rootless: none: this host keeps its cgroup controllers on cgroup v1/,
    );
    assert.ok([...r.values()].every((c) => c.status !== 'fail'));
    // The overlay probe's directory (with overlayfs's mode-000 work/work inside) is gone again.
    assert.deepEqual(readdirSync(join(home, '.local', 'share', 'den')), []);
  });

  test('without den-idmap (DEN_IDMAP_HELPER_DIR empty), the row says so and ids are shifted by FUSE', () => {
    const r = checkAsUser(home, { XDG_RUNTIME_DIR: runtime, DEN_IDMAP_HELPER_DIR: '' });
    assert.equal(get(r, 'idmap-helper').status, 'warn');
    assert.match(get(r, 'idmap-helper').detail, /^den-idmap is not used \(DEN_IDMAP_HELPER_DIR is empty\)/);
    // This host's ext4 has no reflinks, so the zero-copy FUSE view is chosen, and the check says why.
    assert.match(get(r, 'userns-shift').detail, /^fuse \(no reflinks on the store's file system/);
    const elsewhere = checkAsUser(home, { XDG_RUNTIME_DIR: runtime, DEN_IDMAP_HELPER_DIR: `${home}/nothing-here` });
    assert.match(get(elsewhere, 'idmap-helper').detail, /^den-idmap is not installed \(looked in .*nothing-here\)/);
  });

  test('a malformed subuid line fails with the file and line, and the session is not probed', () => {
    const file = join(dir, 'subuid-bad');
    writeFileSync(file, `# ranges\n${TEST_USER}:abc:65536\n`, { mode: 0o644 });
    const r = checkAsUser(home, { XDG_RUNTIME_DIR: runtime }, { subuidFile: file });
    assert.equal(get(r, 'subuid').status, 'fail');
    assert.equal(get(r, 'subuid').detail, `${file}:2: start "abc" is not a number`);
    assert.match(get(r, 'subuid').fix ?? '', /subuid\(5\)/);
    assert.equal(get(r, 'subgid').status, 'ok');
    assert.equal(get(r, 'session-maps').status, 'fail');
    assert.match(get(r, 'session-maps').detail, /^not probed: needs subuid/);
  });

  test('no subuid line for the user fails with the usermod command', () => {
    const file = join(dir, 'subuid-other');
    writeFileSync(file, 'someoneelse:100000:65536\n', { mode: 0o644 });
    const r = checkAsUser(home, { XDG_RUNTIME_DIR: runtime }, { subuidFile: file });
    assert.equal(get(r, 'subuid').status, 'fail');
    assert.equal(get(r, 'subuid').detail, `no subordinate uid range for ${TEST_USER} (uid ${uid}) in ${file}`);
    // The range proposed is one nobody has: someoneelse's 100000.. is taken.
    const fix = /^usermod --add-subuids ([0-9]+)-([0-9]+) --add-subgids \1-\2 (\S+)$/.exec(get(r, 'subuid').fix ?? '');
    assert.ok(fix, get(r, 'subuid').fix);
    assert.equal(fix[3], TEST_USER);
    assert.ok(Number(fix[1]) >= 165536, `proposed ${fix[1]}-${fix[2]}`);
    assert.equal(Number(fix[2]) - Number(fix[1]), 65535);
  });

  test('an XDG_RUNTIME_DIR the user cannot write fails; without one the /tmp fallback is named', () => {
    const r = checkAsUser(home, { XDG_RUNTIME_DIR: '/' });
    assert.equal(get(r, 'runtime-dir').status, 'fail');
    assert.equal(get(r, 'runtime-dir').detail, '/den (XDG_RUNTIME_DIR): does not exist and / is not writable');
    const fallback = checkAsUser(home, {});
    assert.match(get(fallback, 'runtime-dir').detail, new RegExp(`^/tmp/den-run-${uid} \\(XDG_RUNTIME_DIR is unset`));
  });
});
