import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER } from './harness.js';

/** A container that prints a counter ten times a second: its output stops advancing while it is frozen. */
const TICKER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'];

/** rename, container prune, pause/unpause and stats over real detached containers. */
for (const user of [TEST_USER, 'root']) {
  describe(`container verbs as ${user}`, () => {
    let env: DenEnv;
    before(() => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
    });
    after(() => {
      env.den(['rm', '-f', ...env.den(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
      env.cleanup();
    });

    const lastLine = (ref: string) => env.den(['logs', ref]).stdout.trim().split('\n').at(-1);

    test('rename: start and logs by the new name; the old one is gone; clashes refused', () => {
      assert.equal(env.den(['create', '--name', 'before', 'busybox', 'echo', 'renamed-ok']).status, 0);
      assert.equal(env.den(['create', '--name', 'other', 'busybox', 'true']).status, 0);
      const r = env.den(['rename', 'before', 'after']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(env.den(['start', 'after']).status, 0);
      assert.equal(env.den(['wait', 'after']).stdout, '0\n');
      assert.equal(env.den(['logs', 'after']).stdout, 'renamed-ok\n');
      assert.equal(env.den(['ps', '-a', '-f', 'name=after', '--format', '{{.Names}}']).stdout, 'after\n');
      const old = env.den(['logs', 'before']);
      assert.equal(old.status, 1);
      assert.match(old.stderr, /no such container: before/);
      const clash = env.den(['rename', 'after', 'other']);
      assert.equal(clash.status, 1);
      assert.match(clash.stderr, /container name "\/other" is already in use/);
      const same = env.den(['rename', 'after', 'after']);
      assert.equal(same.status, 1);
      assert.match(same.stderr, /same name as its current name/);
      assert.equal(env.den(['rename', 'after', 'bad name!']).status, 1);
      assert.equal(env.den(['rename', 'after']).status, 125, 'rename takes two arguments');
      env.den(['rm', 'after', 'other']);
    });

    test('container prune removes only stopped containers, its filters select among them', () => {
      const run = (args: string[]) => {
        const r = env.den(args);
        assert.equal(r.status, 0, r.stderr);
        return env.den(['inspect', '-f', '{{.Id}}', args[args.indexOf('--name') + 1]!]).stdout.trim();
      };
      const up = run(['run', '-d', '--name', 'p-up', 'busybox', 'sleep', '300']);
      const exited = run(['run', '--name', 'p-exited', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /f']);
      const created = run(['create', '--name', 'p-created', 'busybox', 'true']);
      const kept = run(['run', '--name', 'p-kept', '--label', 'keep=yes', 'busybox', 'true']);
      const refused = env.den(['container', 'prune']);
      assert.equal(refused.status, 1, 'no terminal to ask on, and no -f');
      assert.match(refused.stderr, /asks for confirmation, and stdin is not a terminal/);
      assert.equal(env.den(['ps', '-aq']).stdout.split('\n').filter(Boolean).length, 4);

      const r = env.den(['container', 'prune', '-f', '--filter', 'label!=keep']);
      assert.equal(r.status, 0, r.stderr);
      const [head, ...rest] = r.stdout.trimEnd().split('\n');
      assert.equal(head, 'Deleted Containers:');
      assert.deepEqual(rest.slice(0, -2).sort(), [exited, created].sort());
      assert.equal(rest.at(-2), '');
      assert.equal(rest.at(-1), 'Total reclaimed space: 5kB');
      assert.deepEqual(
        env.den(['ps', '-a', '--format', '{{.ID}}', '--no-trunc']).stdout.trim().split('\n').sort(),
        [up, kept].sort(),
      );

      const byLabel = env.den(['container', 'prune', '-f', '--filter', 'label=keep=yes']);
      assert.equal(byLabel.stdout, `Deleted Containers:\n${kept}\n\nTotal reclaimed space: 0B\n`);
      assert.equal(env.den(['container', 'prune', '-f', '--filter', 'until=1h']).stdout, 'Total reclaimed space: 0B\n');
      assert.equal(env.den(['ps', '-aq', '--no-trunc']).stdout, `${up}\n`, 'the running container stays');
      assert.equal(env.den(['container', 'prune', '-f', '--filter', 'colour=red']).status, 1);
      env.den(['rm', '-f', 'p-up']);
    });

    test('stats --no-stream: a row per running container, with its memory', () => {
      for (const name of ['s1', 's2'])
        assert.equal(env.den(['run', '-d', '--name', name, ...['busybox', ...TICKER]]).status, 0);
      assert.equal(env.den(['create', '--name', 's-created', 'busybox', 'true']).status, 0);
      const r = env.den(['stats', '--no-stream']);
      assert.equal(r.status, 0, r.stderr);
      const [header, ...rows] = r.stdout.trim().split('\n');
      assert.match(header!, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
      assert.deepEqual(rows.map((l) => l.split(/ +/)[1]).sort(), ['s1', 's2']);
      for (const row of rows) {
        const usage = / ([0-9.]+)(B|KiB|MiB|GiB) \/ [0-9.]+(KiB|MiB|GiB) /.exec(row);
        assert.ok(usage && Number(usage[1]) > 0, `memory is measured: ${row}`);
        assert.match(row, / [1-9][0-9]*$/, `pids counted: ${row}`);
      }
      if (env.rootless) assert.match(r.stderr, /no cgroup of its own .*come from \/proc/);
      else assert.equal(r.stderr, '', 'as root every container has a cgroup');
      const one = env.den([
        'stats',
        '--no-stream',
        '--format',
        '{{.Container}} {{.Name}} {{.PIDs}}',
        's1',
        's-created',
      ]);
      assert.equal(one.status, 0, one.stderr);
      assert.match(one.stdout, /^s1 s1 [1-9][0-9]*\ns-created s-created 0\n$/);
      env.den(['rm', '-f', 's1', 's2', 's-created']);
    });

    if (user === 'root') {
      test("pause freezes the container's processes, unpause thaws them; stop ends a paused one", async () => {
        assert.equal(env.den(['run', '-d', '--name', 'frozen', 'busybox', ...TICKER]).status, 0);
        await sleep(500);
        const p = env.den(['pause', 'frozen']);
        assert.equal(p.status, 0, p.stderr);
        assert.equal(p.stdout, 'frozen\n');
        assert.equal(
          env
            .den(['ps', '-f', 'status=paused', '--format', '{{.Names}} {{.Status}}'])
            .stdout.replace(/Up .* \(/, 'Up ('),
          'frozen Up (Paused)\n',
        );
        const at = lastLine('frozen');
        await sleep(800);
        assert.equal(lastLine('frozen'), at, 'the counter does not advance while paused');
        assert.equal(env.den(['pause', 'frozen']).status, 1, 'already paused');
        const u = env.den(['unpause', 'frozen']);
        assert.equal(u.status, 0, u.stderr);
        await sleep(800);
        assert.ok(Number(lastLine('frozen')) > Number(at), 'it counts again');
        assert.equal(env.den(['unpause', 'frozen']).status, 1, 'not paused');
        const events = env.den([
          'events',
          '--since',
          '1m',
          '--until',
          '0s',
          '-f',
          'container=frozen',
          '-f',
          'event=pause',
          '-f',
          'event=unpause',
        ]);
        assert.deepEqual(
          events.stdout
            .trim()
            .split('\n')
            .map((l) => l.split(' ')[2]),
          ['pause', 'unpause'],
        );

        assert.equal(env.den(['pause', 'frozen']).status, 0);
        const s = env.den(['stop', '-t', '1', 'frozen']);
        assert.equal(s.status, 0, s.stderr);
        assert.match(env.den(['ps', '-a', '-f', 'name=frozen', '--format', '{{.State}}']).stdout, /^exited\n$/);
        env.den(['rm', 'frozen']);
      });
    } else {
      // A cgroup v2 host may delegate a subtree to the user, where pausing works rootless too.
      const v1 = !/ \/sys\/fs\/cgroup [^ ]+ .* - cgroup2 /.test(readFileSync('/proc/self/mountinfo', 'utf8'));
      test(
        'pause is refused rootless without a delegated cgroup v2, saying what is missing',
        { skip: !v1 && 'this host has cgroup v2' },
        async () => {
          assert.equal(env.den(['run', '-d', '--name', 'unfrozen', 'busybox', ...TICKER]).status, 0);
          const p = env.den(['pause', 'unfrozen']);
          assert.equal(p.status, 1);
          assert.match(p.stderr, /cannot pause container unfrozen: it has no cgroup of its own: rootless.*delegated/);
          assert.match(p.stderr, /Hint: .*cgroup v2/);
          const at = lastLine('unfrozen');
          await sleep(500);
          assert.ok(Number(lastLine('unfrozen')) > Number(at), 'it still runs');
          assert.match(env.den(['ps', '--format', '{{.State}}', '-f', 'name=unfrozen']).stdout, /^running\n$/);
          assert.equal(env.den(['unpause', 'unfrozen']).status, 1, 'not paused');
          env.den(['rm', '-f', 'unfrozen']);
        },
      );
    }
  });
}
