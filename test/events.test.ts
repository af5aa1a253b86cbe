import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER } from './harness.js';

interface JsonEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

/** `den events` over real detached containers: the journal every den appends to, read and followed. */
for (const user of [TEST_USER, 'root']) {
  describe(`den events as ${user}`, () => {
    let env: DenEnv;
    let start: string;
    before(() => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
      start = String(Date.now() / 1000);
    });
    after(() => env.cleanup());

    test('run -d, stop and rm leave create, start, kill, die, stop and destroy, in order', () => {
      const id = env.den(['run', '-d', '--name', 'ev1', '--label', 'app=x', 'busybox', 'sleep', '300']).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(env.den(['stop', '-t', '1', 'ev1']).status, 0);
      assert.equal(env.den(['rm', 'ev1']).status, 0);
      const r = env.den(['events', '--since', start, '--until', '0s', '--filter', `container=ev1`]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(
        lines.map((l) => l.split(' ').slice(1, 3).join(' ')),
        [
          'container create',
          'container start',
          'container kill',
          // busybox's sleep, as init, ignores SIGTERM: SIGKILL after the timeout.
          'container kill',
          'container die',
          'container stop',
          'container destroy',
        ],
        r.stdout,
      );
      assert.match(
        lines[0]!,
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container create ${id} \\(app=x, image=busybox:latest, name=ev1\\)$`,
        ),
      );
      assert.match(lines[2]!, /signal=15/);
      assert.match(lines[3]!, /signal=9/);
      assert.match(lines[4]!, /\(app=x, exitCode=137, image=busybox:latest, name=ev1\)$/);
    });

    test("--format '{{json .}}' is docker's shape; filters on type, event, image, label", () => {
      const r = env.den([
        'events',
        '--since',
        start,
        '--until',
        '0s',
        '--filter',
        'event=die',
        '--format',
        '{{json .}}',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const e = JSON.parse(r.stdout.trim().split('\n')[0]!) as JsonEvent;
      assert.deepEqual(Object.keys(e), ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
      assert.equal(e.Type, 'container');
      assert.equal(e.Action, 'die');
      assert.equal(e.Actor.Attributes.exitCode, '137');
      assert.equal(e.scope, 'local');
      assert.equal(e.time, Math.floor(e.timeNano / 1e9));
      const count = (filters: string[]) =>
        env
          .den(['events', '--since', start, '--until', '0s', ...filters.flatMap((f) => ['--filter', f])])
          .stdout.split('\n')
          .filter(Boolean).length;
      assert.equal(count(['type=container', 'event=start', 'event=destroy']), 2);
      assert.equal(count(['image=busybox', 'event=create']), 1);
      assert.equal(count(['label=app=x']), 7);
      assert.equal(count(['label=app=y']), 0);
      assert.equal(count(['type=image']), 0);
      const tmpl = env.den([
        'events',
        '--since',
        start,
        '--until',
        '0s',
        '-f',
        'event=create',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}}',
      ]);
      assert.equal(tmpl.stdout, 'create ev1\n');
      const bad = env.den(['events', '--filter', 'colour=red']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /invalid filter 'colour'/);
    });

    test('without --until it follows: events of dens started after it appear as they happen', async () => {
      const follower = env.spawnDen(['events', '--filter', 'type=container']);
      let out = '';
      follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const ended = new Promise<number | null>((resolve) => follower.on('close', resolve));
      await sleep(1500); // it has opened the journal
      assert.equal(env.den(['run', '-d', '--name', 'ev2', 'busybox', 'sleep', '300']).status, 0);
      assert.equal(env.den(['rename', 'ev2', 'ev3']).status, 0);
      assert.equal(env.den(['rm', '-f', 'ev3']).status, 0);
      for (let i = 0; i < 50 && !out.includes(' destroy '); i++) await sleep(100);
      follower.kill('SIGINT');
      assert.equal(await ended, 0);
      assert.deepEqual(
        out
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[2]),
        ['create', 'start', 'rename', 'kill', 'die', 'destroy'],
        out,
      );
      assert.match(out, / rename [0-9a-f]{64} \(image=busybox:latest, name=ev3, oldName=\/ev2\)\n/);
    });

    test('image events: tag, untag', () => {
      assert.equal(env.den(['tag', 'busybox', 'copy:1']).status, 0);
      assert.equal(env.den(['rmi', 'copy:1']).status, 0);
      const r = env.den(['events', '--since', start, '--until', '0s', '--filter', 'type=image']);
      assert.match(
        r.stdout,
        /^\S+ image tag sha256:[0-9a-f]{64} \(name=copy:1\)\n\S+ image untag sha256:[0-9a-f]{64} \(name=copy:1\)\n$/,
      );
    });
  });
}
