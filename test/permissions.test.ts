import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, lookupUser } from './harness.js';

/**
 * Other local users learn nothing from den's files (docs/permissions.md). Root and the test user
 * each run containers holding canary secrets, passed by -e, by --env-file, and written by the
 * container to its log; then a second unprivileged user, `nobody`, reads all it can under both
 * users' data and runtime directories and every path /proc/<pid>/mountinfo shows it, and finds no
 * canary, no database and no image file. The same after a store made with the modes of older dens
 * (chmod wider, no marker) was narrowed by its next den, here `den system check --store`.
 */
const OTHER = lookupUser('nobody');
const token = randomBytes(6).toString('hex');
const CANARY = {
  env: `CANARY_E_${token}`,
  envFile: `CANARY_F_${token}`,
  log: `CANARY_L_${token}`,
};

/** Runs a shell command as `nobody`, with no groups, from `/`. */
function asOther(script: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${OTHER.uid}`, `--regid=${OTHER.gid}`, '--clear-groups', '--', 'sh', '-c', script, 'other', ...args],
    { encoding: 'utf8', cwd: '/', timeout: 60_000, maxBuffer: 64 << 20 },
  );
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Paths under `root` that any process's mount table names (mount points, overlay and FUSE options). */
function mountinfoPaths(root: string): string[] {
  const text = asOther('cat /proc/[0-9]*/mountinfo 2> /dev/null').stdout;
  const paths = new Set<string>();
  for (const m of text.matchAll(/\/[^\s,:=]+/g)) if (m[0].startsWith(root)) paths.add(m[0]);
  return [...paths];
}

interface Owner {
  env: DenEnv;
  label: string;
}

/** What `nobody` can read of an owner's den: every readable file, and every canary found. */
function whatOtherSees(o: Owner): { readable: string[]; canaries: string[] } {
  const roots = [o.env.dataDir, o.env.runtimeDir, ...mountinfoPaths(o.env.root)].filter((p) => p !== o.env.root);
  const readable = asOther('find "$@" -xdev -type f -readable 2> /dev/null; true', ...roots)
    .stdout.split('\n')
    .filter(Boolean);
  const found = asOther(
    'a=$1 b=$2 c=$3; shift 3; grep -r -a -l -e "$a" -e "$b" -e "$c" -- "$@" 2> /dev/null; true',
    CANARY.env,
    CANARY.envFile,
    CANARY.log,
    ...roots,
  ).stdout;
  return { readable, canaries: found.split('\n').filter(Boolean) };
}

/** Direct reads of what an owner keeps, by known path (mountinfo and ids tell them to anyone). */
function directReads(o: Owner, id: string): string[] {
  const data = o.env.dataDir;
  const layers = readdirSync(join(data, 'layers')).filter((n) => !n.startsWith('.'));
  const targets = [
    join(data, 'den.db'),
    join(data, 'den.db-wal'),
    join(data, 'events.log'),
    join(data, 'containers', id, 'config.json'),
    join(data, 'containers', id, 'ctr.log'),
    join(data, 'containers', id, 'hosts'),
    ...layers.map((l) => join(data, 'layers', l, 'bin', 'busybox')),
  ].filter((p) => existsSync(p));
  assert.ok(targets.length >= 6, `${o.label}: expected the store's files: ${targets.join(' ')}`);
  const r = asOther('for f; do head -c 1 "$f" > /dev/null 2>&1 && echo "$f"; done; true', ...targets);
  return r.stdout.split('\n').filter(Boolean);
}

function assertNothingLeaks(o: Owner, ids: string[], when: string): void {
  const seen = whatOtherSees(o);
  assert.deepEqual(seen.canaries, [], `${o.label} ${when}: nobody found a canary`);
  assert.deepEqual(seen.readable, [], `${o.label} ${when}: nobody can read files of den's`);
  for (const id of ids) assert.deepEqual(directReads(o, id), [], `${o.label} ${when}: nobody read by path`);
}

describe('other local users read nothing of den: database, bundles, logs, layers (root and rootless)', () => {
  const owners: Owner[] = [];
  const ids = new Map<Owner, string[]>();

  before(() => {
    for (const [user, label] of [
      ['root', 'root'],
      [undefined, 'rootless'],
    ] as const) {
      const env = new DenEnv(user);
      const o = { env, label };
      owners.push(o);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
      const envFile = join(env.root, 'secrets.env');
      writeFileSync(envFile, `FROM_FILE=${CANARY.envFile}\n`, { mode: 0o600 });
      chownSync(envFile, env.user.uid, env.user.gid);
      const made: string[] = [];
      // The default mode (root: auto; rootless: the session's) and an isolated range (auto), whose
      // root is a stranger to the store's owner and passes into its container's directory.
      for (const [name, userns] of [
        ['plain', []],
        ['isolated', ['--userns=auto']],
      ] as const) {
        const r = env.den([
          'run',
          '-d',
          '--name',
          name,
          ...userns,
          '-e',
          `SECRET=${CANARY.env}`,
          '-e',
          `LOGGED=${CANARY.log}`,
          '--env-file',
          envFile,
          'busybox',
          'sh',
          '-c',
          'echo "$LOGGED"; exec sleep 300',
        ]);
        assert.equal(r.status, 0, `${label} ${name}: ${r.stderr}`);
        made.push(r.stdout.trim());
      }
      ids.set(o, made);
      for (const name of ['plain', 'isolated']) {
        let logs = '';
        for (let i = 0; i < 50 && !logs.includes(CANARY.log); i++) {
          logs = env.den(['logs', name]).stdout;
          if (!logs.includes(CANARY.log)) spawnSync('sleep', ['0.1']);
        }
        assert.match(logs, new RegExp(CANARY.log), `${label} ${name}: the log holds the canary`);
      }
      rmSync(envFile);
    }
  });

  after(() => {
    for (const o of owners) {
      o.env.den(['rm', '-f', 'plain', 'isolated']);
      o.env.cleanup();
    }
  });

  test('the owner sees the environment (inspect, exec), as docker shows it', () => {
    for (const o of owners) {
      const env = o.env.den(['inspect', '--format', '{{json .Config.Env}}', 'isolated']);
      assert.equal(env.status, 0, env.stderr);
      assert.ok(env.stdout.includes(CANARY.env) && env.stdout.includes(CANARY.envFile), `${o.label}: ${env.stdout}`);
      const inside = o.env.den(['exec', 'isolated', 'sh', '-c', 'echo "$SECRET $FROM_FILE"']);
      assert.equal(inside.stdout.trim(), `${CANARY.env} ${CANARY.envFile}`, `${o.label}: ${inside.stderr}`);
    }
  });

  test('nobody finds no canary, no database, no layer file; the modes are the model', () => {
    for (const o of owners) {
      assertNothingLeaks(o, ids.get(o)!, 'as made');
      const mode = (p: string) => statSync(p).mode & 0o777;
      const data = o.env.dataDir;
      assert.equal(mode(join(data, 'den.db')), 0o600, `${o.label}: den.db`);
      assert.equal(mode(join(data, 'content')), 0o700, `${o.label}: content/`);
      assert.equal(mode(join(data, 'layers')), 0o700, `${o.label}: layers/`);
      assert.equal(mode(data), 0o711, `${o.label}: the data directory lets a stranger root pass, no more`);
      const [plain, isolated] = ids.get(o)!;
      assert.equal(mode(join(data, 'containers', plain!, 'config.json')), 0o600);
      assert.equal(mode(join(data, 'containers', plain!, 'ctr.log')), 0o600);
      const iso = statSync(join(data, 'containers', isolated!));
      assert.equal(iso.mode & 0o777, 0o710, `${o.label}: the isolated root's own directory: its group passes`);
      assert.notEqual(iso.gid, o.env.user.gid, `${o.label}: the group is the isolated root's`);
      const check = o.env.den(['system', 'check', '--store']);
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /modes +no path wider than the model/);
    }
  });

  test('a store with the modes of older dens is narrowed by the next den; check --store reports and fixes', () => {
    for (const o of owners) {
      const data = o.env.dataDir;
      const [plain, isolated] = ids.get(o)!;
      const widen = () => {
        for (const d of [data, join(data, 'content'), join(data, 'layers'), join(data, 'containers')]) {
          chmodSync(d, 0o755);
        }
        for (const id of [plain!, isolated!]) chmodSync(join(data, 'containers', id), 0o755);
        for (const f of ['den.db', join('containers', plain!, 'config.json'), join('containers', plain!, 'ctr.log')]) {
          chmodSync(join(data, f), 0o644);
        }
      };
      // A store as an older den left it: wide modes and no marker.
      widen();
      rmSync(join(data, 'store-modes'), { force: true });
      assert.ok(asOther('head -c 1 "$1" > /dev/null', join(data, 'den.db')).status === 0, 'the widened store leaks');
      const first = o.env.den(['system', 'check', '--store']);
      assert.equal(first.status, 0, `${o.label}: ${first.stdout}${first.stderr}`);
      assertNothingLeaks(o, [plain!, isolated!], 'narrowed on first use');
      // The containers still work: the running one answers, the isolated one starts again.
      assert.equal(o.env.den(['exec', 'plain', 'true']).status, 0);
      const restart = o.env.den(['restart', '-t', '1', 'isolated']);
      assert.equal(restart.status, 0, `${o.label}: ${restart.stderr}`);
      assert.equal(o.env.den(['exec', 'isolated', 'true']).status, 0);

      // Widened again behind the marker's back: reported with the commands that fix it.
      widen();
      const report = o.env.den(['system', 'check', '--store']);
      assert.notEqual(report.status, 0, `${o.label}: check --store passed a wide store`);
      assert.match(report.stdout, /den\.db is 0644, at most 0600/);
      const fix = /chmod [0-7]{4} .*/.exec(report.stdout.split('\n').find((l) => l.includes('chmod ')) ?? '');
      assert.ok(fix, `${o.label}: no fix command in ${report.stdout}`);
      const applied = o.env.exec(['sh', '-c', fix[0]]);
      assert.equal(applied.status, 0, applied.stderr);
      const again = o.env.den(['system', 'check', '--store']);
      assert.equal(again.status, 0, `${o.label}: ${again.stdout}`);
      assertNothingLeaks(o, [plain!, isolated!], 'after the fix');
    }
  });

  test('an -e entry with an empty name is refused without repeating its value', () => {
    const r = owners[0]!.env.den(['create', '-e', `=${CANARY.env}`, 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /empty name/);
    assert.ok(!r.stderr.includes(CANARY.env), r.stderr);
  });
});
