import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, denBin, DenEnv, TEST_USER } from './harness.js';

/**
 * exec, attach and top against real detached containers (conmon watching each), as the
 * unprivileged user and as root, with crun; runc where it differs (how a terminal is relayed).
 */

/** Collects a spawned den's output; `waitFor` resolves once the output matches. */
function collect(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (stdout += d));
  child.stderr!.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    async waitFor(pattern: RegExp, what = 'output'): Promise<void> {
      for (let i = 0; i < 200 && !pattern.test(stdout); i++) await sleep(50);
      assert.match(stdout, pattern, `${what}; stderr: ${stderr}`);
    },
  };
}

/** Runs `check` until it passes or about 10 s went by; the last failure is the test's. */
async function eventually(check: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      check();
      return;
    } catch (e) {
      if (i >= 100) throw e;
      await sleep(100);
    }
  }
}

/** A terminal (tmux) running one den command as the environment's user. */
let terminals = 0;
function terminal(env: DenEnv, command: string) {
  const socket = `den-exec-test-${process.pid}-${terminals++}`;
  const tmux = (...args: string[]) => env.exec(['tmux', '-L', socket, ...args]);
  const screen = () => tmux('capture-pane', '-p').stdout;
  // The shell after den keeps the pane open to read den's status from.
  tmux('new-session', '-d', '-x', '80', '-y', '24', `${command}; echo "den-status=$?"; sleep 60`);
  return {
    screen,
    keys: (...keys: string[]) => tmux('send-keys', ...keys),
    resize: (width: number, height: number) => tmux('resize-window', '-x', String(width), '-y', String(height)),
    async waitFor(pattern: RegExp): Promise<void> {
      for (let i = 0; i < 150 && !pattern.test(screen()); i++) await sleep(100);
      assert.match(screen(), pattern);
    },
    close: () => tmux('kill-server'),
  };
}

const den = (): string => `${process.execPath} -- ${denBin()}`;

for (const user of [TEST_USER, 'root'])
  describe(`exec, attach and top as ${user === 'root' ? 'root' : 'an unprivileged user'}`, () => {
    let env: DenEnv;
    before(() => {
      env = new DenEnv(user);
      const r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
      const box = env.den([
        'run',
        '-d',
        '--name',
        'box',
        '-e',
        'FROM_RUN=1',
        '-w',
        '/tmp',
        'busybox',
        'sh',
        '-c',
        'echo made-by-init > /marker; while true; do sleep 1; done',
      ]);
      assert.equal(box.status, 0, box.stderr);
    });
    after(() => {
      env.den(['rm', '-f', 'box']);
      env.cleanup();
    });

    test("exec runs in the container's namespaces: its hostname, its root, its pid 1", async () => {
      const initPid = Number(env.den(['inspect', '-f', '{{.State.Pid}}', 'box']).stdout);
      assert.ok(initPid > 0);
      const hostname = env.den(['inspect', '-f', '{{.Config.Hostname}}', 'box']).stdout.trim();
      await eventually(() => assert.equal(env.den(['exec', 'box', 'cat', '/marker']).stdout, 'made-by-init\n'));
      const r = env.den(['exec', 'box', 'sh', '-c', 'hostname; cat /proc/1/cmdline; echo; readlink /proc/self/ns/pid']);
      assert.equal(r.status, 0, r.stderr);
      const [name, init, pidNs] = r.stdout.split('\n');
      assert.equal(name, hostname);
      assert.match(init!, /^sh\0-c\0echo made-by-init/);
      assert.equal(pidNs, readlinkSync(`/proc/${initPid}/ns/pid`), "the init's pid namespace");
    });

    test("exec takes the container's user, or -u's from its /etc/passwd", () => {
      assert.equal(env.den(['exec', 'box', 'sh', '-c', 'id -u; id -g']).stdout, '0\n0\n');
      assert.equal(env.den(['exec', '-u', '1000:1000', 'box', 'id', '-u']).stdout, '1000\n');
      const nobody = env.den(['exec', '-u', 'nobody', 'box', 'sh', '-c', 'id -un; echo $HOME']);
      assert.equal(nobody.stdout, 'nobody\n/nonexistent\n', nobody.stderr);
      const unknown = env.den(['exec', '-u', 'nosuch', 'box', 'true']);
      assert.equal(unknown.status, 126);
      assert.match(unknown.stderr, /unable to find user nosuch/);
      // A container made with -u runs its execs as that user.
      assert.equal(env.den(['run', '-d', '--name', 'asuser', '-u', '1000', 'busybox', 'sleep', '60']).status, 0);
      try {
        assert.equal(env.den(['exec', 'asuser', 'id', '-u']).stdout, '1000\n');
        assert.equal(env.den(['exec', '-u', '0', 'asuser', 'id', '-u']).stdout, '0\n');
      } finally {
        env.den(['rm', '-f', 'asuser']);
      }
    });

    test("exec's environment is the container's and -e's, its directory the container's or -w", () => {
      const envFile = join(env.root, 'exec.env');
      writeFileSync(envFile, 'FROM_FILE=yes\n');
      chmodSync(envFile, 0o644);
      const r = env.den(
        ['exec', '-e', 'EXTRA=2', '-e', 'FROM_CALLER', '--env-file', envFile, 'box', 'sh', '-c', 'env; pwd'],
        { env: { FROM_CALLER: 'passed' } },
      );
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      for (const line of ['FROM_RUN=1', 'EXTRA=2', 'FROM_FILE=yes', 'FROM_CALLER=passed', 'HOME=/root', '/tmp']) {
        assert.ok(lines.includes(line), `${line} in ${r.stdout}`);
      }
      assert.ok(!lines.some((l) => l.startsWith('TERM=')), 'no TERM without -t');
      assert.equal(env.den(['exec', '-e', 'FROM_RUN=over', 'box', 'sh', '-c', 'echo $FROM_RUN']).stdout, 'over\n');
      assert.equal(env.den(['exec', '-w', '/etc', 'box', 'pwd']).stdout, '/etc\n');
      const relative = env.den(['exec', '-w', 'etc', 'box', 'pwd']);
      assert.equal(relative.status, 1);
      assert.match(relative.stderr, /needs to be an absolute path/);
    });

    test('exec exits with the command status: 3, 126 cannot run, 127 not found, 1 not running', () => {
      assert.equal(env.den(['exec', 'box', 'true']).status, 0);
      assert.equal(env.den(['exec', 'box', 'sh', '-c', 'exit 3']).status, 3);
      const missing = env.den(['exec', 'box', 'nonexistent']);
      assert.equal(missing.status, 127);
      assert.match(missing.stderr, /OCI runtime exec failed: .*not found/);
      const directory = env.den(['exec', 'box', '/etc']);
      assert.equal(directory.status, 126, directory.stderr);
      assert.equal(env.den(['create', '--name', 'idle', 'busybox', 'true']).status, 0);
      const idle = env.den(['exec', 'idle', 'true']);
      assert.equal(idle.status, 1);
      assert.match(idle.stderr, /^Error: container [0-9a-f]{64} is not running$/m);
      assert.equal(env.den(['rm', 'idle']).status, 0);
      const none = env.den(['exec', 'nosuch', 'true']);
      assert.equal(none.status, 1);
      assert.equal(env.den(['exec', 'box']).status, 1, 'a command is needed (docker: wrong number of arguments, 1)');
    });

    test('exec -i pipes stdin, without -i the command reads nothing', () => {
      const piped = env.den(['exec', '-i', 'box', 'sh', '-c', 'cat; echo end'], { input: 'hello\n' });
      assert.equal(piped.stdout, 'hello\nend\n', piped.stderr);
      assert.equal(env.den(['exec', 'box', 'cat'], { input: 'ignored\n' }).stdout, '');
    });

    test('exec -t gives the command a real terminal of the caller size; -it needs one', () => {
      const inner = `stty cols 91 rows 27; ${den()} exec -t box sh -c 'tty; stty size; echo $TERM'`;
      const r = env.exec(['script', '-qec', inner, '/dev/null']);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      // The terminal's \r\n, seen through script's own terminal (which adds a \r of its own).
      assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\r\n27 91\r?\r\nxterm\r?\r\n/);
      const plain = env.den(['exec', '-t', 'box', 'tty'], { input: '' });
      assert.match(plain.stdout, /^\/dev\/pts\/\d+\r\n$/);
      const it = env.den(['exec', '-it', 'box', 'true'], { input: '' });
      assert.equal(it.status, 1);
      assert.match(it.stderr, /the input device is not a TTY/);
    });

    test('exec -it in a terminal: an interactive shell in the container', { timeout: 60_000 }, async () => {
      const t = terminal(env, `${den()} exec -it box sh`);
      try {
        await t.waitFor(/\/tmp # ?$/m);
        t.keys('echo in-$((40+2)); exit 4', 'Enter');
        await t.waitFor(/^den-status=4$/m);
        assert.match(t.screen(), /^in-42\r?$/m);
      } finally {
        t.close();
      }
    });

    test('exec -d returns at once and the command runs on; -dt gets a terminal', async () => {
      const started = Date.now();
      const r = env.den(['exec', '-d', 'box', 'sh', '-c', 'sleep 1; echo done > /tmp/detached']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout + r.stderr, '');
      assert.ok(Date.now() - started < 10_000);
      await eventually(() => assert.equal(env.den(['exec', 'box', 'cat', '/tmp/detached']).stdout, 'done\n'));
      assert.equal(env.den(['exec', '-dt', 'box', 'sh', '-c', 'tty > /tmp/tty; sleep 1']).status, 0);
      await eventually(() => assert.match(env.den(['exec', 'box', 'cat', '/tmp/tty']).stdout, /^\/dev\/pts\/\d+\n$/));
      const missing = env.den(['exec', '-d', 'box', 'nonexistent']);
      assert.equal(missing.status, 127, missing.stderr);
    });

    test('exec --privileged has every capability, an exec without has the container set', () => {
      const caps = (args: string[]) =>
        BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(env.den([...args, 'cat', '/proc/self/status']).stdout)![1]}`);
      const CAP_SYS_ADMIN = 1n << 21n;
      const CAP_CHOWN = 1n;
      assert.equal(caps(['exec', 'box']) & CAP_SYS_ADMIN, 0n);
      assert.equal(caps(['exec', 'box']) & CAP_CHOWN, CAP_CHOWN);
      assert.equal(caps(['exec', '--privileged', 'box']) & CAP_SYS_ADMIN, CAP_SYS_ADMIN);
      assert.equal(caps(['exec', '-u', '1000', 'box']), 0n, 'a user other than root starts with none');
      const nnp = env.den(['exec', 'box', 'grep', 'NoNewPrivs', '/proc/self/status']).stdout;
      assert.match(nnp, /NoNewPrivs:\s+0/, "the container's: off, as docker's default");
    });

    test('SIGTERM to den exec reaches the command', { timeout: 60_000 }, async () => {
      const child = env.spawnDen([
        'exec',
        'box',
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done',
      ]);
      const out = collect(child);
      await out.waitFor(/ready/);
      child.kill('SIGTERM');
      assert.equal(await out.exited, 7);
      assert.match(out.stdout, /got-term/);
    });

    test("exec and top are in the events journal, with docker's actions", () => {
      const since = String(Math.floor(Date.now() / 1000) - 1);
      assert.equal(env.den(['exec', 'box', 'sh', '-c', 'exit 5']).status, 5);
      assert.equal(env.den(['top', 'box']).status, 0);
      const until = String(Math.floor(Date.now() / 1000) + 1);
      const events = env.den([
        'events',
        '--since',
        since,
        '--until',
        until,
        '--filter',
        'container=box',
        '--format',
        '{{.Action}}|{{json .Actor.Attributes}}',
      ]);
      assert.equal(events.status, 0, events.stderr);
      const seen = events.stdout
        .trim()
        .split('\n')
        .slice(-4) // the journal's seconds may hold the previous test's last events too
        .map((line) => {
          const [action, attributes] = line.split('|') as [string, string];
          return { action, ...(JSON.parse(attributes) as { execID?: string; exitCode?: string }) };
        });
      assert.deepEqual(
        seen.map((e) => `${e.action}${e.exitCode !== undefined ? ` ${e.exitCode}` : ''}`),
        ['exec_create: sh -c exit 5', 'exec_start: sh -c exit 5', 'exec_die 5', 'top'],
      );
      assert.match(seen[0]!.execID!, /^[0-9a-f]{64}$/);
      assert.equal(new Set(seen.slice(0, 3).map((e) => e.execID)).size, 1, 'one exec id');
    });

    test('top lists the container processes, exec ones included, with host pids', async () => {
      const initPid = Number(env.den(['inspect', '-f', '{{.State.Pid}}', 'box']).stdout);
      assert.equal(env.den(['exec', '-d', 'box', 'sleep', '321']).status, 0);
      await eventually(() => {
        const top = env.den(['top', 'box']);
        assert.equal(top.status, 0, top.stderr);
        const [header, ...rows] = top.stdout.trimEnd().split('\n');
        assert.deepEqual(header!.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
        const pids = rows.map((r) => Number(r.split(/\s+/)[1]));
        assert.ok(pids.includes(initPid), `init ${initPid} in ${top.stdout}`);
        assert.ok(
          rows.some((r) => / sleep 321$/.test(r)),
          top.stdout,
        );
        assert.ok(!rows.some((r) => /conmon|crun|nsenter/.test(r)), 'only the container: ' + top.stdout);
      });
      const custom = env.den(['top', 'box', '-eo', 'pid,comm']);
      assert.equal(custom.status, 0, custom.stderr);
      assert.match(custom.stdout, /^PID {17}COMMAND\n/);
      assert.match(custom.stdout, new RegExp(`^${initPid} +sh$`, 'm'));
      const noPid = env.den(['top', 'box', '-o', 'comm']);
      assert.equal(noPid.status, 1);
      assert.match(noPid.stderr, /no PID column/);
      assert.equal(env.den(['create', '--name', 'still', 'busybox', 'true']).status, 0);
      const stopped = env.den(['top', 'still']);
      assert.equal(stopped.status, 1);
      assert.match(stopped.stderr, /is not running/);
      env.den(['rm', 'still']);
    });

    test('attach relays stdout and stderr apart and exits with the container status', { timeout: 60_000 }, async () => {
      const run = env.den([
        'run',
        '-d',
        '--name',
        'talker',
        'busybox',
        'sh',
        '-c',
        'while [ ! -f /go ]; do echo tick; sleep 0.2; done; echo out; echo err >&2; exit 4',
      ]);
      assert.equal(run.status, 0, run.stderr);
      const attach = collect(env.spawnDen(['attach', 'talker']));
      await attach.waitFor(/tick\n/, 'attached: what the container writes from then on');
      assert.equal(env.den(['exec', 'talker', 'touch', '/go']).status, 0);
      assert.equal(await attach.exited, 4, attach.stderr);
      assert.match(attach.stdout, /^(tick\n)+out\n$/);
      assert.equal(attach.stderr, 'err\n');
      const again = env.den(['attach', 'talker']);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /You cannot attach to a stopped container, start it first/);
      env.den(['rm', '-f', 'talker']);
    });

    test(
      'attach sends stdin to a -i container, which keeps it open between attaches',
      { timeout: 60_000 },
      async () => {
        const run = env.den([
          'run',
          '-d',
          '-i',
          '--name',
          'reader',
          'busybox',
          'sh',
          '-c',
          'while read l; do echo "got:$l"; [ "$l" = quit ] && exit 9; done; echo stdin-closed; exit 1',
        ]);
        assert.equal(run.status, 0, run.stderr);
        const first = env.spawnDen(['attach', 'reader']);
        const out = collect(first);
        first.stdin!.end('one\n'); // its end is not the container's
        await out.waitFor(/got:one\n/);
        first.kill('SIGKILL');
        await out.exited;
        const second = env.den(['attach', 'reader'], { input: 'two\nquit\n' });
        assert.equal(second.status, 9, second.stderr);
        assert.equal(second.stdout, 'got:two\ngot:quit\n');
        assert.equal(env.den(['logs', 'reader']).stdout, 'got:one\ngot:two\ngot:quit\n');
        env.den(['rm', '-f', 'reader']);
      },
    );

    test('attach forwards signals to a container without a terminal (--sig-proxy)', { timeout: 60_000 }, async () => {
      const run = env.den([
        'run',
        '-d',
        '--name',
        'trapper',
        'busybox',
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; while true; do echo tick; sleep 0.2; done',
      ]);
      assert.equal(run.status, 0, run.stderr);
      const child = env.spawnDen(['attach', 'trapper']);
      const out = collect(child);
      await out.waitFor(/tick\n/, 'attached');
      child.kill('SIGTERM');
      assert.equal(await out.exited, 7, out.stderr);
      assert.match(out.stdout, /got-term/);
      env.den(['rm', '-f', 'trapper']);
    });

    test(
      'attach to a terminal: keys, resizes, ctrl-p ctrl-q and custom keys detach, exit ends it',
      { timeout: 90_000 },
      async () => {
        assert.equal(env.den(['run', '-d', '-it', '--name', 'shell', 'busybox', 'sh']).status, 0);
        const refused = env.den(['attach', 'shell'], { input: '' });
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, /the input device is not a TTY/);
        let t = terminal(env, `${den()} attach shell`);
        try {
          t.keys('echo hi-$((1+1)); stty size', 'Enter');
          await t.waitFor(/^hi-2\r?\n24 80$/m);
          t.resize(100, 30);
          await sleep(500);
          t.keys('stty size', 'Enter');
          await t.waitFor(/^30 100$/m);
          t.keys('C-p', 'C-q');
          await t.waitFor(/^den-status=1$/m);
          assert.match(t.screen(), /read escape sequence/);
        } finally {
          t.close();
        }
        assert.match(env.den(['ps', '--format', '{{.Names}}']).stdout, /^shell$/m, 'still running');
        const events = env.den([
          'events',
          '--since',
          '0',
          '--until',
          String(Math.floor(Date.now() / 1000) + 1),
          '--filter',
          'container=shell',
          '--filter',
          'event=attach',
          '--filter',
          'event=detach',
          '--format',
          '{{.Action}}',
        ]);
        assert.equal(events.stdout, 'attach\ndetach\n', events.stderr);
        t = terminal(env, `${den()} attach --detach-keys ctrl-a,x shell`);
        try {
          // Keys typed before den reads them wait in the terminal; ^C would not (it would stop den).
          t.keys('echo attached', 'Enter');
          await t.waitFor(/^attached$/m);
          // ctrl-p ctrl-q reach the shell now (its history), ctrl-c clears its line.
          t.keys('C-p', 'C-q', 'C-c', 'echo still-here', 'Enter');
          await t.waitFor(/^still-here$/m);
          t.keys('C-a', 'x');
          await t.waitFor(/^den-status=1$/m);
        } finally {
          t.close();
        }
        t = terminal(env, `${den()} attach shell`);
        try {
          t.keys('exit 3', 'Enter');
          await t.waitFor(/^den-status=3$/m);
        } finally {
          t.close();
        }
        // Recorded by the container's exit command, shortly after attach read the status conmon wrote.
        await eventually(() =>
          assert.match(env.den(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, /^shell Exited \(3\)/m),
        );
        assert.equal(env.den(['rm', 'shell']).status, 0);
      },
    );

    test('start -a sees all of the output from the start, and its status; -ai sends stdin', () => {
      assert.equal(
        env.den(['create', '--name', 'once', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 6']).status,
        0,
      );
      for (let i = 0; i < 2; i++) {
        const r = env.den(['start', '-a', 'once']);
        assert.equal(r.status, 6, r.stderr);
        assert.equal(r.stdout, 'out\n');
        assert.equal(r.stderr, 'err\n');
      }
      env.den(['rm', '-f', 'once']);
      assert.equal(
        env.den(['create', '-i', '--name', 'asks', 'busybox', 'sh', '-c', 'read l; echo got:$l; exit 2']).status,
        0,
      );
      const r = env.den(['start', '-ai', 'asks'], { input: 'hello\n' });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, 'got:hello\n');
      env.den(['rm', '-f', 'asks']);
      assert.equal(env.den(['create', '--name', 'broken', 'busybox', 'nonexistent']).status, 0);
      assert.equal(env.den(['start', '-a', 'broken']).status, 127);
      env.den(['rm', '-f', 'broken']);
    });

    test('start -ai in a terminal: ctrl-p ctrl-q detaches, the container runs on', { timeout: 60_000 }, async () => {
      assert.equal(env.den(['create', '-it', '--name', 'console', 'busybox', 'sh']).status, 0);
      const t = terminal(env, `${den()} start -ai console`);
      try {
        t.keys('echo attached; stty size', 'Enter');
        await t.waitFor(/^attached\r?\n24 80$/m);
        t.keys('C-p', 'C-q');
        await t.waitFor(/^den-status=1$/m);
      } finally {
        t.close();
      }
      assert.match(env.den(['ps', '--format', '{{.Names}}']).stdout, /^console$/m, 'still running');
      assert.equal(env.den(['rm', '-f', 'console']).status, 0);
    });
  });

describe('exec with runc, rootless', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    env.defaults = { DEN_RUNTIME: 'runc' };
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
    const r = env.den(['run', '-d', '--name', 'box', 'busybox', 'sh', '-c', 'while true; do sleep 1; done']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    env.den(['rm', '-f', 'box']);
    env.cleanup();
  });

  test('statuses, stdin, a terminal and -d work through runc too', async () => {
    assert.equal(env.den(['exec', 'box', 'sh', '-c', 'exit 3']).status, 3);
    assert.equal(env.den(['exec', 'box', 'nonexistent']).status, 127);
    assert.equal(env.den(['exec', 'box', '/etc']).status, 126);
    assert.equal(env.den(['exec', '-i', 'box', 'cat'], { input: 'hi\n' }).stdout, 'hi\n');
    const inner = `stty cols 91 rows 27; ${den()} exec -t box sh -c 'tty; stty size'`;
    const r = env.exec(['script', '-qec', inner, '/dev/null']);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n27 91\r\n/, r.stderr);
    // runc relays a terminal from its own stdin only: without one, no terminal, and a warning.
    const plain = env.den(['exec', '-t', 'box', 'tty'], { input: '' });
    assert.equal(plain.stdout, 'not a tty\n');
    assert.match(plain.stderr, /runc cannot relay one; running without/);
    assert.equal(env.den(['exec', '-dt', 'box', 'sh', '-c', 'tty > /tmp/tty']).status, 0);
    await eventually(() => assert.match(env.den(['exec', 'box', 'cat', '/tmp/tty']).stdout, /^\/dev\/pts\/\d+\n$/));
  });
});
