import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { SeededRandom } from '../src/common/seeded-random.js';
import { busyboxTarball, DenEnv, type Result } from './harness.js';

/**
 * Detached containers, as the unprivileged user and as root: run -d, logs, stop, kill, restart,
 * wait, restart policies, rm -f, and what survives a monitor killed with SIGKILL or a reboot. Every
 * container is real (crun, conmon); nothing may be left behind (monitors, mounts, containers).
 */
for (const user of ['dentest', 'root'] as const)
  describe(`detached containers (${user === 'root' ? 'root' : 'rootless'})`, () => {
    let env: DenEnv;
    const ok = (r: Result) => {
      assert.equal(r.status, 0, `status ${r.status}: ${r.stderr}`);
      return r.stdout;
    };
    const inspect = (name: string, format: string) => ok(env.den(['inspect', '-f', format, name])).trim();
    /** Waits until `cond` holds (a detached container acts on its own time), at most `ms`. */
    const until = async (what: string, cond: () => boolean, ms = 15_000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
        await sleep(100);
      }
    };
    /** conmon processes of this environment. */
    const monitors = () =>
      spawnSync('pgrep', ['-f', `conmon .*${env.root}`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);

    before(() => {
      env = new DenEnv(user);
      ok(env.den(['import', busyboxTarball(), 'busybox']));
    });
    after(() => env.cleanup());

    test('run -d prints the id, ps shows it up, logs keep stdout and stderr apart, wait gives the status', async () => {
      const id = ok(
        env.den(['run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'echo out; echo err >&2; sleep 4; exit 3']),
      ).trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.match(ok(env.den(['ps'])), /svc\n?/);
      assert.match(ok(env.den(['ps', '--format', '{{.Names}} {{.Status}}'])), /^svc Up /m);
      assert.equal(ok(env.den(['wait', 'svc'])), '3\n');
      const logs = env.den(['logs', 'svc']);
      assert.equal(logs.stdout, 'out\n');
      assert.equal(logs.stderr, 'err\n');
      assert.equal(inspect('svc', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}'), 'exited 3 false');
      assert.match(ok(env.den(['ps', '-a', '--format', '{{.Status}}'])), /^Exited \(3\) /m);
      ok(env.den(['rm', 'svc']));
      assert.deepEqual(monitors(), [], 'no monitor is left');
      assert.deepEqual(env.mountsUnderRoot(), [], 'no mount is left');
    });

    test("inspect shows the container's init as State.Pid while it runs, and the restart policy", () => {
      ok(env.den(['run', '-d', '--name', 'pid', '--restart', 'on-failure:3', 'busybox', 'sleep', '100']));
      const pid = Number(inspect('pid', '{{.State.Pid}}'));
      assert.ok(pid > 0);
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\x00100\x00$/);
      assert.equal(
        inspect('pid', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}'),
        'on-failure:3',
      );
      assert.equal(inspect('pid', '{{.HostConfig.LogConfig.Type}}'), 'k8s-file');
      ok(env.den(['rm', '-f', 'pid']));
      assert.ok(
        !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'),
        'its init is gone',
      );
      assert.deepEqual(monitors(), []);
    });

    test('logs: --tail, -t, --since, a line without newline, a 1 MB line, and -f until the container exits', async () => {
      const script =
        'echo one; echo two; echo three; head -c 1048576 /dev/zero | tr "\\0" x; echo; printf "no newline"; sleep 2';
      ok(env.den(['run', '-d', '--name', 'logs', 'busybox', 'sh', '-c', script]));
      const followed = env.denAsync(['logs', '-f', 'logs']);
      ok(env.den(['wait', 'logs']));
      const all = ok(env.den(['logs', 'logs']));
      const lines = all.split('\n');
      assert.deepEqual(lines.slice(0, 3), ['one', 'two', 'three']);
      assert.ok(lines[3] === 'x'.repeat(1048576), `the long line whole (${lines[3]?.length} bytes)`);
      assert.equal(lines[4], 'no newline', 'the unfinished line last, without a newline');
      assert.equal(lines.length, 5);
      assert.ok((await followed).stdout === all, 'logs -f printed everything and ended with the container');
      const tail = ok(env.den(['logs', '--tail', '2', 'logs'])).split('\n');
      assert.deepEqual([tail.length, tail[0]?.length, tail[1]], [2, 1048576, 'no newline']);
      assert.match(ok(env.den(['logs', '-t', '--tail', '5', 'logs'])), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$/m);
      assert.equal(ok(env.den(['logs', '--since', '2999-01-01T00:00:00Z', 'logs'])), '');
      assert.equal(ok(env.den(['logs', '--until', '1h', 'logs'])), '', 'nothing was written an hour ago');
      ok(env.den(['rm', 'logs']));
    });

    test('--log-opt max-size bounds the log; --log-driver none keeps nothing and logs says so', () => {
      const flood = 'i=0; while [ $i -lt 2000 ]; do echo "line $i of a container that talks a lot"; i=$((i+1)); done';
      ok(env.den(['run', '-d', '--name', 'bounded', '--log-opt', 'max-size=4k', 'busybox', 'sh', '-c', flood]));
      ok(env.den(['wait', 'bounded']));
      const log = inspect('bounded', '{{.LogPath}}');
      assert.ok(statSync(log).size <= 8192, `the log holds ${statSync(log).size} bytes`);
      assert.match(ok(env.den(['logs', '--tail', '1', 'bounded'])), /^line 1999 of a container that talks a lot\n$/);
      assert.equal(inspect('bounded', '{{.HostConfig.LogConfig.Config}}'), 'map[max-size:4k]');
      ok(env.den(['run', '-d', '--name', 'silent', '--log-driver', 'none', 'busybox', 'echo', 'hi']));
      ok(env.den(['wait', 'silent']));
      const r = env.den(['logs', 'silent']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /configured logging driver does not support reading/);
      const bad = env.den(['run', '-d', '--log-opt', 'max-file=3', 'busybox', 'true']);
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /den keeps one log file per container/);
      ok(env.den(['rm', 'bounded', 'silent']));
    });

    test('stop sends the stop signal and waits; a container that ignores it is killed after -t', async () => {
      const trap = 'trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done';
      ok(env.den(['run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', trap]));
      await until('it is ready', () => env.den(['logs', 'polite']).stdout.includes('ready'));
      ok(env.den(['stop', 'polite']));
      assert.equal(inspect('polite', '{{.State.ExitCode}}'), '0');
      assert.match(ok(env.den(['logs', 'polite'])), /got TERM/);
      const usr1 = 'trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.1; done';
      ok(env.den(['run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', usr1]));
      await until('it is ready', () => env.den(['logs', 'usr1']).stdout.includes('ready'));
      ok(env.den(['stop', 'usr1']));
      assert.equal(inspect('usr1', '{{.State.ExitCode}} {{.Config.StopSignal}}'), '7 SIGUSR1');
      // sh as pid 1 does not die of an untrapped TERM: only the KILL after the timeout ends it.
      ok(env.den(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'while :; do sleep 0.1; done']));
      const started = Date.now();
      ok(env.den(['stop', '-t', '1', 'stubborn']));
      assert.ok(Date.now() - started >= 1000, 'it waited the timeout');
      assert.equal(inspect('stubborn', '{{.State.ExitCode}}'), '137');
      ok(env.den(['rm', 'polite', 'usr1', 'stubborn']));
    });

    test('kill sends a signal; restart runs it again; stop and kill of a stopped container', async () => {
      ok(
        env.den(['run', '-d', '--name', 'k', 'busybox', 'sh', '-c', 'trap "exit 5" HUP; while :; do sleep 0.1; done']),
      );
      await sleep(300);
      ok(env.den(['kill', '-s', 'HUP', 'k']));
      assert.equal(ok(env.den(['wait', 'k'])), '5\n');
      const notRunning = env.den(['kill', 'k']);
      assert.equal(notRunning.status, 1);
      assert.match(notRunning.stderr, /is not running/);
      assert.equal(ok(env.den(['stop', 'k'])), 'k\n', "docker's stop of a stopped container succeeds");
      const before = inspect('k', '{{.State.StartedAt}}');
      ok(env.den(['restart', '-t', '0', 'k']));
      assert.equal(inspect('k', '{{.State.Status}}'), 'running');
      assert.notEqual(inspect('k', '{{.State.StartedAt}}'), before);
      ok(env.den(['rm', '-f', 'k']));
      assert.deepEqual(monitors(), []);
    });

    test('start right after the container exited runs it again (it waits for the exit to be recorded)', async () => {
      const dir = mkdtempSync(join(env.root, 'count-'));
      chmodSync(dir, 0o777);
      writeFileSync(join(dir, 'count'), '');
      chmodSync(join(dir, 'count'), 0o666);
      ok(env.den(['run', '-d', '--name', 'quick', '-v', `${dir}:/w`, 'busybox', 'sh', '-c', 'echo run >> /w/count']));
      for (let i = 0; i < 3; i++) {
        // The run may still be going, or just over with its exit not yet recorded: wait for the
        // process itself to have written, then start at once.
        await until(`run ${i + 1} wrote`, () => readFileSync(join(dir, 'count'), 'utf8').split('\n').length > i + 1);
        ok(env.den(['start', 'quick']));
      }
      await until('the fourth run wrote', () => readFileSync(join(dir, 'count'), 'utf8') === 'run\n'.repeat(4));
      assert.equal(ok(env.den(['wait', 'quick'])), '0\n');
      ok(env.den(['rm', 'quick']));
    });

    test('--restart on-failure:2 starts a failing container twice more, then leaves it exited', async () => {
      ok(
        env.den([
          'run',
          '-d',
          '--name',
          'flaky',
          '--restart',
          'on-failure:2',
          'busybox',
          'sh',
          '-c',
          'echo run; exit 1',
        ]),
      );
      await until('its restarts are used up', () => {
        const r = env.den(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'flaky']);
        return r.stdout.trim() === 'exited 2';
      });
      await sleep(500);
      assert.equal(inspect('flaky', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}'), 'exited 2 1');
      assert.equal(ok(env.den(['logs', 'flaky'])), 'run\nrun\nrun\n');
      ok(env.den(['rm', 'flaky']));
    });

    test('--restart always starts it again after it exits, and den stop ends that', async () => {
      ok(env.den(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3']));
      await until(
        'it was restarted',
        () => Number(env.den(['inspect', '-f', '{{.RestartCount}}', 'always']).stdout) >= 2,
      );
      ok(env.den(['stop', '-t', '1', 'always']));
      const count = inspect('always', '{{.RestartCount}}');
      await sleep(1500);
      assert.equal(inspect('always', '{{.State.Status}}'), 'exited', 'a stopped container stays stopped');
      assert.equal(inspect('always', '{{.RestartCount}}'), count);
      ok(env.den(['start', 'always']));
      assert.equal(inspect('always', '{{.RestartCount}}'), '0', "a user's start counts afresh");
      ok(env.den(['rm', '-f', 'always']));
      assert.deepEqual(monitors(), []);
      assert.deepEqual(env.mountsUnderRoot(), []);
    });

    test('run -d --rm removes the container when it exits; wait still tells its status', async () => {
      const id = ok(env.den(['run', '-d', '--rm', 'busybox', 'sh', '-c', 'sleep 0.5; exit 4'])).trim();
      assert.equal(ok(env.den(['wait', id])), '4\n');
      await until('it is removed', () => env.den(['inspect', id]).status !== 0);
      assert.ok(!env.containerDirs().includes(id));
      assert.deepEqual(env.mountsUnderRoot(), []);
    });

    test('conmon killed with SIGKILL: ps tells the truth, rm -f works, nothing leaks', async () => {
      ok(env.den(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '1000']));
      const [monitor] = monitors();
      assert.ok(monitor, 'a monitor runs');
      process.kill(Number(monitor), 'SIGKILL');
      await sleep(200);
      assert.equal(inspect('orphan', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 255');
      ok(env.den(['start', 'orphan']));
      assert.equal(inspect('orphan', '{{.State.Status}}'), 'running', 'it starts again');
      ok(env.den(['rm', '-f', 'orphan']));
      assert.deepEqual(monitors(), []);
      assert.deepEqual(env.mountsUnderRoot(), []);
      assert.deepEqual(env.strayProcesses(), []);
    });

    test('after a reboot (processes and the runtime directory gone) containers show exited and start again', async () => {
      ok(env.den(['run', '-d', '--name', 'boot', 'busybox', 'sleep', '1000']));
      env.cleanupProcesses();
      rmSync(env.runtimeDir, { recursive: true, force: true });
      assert.match(ok(env.den(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])), /^boot Exited \(255\)/m);
      ok(env.den(['start', 'boot']));
      assert.equal(inspect('boot', '{{.State.Status}}'), 'running');
      ok(env.den(['rm', '-f', 'boot']));
      assert.deepEqual(monitors(), []);
    });

    test('errors: an unknown container, a bad --restart, --restart with --rm, a missing command', () => {
      const missing = env.den(['stop', 'nope']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /no such container: nope/);
      const bad = env.den(['run', '-d', '--restart', 'sometimes', 'busybox', 'true']);
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /invalid restart policy "sometimes"/);
      const both = env.den(['run', '-d', '--rm', '--restart', 'always', 'busybox', 'true']);
      assert.equal(both.status, 125);
      assert.match(both.stderr, /conflicting options: --restart and --rm/);
      const notFound = env.den(['run', '-d', '--name', 'nocmd', 'busybox', 'no-such-command']);
      assert.equal(notFound.status, 127, notFound.stderr);
      assert.deepEqual(monitors(), []);
      assert.deepEqual(env.mountsUnderRoot(), []);
      ok(env.den(['rm', '-f', 'nocmd']));
    });
  });

describe('detached containers started by many dens at once (rootless)', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  test('50 run -d by separate den processes: all listed, all removed, the store checks clean', async () => {
    const n = 50;
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) => env.denAsync(['run', '-d', '--name', `c${i}`, 'busybox', 'sleep', '1000'])),
    );
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const names = env.den(['ps', '--format', '{{.Names}}']).stdout.trim().split('\n').sort();
    assert.equal(names.length, n);
    const removed = await Promise.all(Array.from({ length: n }, (_, i) => env.denAsync(['rm', '-f', `c${i}`])));
    for (const r of removed) assert.equal(r.status, 0, r.stderr);
    assert.equal(env.den(['ps', '-aq']).stdout, '');
    const check = env.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.deepEqual(env.mountsUnderRoot(), []);
    assert.deepEqual(env.strayProcesses(), []);
  });
});

describe('SIGKILL of den and of monitors at random points (rootless, seeded)', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  test('every container stays recoverable: rm -f works, the store checks clean, nothing leaks', async (t) => {
    // DEN_TEST_SEED=<n> replays a run: the same verbs, each killed after the same delay.
    const seed = process.env.DEN_TEST_SEED !== undefined ? Number(process.env.DEN_TEST_SEED) : randomInt(2 ** 31);
    const random = new SeededRandom(seed);
    t.diagnostic(`seed ${seed} (DEN_TEST_SEED=${seed} replays it)`);
    const log: string[] = [`seed ${seed}`];
    const names = ['a', 'b', 'c'];
    for (const name of names) {
      assert.equal(
        env.den(['create', '--name', name, '--restart', 'on-failure:2', 'busybox', 'sleep', '1000']).status,
        0,
      );
    }
    const verbs = [['start'], ['stop', '-t', '1'], ['restart', '-t', '1'], ['rm', '-f'], ['kill']];
    for (let round = 0; round < 12; round++) {
      const name = names[random.int(0, names.length - 1)]!;
      const verb = verbs[random.int(0, verbs.length - 1)]!;
      const delay = random.int(0, 600);
      if (verb[0] === 'rm' && env.den(['inspect', name]).status !== 0) continue;
      if (env.den(['inspect', name]).status !== 0) {
        env.den(['create', '--name', name, '--restart', 'on-failure:2', 'busybox', 'sleep', '1000']);
      }
      const victim = env.spawnDen([...verb, name]);
      victim.stdin.end();
      const exited = new Promise<void>((resolve) => victim.on('exit', () => resolve()));
      const killedDen = await Promise.race([exited.then(() => false), sleep(delay).then(() => true)]);
      if (killedDen) victim.kill('SIGKILL');
      await exited;
      // Now and then a monitor dies too.
      const monitors = spawnSync('pgrep', ['-f', `conmon .*${env.root}`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
      const killMonitor = monitors.length > 0 && random.next() < 0.3;
      if (killMonitor) process.kill(Number(monitors[random.int(0, monitors.length - 1)]), 'SIGKILL');
      log.push(
        `${verb.join(' ')} ${name}: ${killedDen ? `den killed after ${delay} ms` : 'finished'}${killMonitor ? ', a monitor killed' : ''}`,
      );
      const ps = env.den(['ps', '-a']);
      assert.equal(ps.status, 0, `${log.join('\n')}\n${ps.stderr}`);
    }
    for (const name of names) {
      const r = env.den(['rm', '-f', name]);
      assert.equal(r.status, 0, `${log.join('\n')}\nrm -f ${name}: ${r.stderr}`);
    }
    await sleep(500); // exit commands still running finish
    assert.equal(env.den(['ps', '-aq']).stdout, '', log.join('\n'));
    const check = env.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, `${log.join('\n')}\n${check.stdout}${check.stderr}`);
    assert.deepEqual(env.mountsUnderRoot(), [], log.join('\n'));
    assert.deepEqual(env.strayProcesses(), [], log.join('\n'));
  });
});
