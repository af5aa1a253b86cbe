import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/**
 * Health checks of detached containers, as the unprivileged test user and as root: the status
 * a check's probes give (starting, healthy, unhealthy; the start period; the timeout), what
 * `ps`, `ps --filter health=` and `inspect` show of it, `den healthcheck run`, and the scheduler
 * (a `sh` loop per container, monitor/health-loop.ts) started with the container and ended, by
 * pid, whichever way the container's run ends: stop, rm -f, and reconcile after its monitor
 * (conmon) was killed. Probes that must be counted one by one are run by hand (`healthcheck run`,
 * with an interval of an hour so that the scheduler adds none); the scheduler's own are polled.
 */
for (const user of ['dentest', 'root'] as const)
  describe(`health checks (${user === 'root' ? 'root' : 'rootless'})`, () => {
    let env: DenEnv;
    /** A directory bind-mounted at /hc: a check tests for /hc/ok, which the test makes and removes. */
    let flag: string;
    before(() => {
      env = new DenEnv(user);
      let r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
      // An image with a HEALTHCHECK (a failing one, so that a check that ran would show).
      r = env.den([
        'import',
        '--change',
        'HEALTHCHECK --interval=1s --retries=1 CMD ["/bin/false"]',
        '--change',
        'CMD ["sleep", "600"]',
        busyboxTarball(),
        'checked',
      ]);
      assert.equal(r.status, 0, r.stderr);
      flag = join(env.root, 'flag');
      mkdirSync(flag, { mode: 0o755 });
      chmodSync(flag, 0o755);
    });
    after(() => env.cleanup());

    const den = (...args: string[]) => env.den(args);
    const ok = (...args: string[]) => {
      const r = env.den(args);
      assert.equal(r.status, 0, `den ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    /** The container as `den inspect` shows it (State.Health and Config.Healthcheck are left out when unset, as docker's are). */
    const inspect = (name: string) =>
      (JSON.parse(ok('inspect', name)) as Record<string, Record<string, unknown>>[])[0]!;
    const health = (name: string) =>
      (inspect(name).State!.Health ?? null) as {
        Status: string;
        FailingStreak: number;
        Log: { Start: string; End: string; ExitCode: number; Output: string }[];
      } | null;
    const psStatus = (name: string) =>
      ok('ps', '-a', '--format', '{{.Names}}\t{{.Status}}')
        .split('\n')
        .find((l) => l.startsWith(`${name}\t`))
        ?.split('\t')[1] ?? '';
    const filtered = (value: string) =>
      ok('ps', '-a', '--filter', `health=${value}`, '--format', '{{.Names}}').split('\n');
    const id = (name: string) => ok('inspect', '--format', '{{.Id}}', name);
    /** The scheduler's pid, from the file den keeps it in (<runtimeDir>/health/<id>). */
    const loopOf = (name: string): number | undefined => {
      const file = join(env.runtimeDir, 'health', id(name));
      return existsSync(file) ? Number(readFileSync(file, 'utf8').split(' ')[0]) : undefined;
    };
    const until = async (what: string, check: () => boolean, ms = 20_000) => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };

    test('a passing check goes starting -> healthy; ps, ps --filter and inspect show it', async () => {
      ok(
        'run',
        '-d',
        '--name',
        'passing',
        '--health-cmd',
        'echo fine',
        '--health-interval',
        '1s',
        'busybox',
        'sleep',
        '600',
      );
      assert.match(psStatus('passing'), /^Up .* \(health: starting\)$/);
      assert.ok(filtered('starting').includes('passing'));
      await until('healthy', () => health('passing')?.Status === 'healthy');
      assert.match(psStatus('passing'), /^Up .* \(healthy\)$/);
      assert.ok(filtered('healthy').includes('passing'));
      assert.ok(!filtered('starting').includes('passing'));
      const h = health('passing')!;
      assert.equal(h.FailingStreak, 0);
      assert.deepEqual(
        h.Log.map((p) => [p.ExitCode, p.Output]),
        h.Log.map(() => [0, 'fine\n']),
      );
      assert.ok(Date.parse(h.Log[0]!.End) >= Date.parse(h.Log[0]!.Start));
      assert.deepEqual(inspect('passing').Config!.Healthcheck, { Test: ['CMD-SHELL', 'echo fine'], Interval: 1e9 });
      if (user !== 'root') {
        // The scheduler keeps probing: the log grows to docker's five and no further (once is enough).
        await until('five probes', () => health('passing')!.Log.length === 5, 30_000);
        await sleep(2500);
        assert.equal(health('passing')!.Log.length, 5);
      }
      ok('rm', '-f', 'passing');
    });

    test('a failing check with --health-retries 2 is unhealthy after the second failure', async () => {
      ok(
        'run',
        '-d',
        '--name',
        'failing',
        '--health-cmd',
        'echo sick; exit 3',
        '--health-interval',
        '1h',
        '--health-retries',
        '2',
        'busybox',
        'sleep',
        '600',
      );
      let r = den('healthcheck', 'run', 'failing');
      assert.deepEqual([r.status, r.stdout], [1, 'starting\n'], r.stderr);
      assert.deepEqual([health('failing')!.Status, health('failing')!.FailingStreak], ['starting', 1]);
      r = den('healthcheck', 'run', 'failing');
      assert.deepEqual([r.status, r.stdout], [1, 'unhealthy\n'], r.stderr);
      const h = health('failing')!;
      assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
      assert.deepEqual(
        h.Log.map((p) => [p.ExitCode, p.Output]),
        [
          [3, 'sick\n'],
          [3, 'sick\n'],
        ],
      );
      assert.match(psStatus('failing'), /^Up .* \(unhealthy\)$/);
      assert.deepEqual(filtered('unhealthy'), ['failing']);
      ok('rm', '-f', 'failing');
    });

    test('the scheduler alone takes a failing container with --health-retries 2 to unhealthy at the second failure', async () => {
      ok(
        'run',
        '-d',
        '--name',
        'sched',
        '--health-cmd',
        'exit 1',
        '--health-interval',
        '1s',
        '--health-retries',
        '2',
        'busybox',
        'sleep',
        '600',
      );
      const seen = new Set<string>();
      await until('unhealthy', () => {
        const h = health('sched');
        if (h) seen.add(`${h.Status}/${h.FailingStreak}`);
        return h?.Status === 'unhealthy';
      });
      assert.ok(!seen.has('unhealthy/1'), `never unhealthy after one failure: ${[...seen].join(' ')}`);
      assert.ok(health('sched')!.FailingStreak >= 2);
      ok('rm', '-f', 'sched');
    });

    test('failures within the start period do not count; a success in it makes the container healthy', () => {
      rmSync(join(flag, 'ok'), { force: true });
      ok(
        'run',
        '-d',
        '--name',
        'slow',
        '-v',
        `${flag}:/hc`,
        '--health-cmd',
        'test -f /hc/ok',
        '--health-start-period',
        '1h',
        '--health-retries',
        '1',
        '--health-interval',
        '1h',
        'busybox',
        'sleep',
        '600',
      );
      for (let i = 0; i < 3; i++) {
        const r = den('healthcheck', 'run', 'slow');
        assert.deepEqual([r.status, r.stdout], [1, 'starting\n'], r.stderr);
      }
      let h = health('slow')!;
      assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 3]);
      writeFileSync(join(flag, 'ok'), '');
      chmodSync(join(flag, 'ok'), 0o644);
      let r = den('healthcheck', 'run', 'slow');
      assert.deepEqual([r.status, r.stdout], [0, ''], r.stderr);
      assert.equal(health('slow')!.Status, 'healthy');
      // Once healthy, a failure counts, start period or not.
      rmSync(join(flag, 'ok'));
      r = den('healthcheck', 'run', 'slow');
      assert.deepEqual([r.status, r.stdout], [1, 'unhealthy\n'], r.stderr);
      h = health('slow')!;
      assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1]);
      ok('rm', '-f', 'slow');
    });

    test('the timeout kills a hanging probe: exit -1, docker words, nothing left running', () => {
      ok(
        'run',
        '-d',
        '--name',
        'hanging',
        '--health-cmd',
        'echo begun; sleep 4321; echo never',
        '--health-timeout',
        '1s',
        '--health-interval',
        '1h',
        'busybox',
        'sleep',
        '600',
      );
      const began = Date.now();
      const r = den('healthcheck', 'run', 'hanging');
      assert.equal(r.status, 1, r.stderr);
      assert.ok(Date.now() - began < 15_000, 'the probe was bounded');
      const [probe] = health('hanging')!.Log;
      assert.deepEqual([probe!.ExitCode, probe!.Output], [-1, 'Health check exceeded timeout (1s): begun\n']);
      assert.deepEqual(processesNamed(['sleep', '4321']), [], 'the probe and its children were killed');
      ok('rm', '-f', 'hanging');
    });

    test("--no-healthcheck disables the image's HEALTHCHECK; the image's runs otherwise", async () => {
      assert.deepEqual(
        JSON.parse(ok('inspect', '--type', 'image', '--format', '{{json .Config.Healthcheck}}', 'checked')),
        { Test: ['CMD', '/bin/false'], Interval: 1e9, Retries: 1 },
      );
      ok('run', '-d', '--name', 'unchecked', '--no-healthcheck', 'checked');
      ok('run', '-d', '--name', 'imagecheck', 'checked');
      assert.deepEqual(inspect('unchecked').Config!.Healthcheck, { Test: ['NONE'] });
      assert.equal(health('unchecked'), null);
      assert.equal(loopOf('unchecked'), undefined, 'no scheduler');
      const r = den('healthcheck', 'run', 'unchecked');
      assert.equal(r.status, 125);
      assert.match(r.stderr, /container unchecked has no health check/);
      await until('the image check to fail', () => health('imagecheck')?.Status === 'unhealthy');
      assert.match(psStatus('unchecked'), /^Up [^(]*$/);
      assert.ok(filtered('none').includes('unchecked'));
      assert.ok(!filtered('none').includes('imagecheck'));
      ok('rm', '-f', 'unchecked', 'imagecheck');
    });

    test('the scheduler ends by pid with den stop and rm -f, and starts anew with the container', async () => {
      // An hour's interval: the scheduler adds no probe of its own while the test looks.
      ok('run', '-d', '--name', 'looped', '--health-cmd', 'true', '--health-interval', '1h', 'busybox', 'sleep', '600');
      const first = loopOf('looped')!;
      assert.ok(alive(first), 'a scheduler runs');
      assert.deepEqual(group(first).length, 2, 'its sh and its sleep');
      assert.equal(den('healthcheck', 'run', 'looped').status, 0);
      assert.equal(health('looped')!.Status, 'healthy');
      ok('stop', '-t', '0', 'looped');
      assert.ok(!alive(first) && group(first).length === 0, 'den stop ended the scheduler and its sleep');
      assert.equal(loopOf('looped'), undefined);
      assert.equal(health('looped')!.Status, 'healthy', 'a stopped container keeps its last health');
      ok('start', 'looped');
      const second = loopOf('looped')!;
      assert.ok(alive(second) && second !== first, 'a start starts a new one');
      const restarted = health('looped')!;
      assert.equal(restarted.Status, 'starting');
      assert.ok(restarted.Log.length >= 1, 'the earlier probes are kept');
      ok('restart', '-t', '0', 'looped');
      const third = loopOf('looped')!;
      assert.ok(!alive(second) && alive(third) && third !== second, 'restart replaces it');
      ok('rm', '-f', 'looped');
      assert.ok(!alive(third) && group(third).length === 0, 'rm -f ended it');
      assert.ok(!readdirSync(join(env.runtimeDir, 'health')).some((f) => !f.endsWith('.tmp') && f.length === 64));
    });

    test('a restart by the restart policy starts a new scheduler; the old one is gone', async () => {
      ok(
        'run',
        '-d',
        '--name',
        'bouncing',
        '--restart',
        'always',
        '--health-cmd',
        'true',
        '--health-interval',
        '1h',
        'busybox',
        'sh',
        '-c',
        'sleep 2; exit 1',
      );
      const first = loopOf('bouncing')!;
      assert.ok(alive(first));
      await until('a restart', () => {
        const now = loopOf('bouncing');
        return now !== undefined && now !== first && alive(now);
      });
      assert.ok(!alive(first) && group(first).length === 0, 'the first run ended its scheduler');
      const last = loopOf('bouncing')!;
      ok('rm', '-f', 'bouncing');
      await until('the last scheduler to end', () => !alive(last) && group(last).length === 0);
    });

    test('an attached run is probed too, and its scheduler ends with it', async () => {
      const child = env.spawnDen([
        'run',
        '--name',
        'fg',
        '--health-cmd',
        'true',
        '--health-interval',
        '1s',
        'busybox',
        'sleep',
        '6',
      ]);
      child.stdin.end();
      const exited = new Promise((resolve) => child.on('close', resolve));
      await until('healthy', () => {
        const r = den('inspect', 'fg');
        return (
          r.status === 0 &&
          (JSON.parse(r.stdout) as { State: { Health?: { Status: string } } }[])[0]!.State.Health?.Status === 'healthy'
        );
      });
      const loop = loopOf('fg')!;
      assert.ok(alive(loop));
      assert.match(psStatus('fg'), /^Up .* \(healthy\)$/);
      await exited;
      assert.ok(!alive(loop) && group(loop).length === 0, 'no scheduler left');
      ok('rm', 'fg');
    });

    test("after SIGKILL of conmon, den ps -a (reconcile) leaves no scheduler; nor does the scheduler's own probe", async () => {
      for (const [name, interval] of [
        ['orphan', '1h'],
        ['orphan2', '1s'],
      ] as const) {
        ok(
          'run',
          '-d',
          '--name',
          name,
          '--health-cmd',
          'true',
          '--health-interval',
          interval,
          'busybox',
          'sleep',
          '600',
        );
        const loop = loopOf(name)!;
        const conmon = Number(readFileSync(join(env.dataDir, 'containers', id(name), 'conmon.pid'), 'utf8'));
        process.kill(conmon, 'SIGKILL');
        if (interval === '1h') {
          // den ps -a finds the monitor dead and reconciles: the record, the container and the loop.
          await until('conmon gone', () => !alive(conmon));
          assert.match(psStatus(name), /^Exited \(255\)/);
        } else {
          // The loop's next probe reconciles by itself.
          await until('the loop to end', () => !alive(loop));
          assert.match(psStatus(name), /^Exited \(255\)/);
        }
        assert.ok(!alive(loop) && group(loop).length === 0, `${name}: no scheduler left`);
        assert.equal(loopOf(name), undefined);
        ok('rm', name);
      }
    });

    test('den healthcheck run: clear errors for a stopped or unknown container; ps --filter refuses bad values', () => {
      ok('create', '--name', 'idle', '--health-cmd', 'true', 'busybox', 'sleep', '600');
      let r = den('healthcheck', 'run', 'idle');
      assert.equal(r.status, 125);
      assert.match(r.stderr, /container idle is not running/);
      assert.equal(health('idle'), null);
      assert.ok(filtered('none').includes('idle'), 'never started: none, as docker');
      r = den('healthcheck', 'run', 'nosuch');
      assert.equal(r.status, 125);
      assert.match(r.stderr, /no such container: nosuch/);
      r = den('healthcheck', 'run');
      assert.equal(r.status, 1, 'a wrong number of arguments: 1, as docker');
      r = den('ps', '--filter', 'health=sick');
      assert.equal(r.status, 1, "ps fails with 1, as docker's");
      assert.match(r.stderr, /invalid filter "health=sick"/);
      ok('rm', 'idle');
    });
  });

/** Live (not zombie) processes whose command line is `argv`. */
function processesNamed(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((p) => /^[0-9]+$/.test(p))
    .map(Number)
    .filter((p) => alive(p) && read(`/proc/${p}/cmdline`) === want);
}

function alive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
}

/** Live processes in process group `pgid`. */
function group(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^[0-9]+$/.test(p))
    .map(Number)
    .filter((p) => {
      const stat = read(`/proc/${p}/stat`);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return stat !== '' && !/^[ZX]/.test(fields[0]!) && Number(fields[2]) === pgid;
    });
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
