import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, denBin, DenEnv, subuidBase } from './harness.js';

/**
 * The run suite runs against each OCI runtime den supports (DEN_RUNTIME picks it for every den of
 * the environment); where they differ by design, the test says so.
 */
for (const runtime of ['crun', 'runc'] as const)
  describe(`den run, rootless, as an unprivileged user, with ${runtime}`, () => {
    let env: DenEnv;
    before(() => {
      env = new DenEnv();
      env.defaults = { DEN_RUNTIME: runtime };
      const r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => env.cleanup());

    test('inside, id says root and uid_map shows the caller and their subordinate range', () => {
      const r = env.den(['run', '--rm', 'busybox', 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map']);
      assert.equal(r.status, 0, r.stderr);
      const [uid, gid, ...map] = r.stdout.trim().split('\n');
      assert.equal(uid, '0');
      assert.equal(gid, '0');
      const lines = map.map((l) => l.trim().split(/\s+/).map(Number));
      assert.deepEqual(lines[0], [0, env.user.uid, 1]);
      assert.deepEqual(lines[1], [1, subuidBase(env.user), 65536]);
    });

    test('a file made by container uid 1000 is owned by subuid base + 999 on the host, in a bind mount and in the rootfs', () => {
      const shared = join(env.root, 'shared');
      mkdirSync(shared);
      chownSync(shared, env.user.uid, env.user.gid);
      chmodSync(shared, 0o777); // container uid 1000 is a stranger to the directory's owner
      const r = env.den([
        'run',
        '--name',
        'writer',
        '-v',
        `${shared}:/data`,
        'busybox',
        'sh',
        '-c',
        'touch /data/root-file && su user -s /bin/sh -c "touch /data/user-file /tmp/user-file"',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const base = subuidBase(env.user);
      assert.equal(statSync(join(shared, 'root-file')).uid, env.user.uid, 'container root is the caller');
      assert.equal(statSync(join(shared, 'user-file')).uid, base + 999);
      const upper = join(env.dataDir, 'containers', inspectId(env, 'writer'), 'upper', 'tmp', 'user-file');
      assert.equal(statSync(upper).uid, base + 999);
      assert.equal(env.den(['rm', 'writer']).status, 0);
    });

    test('exit codes: the container status, 125 for den, 126 not executable, 127 not found', () => {
      const cases: [string[], number][] = [
        [['busybox', 'true'], 0],
        [['busybox', 'false'], 1],
        [['busybox', 'sh', '-c', 'exit 42'], 42],
        [['no-such-image'], 125],
        [['busybox', '/etc/passwd'], 126],
        [['busybox', 'no-such-command'], 127],
      ];
      for (const [args, status] of cases) {
        const r = env.den(['run', '--rm', ...args]);
        assert.equal(r.status, status, `den run ${args.join(' ')}: ${r.stderr}`);
      }
      const missing = env.den(['run', '--rm', 'busybox', 'no-such-command']);
      assert.match(missing.stderr, /no-such-command/);
    });

    test('stdin is piped through with -i, and not without', () => {
      const r = env.den(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z; echo done'], {
        input: 'hello\nworld\n',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'HELLO\nWORLD\ndone\n');
      const closed = env.den(['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' });
      assert.equal(closed.stdout, '');
    });

    test('-t gives a real pty with the caller terminal size', () => {
      // script(1) puts den under a pseudo-terminal of its own, as a person at a terminal would be.
      const inner = `stty cols 91 rows 27; ${process.execPath} ${denBin()} run --rm -t busybox sh -c 'tty; stty size'`;
      const [file, ...args] = env.wrap(['script', '-qec', inner, '/dev/null']);
      const r = spawnSync(file!, args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
      assert.match(r.stdout, /27 91/);
    });

    test('-t and -it under a terminal: each line ends in one "\\r\\n", as docker prints it, not "\\r\\r\\n"', async () => {
      // The container's terminal turns "\n" into "\r\n"; den's own terminal must not do it again.
      // script(1) is that terminal, and its output is what the terminal's reader got, byte for byte.
      // Its stdin stays open until den is done: at its end script would type an end-of-file.
      const underTerminal = async (command: string): Promise<{ status: number | null; out: string }> => {
        const [file, ...args] = env.wrap(['script', '-qec', command, '/dev/null']);
        const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
        const ended = new Promise((resolve) => child.stdout.on('end', resolve));
        const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        child.stdin.end();
        await ended;
        return { status, out };
      };
      const den = `${process.execPath} ${denBin()}`;
      for (const flags of ['-t', '-it']) {
        const r = await underTerminal(`${den} run --rm ${flags} busybox sh -c 'echo a; echo b >&2; echo c'`);
        assert.equal(r.status, 0, flags);
        assert.equal(r.out, 'a\r\nb\r\nc\r\n', `${flags}: ${JSON.stringify(r.out)}`);
      }
      // den gives its terminal back as it found it: output processing on again.
      const after = await underTerminal(`${den} run --rm -it busybox true; stty -a | grep -o -- '-\\?opost'`);
      assert.equal(after.out, 'opost\r\n');
    });

    test('-t: what the container writes just before it exits all arrives, even through a slow reader', () => {
      // The reader (a shell reading a byte at a time) keeps den behind, so the container exits with
      // output still in its terminal. A relay that stops at the exit, or at the first short read
      // after the terminal hung up, loses the tail; this failed 8 runs in 10 before den drained it.
      const slowReader = `while IFS= read -r l; do last=$l; done; echo "$last"`;
      const pipeline = `${process.execPath} ${denBin()} run --rm -t busybox seq 1 30000 </dev/null | sh -c '${slowReader}'`;
      for (let i = 0; i < 5; i++) {
        const r = env.exec(['sh', '-c', pipeline]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.replace(/\r/g, '').trim(), '30000', `run ${i}: the last line`);
      }
    });

    test('-t without a terminal on stdin still gives the container one, as docker does; -it refuses', () => {
      const r = env.den(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; echo out; echo err >&2'], { input: '' });
      assert.equal(r.status, 0, r.stderr);
      if (runtime === 'runc') {
        // runc relays a terminal only from its own stdin, so without one den runs the container
        // without a terminal, and says so (as run-root's runc test checks as root too).
        assert.equal(r.stdout, 'not a tty\nout\n');
        assert.match(r.stderr, /warning: -t without a terminal on stdin: runc cannot relay one; running without/);
        return;
      }
      // One terminal for both streams, with its line endings: all of it arrives on den's stdout.
      assert.equal(r.stdout, '/dev/pts/0\r\nout\r\nerr\r\n');
      assert.equal(r.stderr, '');
      const it = env.den(['run', '--rm', '-it', 'busybox', 'true'], { input: '' });
      assert.equal(it.status, 1);
      assert.match(it.stderr, /the input device is not a TTY/);
      // A reader that leaves early hangs the terminal up: den neither dies of EPIPE nor waits on a
      // container blocked writing to a terminal nobody reads; it cleans up as after any exit.
      const cut = env.exec(
        ['sh', '-c', `${process.execPath} ${denBin()} run --rm -t busybox seq 1 1000000 | head -2`],
        {
          timeoutMs: 20_000,
        },
      );
      assert.equal(cut.stdout, '1\r\n2\r\n', cut.stderr);
      assert.equal(cut.stderr, '');
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '', 'nothing left behind');
      assert.deepEqual(readdirSync(join(env.runtimeDir, 'consoles')), [], 'no console socket left behind');
    });

    test(
      '-it under a real terminal: an interactive shell that follows window resizes',
      { timeout: 60_000 },
      async () => {
        const socket = `den-test-${process.pid}`;
        const tmux = (...args: string[]) => env.exec(['tmux', '-L', socket, ...args]);
        const screen = () => tmux('capture-pane', '-p').stdout;
        const waitFor = async (pattern: RegExp) => {
          for (let i = 0; i < 100 && !pattern.test(screen()); i++) await new Promise((r) => setTimeout(r, 100));
          assert.match(screen(), pattern);
        };
        tmux('new-session', '-d', '-x', '80', '-y', '24', `${process.execPath} ${denBin()} run --rm -it busybox sh`);
        try {
          await waitFor(/^\/ # ?$/m);
          tmux('send-keys', 'stty size; tty', 'Enter');
          await waitFor(/^24 80$/m);
          assert.match(screen(), /^\/dev\/pts\/0$/m);
          tmux('resize-window', '-x', '100', '-y', '30');
          await new Promise((r) => setTimeout(r, 300));
          tmux('send-keys', 'stty size', 'Enter');
          await waitFor(/^30 100$/m);
          tmux('send-keys', 'exit', 'Enter');
          // The session ends when den does: after it cleaned up.
          for (let i = 0; i < 100 && tmux('has-session').status === 0; i++)
            await new Promise((r) => setTimeout(r, 100));
          assert.notEqual(tmux('has-session').status, 0, 'den exited with the shell');
          assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
        } finally {
          tmux('kill-server');
        }
      },
    );

    test('SIGTERM to den reaches the container', { timeout: 60_000 }, async () => {
      const child = env.spawnDen([
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done',
      ]);
      let out = '';
      child.stdout!.setEncoding('utf8');
      await new Promise<void>((resolve) =>
        child.stdout!.on('data', (d: string) => {
          out += d;
          if (out.includes('ready')) resolve();
        }),
      );
      child.kill('SIGTERM');
      const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      assert.match(out, /got-term/);
      assert.equal(status, 7);
    });

    test('--rm leaves nothing: no mount, process, state row, runtime file or directory', () => {
      const r = env.den(['run', '--rm', '--name', 'gone', 'busybox', 'sh', '-c', 'echo hi > /tmp/x']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
      assert.deepEqual(env.containerDirs(), []);
      assert.deepEqual(env.mountsUnderRoot(), []);
      assert.deepEqual(env.strayProcesses(), []);
      const crunState = join(env.runtimeDir, 'crun');
      assert.deepEqual(existsSync(crunState) ? readdirSync(crunState) : [], []);
    });

    test('nothing stays mounted after a container, whether its command ran or could not start, with --rm or not', () => {
      for (const [cmd, status] of [
        [['sh', '-c', 'echo x > /x'], 0],
        [['no-such-command'], 127],
      ] as const) {
        const rm = env.den(['run', '--rm', 'busybox', ...cmd]);
        assert.equal(rm.status, status, rm.stderr);
        assert.deepEqual(env.mountsUnderRoot(), [], `--rm ${cmd.join(' ')}`);
        assert.deepEqual(env.containerDirs(), [], `--rm ${cmd.join(' ')}`);
        const kept = env.den(['run', '--name', 'kept', 'busybox', ...cmd]);
        assert.equal(kept.status, status, kept.stderr);
        assert.deepEqual(env.mountsUnderRoot(), [], cmd.join(' '));
        assert.equal(env.den(['rm', 'kept']).status, 0);
        assert.deepEqual(env.containerDirs(), [], cmd.join(' '));
      }
    });

    test('ps, inspect and rm track a container that exited', () => {
      const data = join(env.root, 'kept-data');
      mkdirSync(data);
      chownSync(data, env.user.uid, env.user.gid);
      const r = env.den(['run', '--name', 'kept', '-v', `${data}:/data:ro`, 'busybox', 'sh', '-c', 'exit 3']);
      assert.equal(r.status, 3);
      assert.equal(env.den(['ps', '-q']).stdout, '', 'not running');
      const all = env.den(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout;
      assert.match(all, /^kept Exited \(3\)/m);
      // --format is Go's text/template with docker's functions and table headers.
      const table = env.den(['ps', '-a', '--format', 'table {{.ID}}\\t{{.Names}}']).stdout;
      assert.match(table, /^CONTAINER ID   NAMES\n[0-9a-f]{12}   kept\n$/);
      const mounts = env.den([
        'inspect',
        '-f',
        '{{range .Mounts}}{{.Source}} -> {{.Destination}} {{.RW}};{{end}}',
        'kept',
      ]);
      assert.equal(mounts.stdout, `${data} -> /data false;\n`, mounts.stderr);
      const state = env.den([
        'inspect',
        '-f',
        '{{if eq .State.Status "exited"}}{{.State.ExitCode}}{{end}} {{json .Config.Cmd}}',
        'kept',
      ]);
      assert.equal(state.stdout, '3 ["sh","-c","exit 3"]\n', state.stderr);
      // docker's CLI fails with 1 for what is not a flag error (run and create with 125).
      for (const args of [
        ['ps', '-a', '--format', '{{range .Names}}'],
        ['ps', '-a', '--format', '{{nosuch .ID}}'],
        ['inspect', '-f', '{{.Nope}}', 'kept'],
      ]) {
        const bad = env.den(args);
        assert.equal(bad.status, 1, `${args.join(' ')}: ${bad.stderr}`);
        assert.equal(bad.stdout, '', args.join(' '));
        assert.match(bad.stderr, /^Error: template parsing error: template ".*" at 1:\d+: /, args.join(' '));
      }
      const info = JSON.parse(env.den(['inspect', 'kept']).stdout) as { State: { ExitCode: number; Status: string } }[];
      assert.equal(info[0]!.State.ExitCode, 3);
      assert.equal(info[0]!.State.Status, 'exited');
      assert.deepEqual(env.mountsUnderRoot(), [], 'an exited container holds no mount');
      assert.equal(env.den(['rm', 'kept']).status, 0);
      assert.equal(env.den(['inspect', 'kept']).status, 1);
      assert.deepEqual(env.containerDirs(), []);
    });

    test('rm refuses a running container without -f, and -f kills it', { timeout: 60_000 }, async () => {
      const child = env.spawnDen(['run', '--name', 'busy', 'busybox', 'sh', '-c', 'echo ready; sleep 60']);
      child.stdout!.setEncoding('utf8');
      await new Promise<void>((resolve) => child.stdout!.on('data', (d: string) => d.includes('ready') && resolve()));
      const refused = env.den(['rm', 'busy']);
      assert.equal(refused.status, 1, 'docker rm exits 1 when it fails');
      assert.match(refused.stderr, /container is running/);
      assert.match(env.den(['ps', '--format', '{{.Names}}']).stdout, /busy/);
      const forced = env.den(['rm', '-f', 'busy']);
      assert.equal(forced.status, 0, forced.stderr);
      await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
      assert.deepEqual(env.mountsUnderRoot(), []);
      assert.deepEqual(env.strayProcesses(), []);
    });

    test('options reach the container: env, env-file, workdir, user, hostname, entrypoint, read-only', () => {
      const envFile = join(env.root, 'env.list');
      spawnSync('sh', ['-c', `printf '# comment\\nFROM_FILE=yes\\n\\n' > ${envFile}; chmod 644 ${envFile}`]);
      const r = env.den([
        'run',
        '--rm',
        '-e',
        'A=1',
        '--env-file',
        envFile,
        '-w',
        '/tmp',
        '-u',
        'user',
        '--hostname',
        'box',
        '--entrypoint',
        '/bin/sh',
        'busybox',
        '-c',
        'echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname) $HOME',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), '1 yes /tmp 1000:1000 box /home/user');
      const ro = env.den(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
      assert.notEqual(ro.status, 0);
      assert.match(ro.stderr, /Read-only file system/);
    });

    test('the session survives den exiting, and is recreated cleanly when its process died', () => {
      assert.equal(env.den(['run', '--rm', 'busybox', 'true']).status, 0);
      const first = env.sessionPid();
      assert.ok(first !== undefined, 'a session outlives the command that made it');
      assert.equal(env.den(['run', '--rm', 'busybox', 'true']).status, 0);
      assert.equal(env.sessionPid(), first, 'later commands enter the same session');
      process.kill(first, 'SIGKILL');
      const r = env.den(['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map | wc -l']);
      assert.equal(r.status, 0, r.stderr);
      const ranges = readFileSync('/etc/subuid', 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${env.user.name}:`)).length;
      assert.equal(r.stdout.trim(), String(1 + ranges), 'the caller, then each subordinate range');
      const second = env.sessionPid();
      assert.ok(second !== undefined && second !== first, 'a new session replaced the dead one');
    });

    test('concurrent first commands create one session between them', { timeout: 60_000 }, async () => {
      const pid = env.sessionPid();
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      const runs = Array.from({ length: 4 }, () => env.spawnDen(['run', '--rm', 'busybox', 'true']));
      const statuses = await Promise.all(
        runs.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve))),
      );
      assert.deepEqual(statuses, [0, 0, 0, 0]);
      const sessions = env.livePauseProcesses();
      assert.equal(sessions.length, 1, `one live pause process for this environment, found ${sessions.join(' ')}`);
    });

    test('a file system mounted under a shared mount after the session began shows inside it', () => {
      // This host's / is private, so make a shared mount point of our own, start a new session, and
      // only then mount below it: the session (a slave of the host's mounts) must see it.
      const shared = join(env.root, 'shared-mount');
      const late = join(shared, 'late');
      mkdirSync(shared);
      const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      try {
        assert.equal(sh(`mount -t tmpfs -o size=1m tmpfs ${shared} && mount --make-shared ${shared}`).status, 0);
        const pid = env.sessionPid();
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        assert.equal(env.den(['unshare', 'true']).status, 0);
        const mounted = sh(`mkdir ${late} && mount -t tmpfs -o size=1m tmpfs ${late} && touch ${late}/marker`);
        assert.equal(mounted.status, 0, mounted.stderr);
        const r = env.den(['unshare', 'ls', late]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'marker', 'the mount made after the session began is not seen inside it');
      } finally {
        sh(`umount -l ${late}; umount -l ${shared}`);
        // The session keeps its copy of the shared mount (unmounting it on the host does not reach
        // the copy, only mounts below it do): the next command starts a new session.
        const pid = env.sessionPid();
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      }
    });

    test('den unshare runs a command as root in the session, where subordinate ids can be fixed', () => {
      const dir = join(env.root, 'owned');
      mkdirSync(dir);
      chownSync(dir, env.user.uid, env.user.gid);
      const r = env.den(['unshare', 'sh', '-c', `id -u; touch ${dir}/f; chown 1000:1000 ${dir}/f; exit 7`]);
      assert.equal(r.status, 7, r.stderr);
      assert.equal(r.stdout.trim(), '0');
      assert.equal(statSync(join(dir, 'f')).uid, subuidBase(env.user) + 999);
    });

    test('keep-id: the caller is the same inside, files in a volume stay theirs, image root stays root', () => {
      const vol = join(env.root, 'keep');
      mkdirSync(vol);
      chownSync(vol, env.user.uid, env.user.gid);
      const r = env.den([
        'run',
        '--rm',
        '--userns=keep-id',
        '-v',
        `${vol}:/data`,
        'busybox',
        'sh',
        '-c',
        'id -u; id -g; touch /data/mine; stat -c "%u:%g" /bin/busybox /home/user',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [String(env.user.uid), String(env.user.gid), '0:0', '1000:1000']);
      assert.equal(statSync(join(vol, 'mine')).uid, env.user.uid);
      // keep-id:uid=1000 makes the image's user 1000 the caller: its home and what it writes are theirs.
      const as1000 = env.den([
        'run',
        '--rm',
        '--userns=keep-id:uid=1000,gid=1000',
        '-v',
        `${vol}:/data`,
        'busybox',
        'sh',
        '-c',
        'id -u; touch /home/user/x /data/from-1000',
      ]);
      assert.equal(as1000.status, 0, as1000.stderr);
      assert.equal(as1000.stdout.trim(), '1000');
      assert.equal(statSync(join(vol, 'from-1000')).uid, env.user.uid);
      assert.deepEqual(env.mountsUnderRoot(), [], 'the fuse-overlayfs mount is gone');
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
    });

    test('security defaults: no no-new-privileges, Docker capabilities, masked paths', () => {
      const r = env.den([
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        'grep -E "^(NoNewPrivs|CapBnd)" /proc/self/status; cat /proc/kcore | wc -c; ls /sys/firmware | wc -l',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /NoNewPrivs:\s+0/, 'opt-in, as in docker: setuid programs work');
      // Docker's 14 default capabilities: 0x00000000a80425fb.
      assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
      assert.match(r.stdout, /^0\n0$/m);
    });
  });

function inspectId(env: DenEnv, name: string): string {
  const r = env.den(['inspect', '--format', '{{.Id}}', name]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
