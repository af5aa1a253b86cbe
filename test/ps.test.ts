import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER } from './harness.js';

/**
 * `den ps` with docker's filters, limits, sizes and format fields, over real containers in each
 * status: as the unprivileged test user and as root.
 */
for (const user of [TEST_USER, 'root']) {
  describe(`den ps as ${user}`, () => {
    let env: DenEnv;
    const ids: Record<string, string> = {};
    const names = (args: string[]) => {
      const r = env.den(['ps', ...args, '--format', '{{.Names}}']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };

    before(() => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
      assert.equal(env.den(['tag', 'busybox', 'other:v2']).status, 0);
      const make = (name: string, args: string[]) => {
        const r = env.den(args);
        assert.equal(r.stderr.replace(/^warning: .*\n/gm, ''), '', `${name}: ${r.stderr}`);
        ids[name] = env.den(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
      };
      // Oldest first: created < ex3 < ex0 < web < db.
      make('created', ['create', '--name', 'created', 'busybox', 'true']);
      make('ex3', ['run', '--name', 'ex3', 'busybox', 'sh', '-c', 'exit 3']);
      make('ex0', ['run', '--name', 'ex0', '--label', 'tier=batch', 'busybox', 'true']);
      make('web', [
        'run',
        '-d',
        '--name',
        'web',
        '--label',
        'tier=front',
        '--label',
        'team',
        'busybox',
        'sh',
        '-c',
        'head -c 12345 /dev/zero > /blob; sleep 300',
      ]);
      make('db', ['run', '-d', '--name', 'db', '--label', 'tier=back', 'other:v2', 'sleep', '300']);
    });
    after(() => {
      env.den(['rm', '-f', 'web', 'db']);
      env.cleanup();
    });

    test('without -a only running containers, newest first; -a all of them', () => {
      assert.deepEqual(names([]), ['db', 'web']);
      assert.deepEqual(names(['-a']), ['db', 'web', 'ex0', 'ex3', 'created']);
    });

    test('status: each value is one state; several are OR; it shows stopped ones without -a', () => {
      assert.deepEqual(names(['--filter', 'status=exited']), ['ex0', 'ex3']);
      assert.deepEqual(names(['-f', 'status=created', '-f', 'status=running']), ['db', 'web', 'created']);
      assert.deepEqual(names(['-f', 'status=paused']), []);
      const bad = env.den(['ps', '-f', 'status=sleeping']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /invalid filter 'status=sleeping'/);
    });

    test('name: a substring or a regular expression, with or without the leading slash', () => {
      assert.deepEqual(names(['-a', '-f', 'name=ex']), ['ex0', 'ex3']);
      assert.deepEqual(names(['-a', '-f', 'name=^/ex3$']), ['ex3']);
      assert.deepEqual(names(['-a', '-f', 'name=^w.b$']), ['web']);
      assert.deepEqual(names(['-a', '-f', 'name=ex0', '-f', 'name=db']), ['db', 'ex0']);
    });

    test('label: KEY and KEY=VALUE; several must all hold (docker)', () => {
      assert.deepEqual(names(['-a', '-f', 'label=tier']), ['db', 'web', 'ex0']);
      assert.deepEqual(names(['-a', '-f', 'label=tier=front']), ['web']);
      assert.deepEqual(names(['-a', '-f', 'label=tier', '-f', 'label=team']), ['web']);
      assert.deepEqual(names(['-a', '-f', 'label=tier=nope']), []);
    });

    test('ancestor: by name with or without tag, by id; other keys AND', () => {
      assert.deepEqual(names(['-a', '-f', 'ancestor=busybox']), ['db', 'web', 'ex0', 'ex3', 'created']);
      assert.deepEqual(names(['-a', '-f', 'ancestor=busybox:latest', '-f', 'status=running']), ['db', 'web']);
      const id = env.den(['images', '-q', '--no-trunc', 'busybox']).stdout.trim();
      assert.match(id, /^sha256:/);
      assert.deepEqual(names(['-a', '-f', `ancestor=${id}`, '-f', 'name=ex']), ['ex0', 'ex3']);
      assert.deepEqual(names(['-a', '-f', 'ancestor=nosuch']), []);
    });

    test('exited: containers that ended with that code (never the ones only created)', () => {
      assert.deepEqual(names(['-a', '-f', 'exited=3']), ['ex3']);
      assert.deepEqual(names(['-a', '-f', 'exited=0']), ['ex0']);
      assert.deepEqual(names(['-a', '-f', 'exited=0', '-f', 'exited=3']), ['ex0', 'ex3']);
      assert.equal(env.den(['ps', '-f', 'exited=x']).status, 1);
    });

    test('id: a prefix of the id', () => {
      assert.deepEqual(names(['-a', '-f', `id=${ids.ex3!.slice(0, 8)}`]), ['ex3']);
      assert.deepEqual(names(['-a', '-f', `id=${ids.web}`]), ['web']);
    });

    test('before and since: by name or id', () => {
      assert.deepEqual(names(['-a', '-f', 'before=ex0']), ['ex3', 'created']);
      assert.deepEqual(names(['-a', '-f', `since=${ids.ex0!.slice(0, 12)}`]), ['db', 'web']);
      assert.deepEqual(names(['-a', '-f', 'since=created', '-f', 'before=web']), ['ex0', 'ex3']);
      assert.equal(env.den(['ps', '-f', 'before=nosuch']).status, 1);
    });

    test('--last N and --latest: the newest, whatever their status', () => {
      assert.deepEqual(names(['-n', '3']), ['db', 'web', 'ex0']);
      assert.deepEqual(names(['--last', '1', '-f', 'status=exited']), ['ex0']);
      assert.deepEqual(names(['-l']), ['db']);
      assert.deepEqual(names(['-n', '-1']), ['db', 'web']);
    });

    test("--size: the writable layer's bytes and the image's", () => {
      const r = env.den(['ps', '-s']);
      assert.equal(r.status, 0, r.stderr);
      const [header, ...rows] = r.stdout.trim().split('\n');
      assert.match(header!, /NAMES +SIZE$/);
      const web = rows.find((l) => l.includes(' web '))!;
      assert.match(web, /12\.3kB \(virtual 1\.9[0-9]MB\)$/, web);
      assert.match(
        rows.find((l) => l.includes(' db '))!,
        / 0B \(virtual 1\.9[0-9]MB\)$/,
      );
      // A format that shows .Size measures it, -s or not.
      assert.match(env.den(['ps', '-f', 'name=web', '--format', '{{.Size}}']).stdout, /^12\.3kB \(virtual/);
    });

    test('--format: every field docker has; --no-trunc; -q', () => {
      const format =
        '{{.ID}}|{{.Image}}|{{.Command}}|{{.CreatedAt}}|{{.RunningFor}}|{{.Ports}}|{{.State}}|{{.Status}}|' +
        '{{.Names}}|{{.Labels}}|{{.Label "tier"}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}';
      const r = env.den(['ps', '-f', 'name=web', '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      const f = r.stdout.trim().split('|');
      assert.equal(f[0], ids.web!.slice(0, 12));
      assert.equal(f[1], 'busybox:latest');
      assert.equal(f[2], '"sh -c \'head -c 1234…"');
      assert.match(f[3]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
      assert.match(f[4]!, / ago$/);
      assert.deepEqual(f.slice(5), ['', 'running', f[7], 'web', 'team=,tier=front', 'front', '', f[12], '0']);
      assert.match(f[7]!, /^Up /);
      const long = env.den(['ps', '--no-trunc', '-f', 'name=web', '--format', '{{.ID}} {{.Command}}']).stdout;
      assert.equal(long, `${ids.web} "sh -c 'head -c 12345 /dev/zero > /blob; sleep 300'"\n`);
      assert.equal(env.den(['ps', '-q', '--no-trunc', '-f', 'name=db']).stdout, `${ids.db}\n`);
      const json = JSON.parse(env.den(['ps', '-f', 'name=db', '--format', 'json']).stdout) as Record<string, string>;
      assert.deepEqual(Object.keys(json), [...Object.keys(json)].sort(), 'docker sorts the fields of {{json .}}');
      assert.equal(json.Labels, 'tier=back');
      assert.equal(json.Image, 'other:v2');
    });

    test('a filter key docker does not have is refused', () => {
      const r = env.den(['ps', '--filter', 'colour=red']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /invalid filter 'colour'/);
    });
  });
}
