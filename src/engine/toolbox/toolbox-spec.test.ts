import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DenError } from '../../common/errors.js';
import {
  checkToolboxName,
  defaultToolboxName,
  resolveShare,
  setupCommand,
  SETUP_NO_SUDO,
  shareNames,
  toolboxWorkdir,
  type ToolboxUser,
} from './toolbox-spec.js';

const session = {
  HOME: '/home/ann',
  DISPLAY: ':0',
  XAUTHORITY: '/run/user/1000/gdm/Xauthority',
  WAYLAND_DISPLAY: 'wayland-0',
  XDG_RUNTIME_DIR: '/run/user/1000',
};
const everything = new Set([
  '/tmp/.X11-unix/X0',
  '/run/user/1000/gdm/Xauthority',
  '/run/user/1000/wayland-0',
  '/run/user/1000/pulse/native',
  '/run/user/1000/pipewire-0',
]);
const has = (paths: Set<string>) => (p: string) => paths.has(p);

test('resolveShare: nothing without a flag, each flag its own part, --gui what the session has', () => {
  assert.deepEqual(resolveShare({}, session, has(everything)), {});
  assert.deepEqual(resolveShare({ x11: true }, session, has(everything)), {
    x11: { display: ':0', xauthority: '/run/user/1000/gdm/Xauthority' },
  });
  assert.deepEqual(resolveShare({ wayland: true }, session, has(everything)), {
    wayland: { socket: '/run/user/1000/wayland-0' },
  });
  assert.deepEqual(resolveShare({ audio: true }, session, has(everything)), {
    pulse: { dir: '/run/user/1000/pulse' },
    pipewire: { socket: '/run/user/1000/pipewire-0' },
  });
  assert.deepEqual(shareNames(resolveShare({ gui: true }, session, has(everything))), [
    'x11',
    'wayland',
    'pulseaudio',
    'pipewire',
  ]);
  // --gui on an X session without sound: the display alone.
  assert.deepEqual(
    resolveShare({ gui: true }, { ...session, WAYLAND_DISPLAY: undefined }, has(new Set(['/tmp/.X11-unix/X0']))),
    {
      x11: { display: ':0' },
    },
  );
  // XAUTHORITY unset: ~/.Xauthority when it exists; a remote DISPLAY needs no socket.
  assert.deepEqual(
    resolveShare({ x11: true }, { HOME: '/home/ann', DISPLAY: 'host:1' }, has(new Set(['/home/ann/.Xauthority']))),
    { x11: { display: 'host:1', xauthority: '/home/ann/.Xauthority' } },
  );
  assert.deepEqual(resolveShare({ wayland: true }, { WAYLAND_DISPLAY: '/tmp/w' }, has(new Set(['/tmp/w']))), {
    wayland: { socket: '/tmp/w' },
  });
});

test('resolveShare: a flag whose part is missing is refused with what is missing', () => {
  const refused = (
    flags: Parameters<typeof resolveShare>[0],
    env: Record<string, string>,
    paths: string[],
    message: RegExp,
  ) =>
    assert.throws(
      () => resolveShare(flags, env, has(new Set(paths))),
      (e: unknown) => e instanceof DenError && e.code === 'DEN1353' && message.test(e.message) && e.hint !== undefined,
    );
  refused({ x11: true }, {}, [], /^--x11: DISPLAY is not set$/);
  refused({ x11: true }, { DISPLAY: ':3' }, [], /^--x11: DISPLAY=:3, but there is no \/tmp\/.X11-unix\/X3$/);
  refused({ wayland: true }, { WAYLAND_DISPLAY: 'wayland-0' }, [], /XDG_RUNTIME_DIR is not set/);
  refused({ wayland: true }, session, [], /no Wayland socket \/run\/user\/1000\/wayland-0/);
  refused({ audio: true }, session, [], /neither \/run\/user\/1000\/pulse\/native nor \/run\/user\/1000\/pipewire-0/);
  refused({ gui: true }, {}, [], /^--gui: your session has no display and no sound server/);
  // An explicit flag is refused even when --gui found something else.
  refused({ gui: true, audio: true }, session, ['/tmp/.X11-unix/X0'], /^--audio:/);
});

test('toolboxWorkdir: the current directory when it is in the home directory, else home', () => {
  const cases: [string | undefined, string, string][] = [
    ['/home/ann/src/den', '/home/ann', '/home/ann/src/den'],
    ['/home/ann', '/home/ann', '/home/ann'],
    ['/home/anna', '/home/ann', '/home/ann'],
    ['/etc', '/home/ann', '/home/ann'],
    [undefined, '/home/ann', '/home/ann'],
    ['/srv', '/', '/srv'],
  ];
  for (const [cwd, home, want] of cases) assert.equal(toolboxWorkdir(cwd, home), want, `${cwd} in ${home}`);
});

test('names: docker container names; the default from the image', () => {
  assert.equal(defaultToolboxName('debian:12'), 'debian-toolbox');
  assert.equal(defaultToolboxName('registry.example:5000/tools/fedora:40'), 'fedora-toolbox');
  assert.equal(defaultToolboxName('ubuntu@sha256:' + 'a'.repeat(64)), 'ubuntu-toolbox');
  assert.equal(checkToolboxName('dev.2_x-y'), 'dev.2_x-y');
  for (const bad of ['', '-x', 'a/b', 'a b', '.x']) {
    assert.throws(
      () => checkToolboxName(bad),
      (e: unknown) => e instanceof DenError && e.code === 'DEN1350',
    );
  }
});

/**
 * The setup script itself, run by sh on a root of files made here (its seventh argument), with a
 * PATH holding only the tools an image is expected to have (and sudo, or not).
 */
test('the setup script: the caller replaces an entry of the same name or uid, idempotently; sudoers; no sudo told', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-toolbox-setup-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'bin', 'bash'), '');
    spawnSync('chmod', ['755', join(root, 'bin', 'bash')]);
    writeFileSync(
      join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/bash\nubuntu:x:4242:4242::/home/ubuntu:/bin/bash\nann:x:77:77::/old:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nubuntu:x:4242:\n');
    writeFileSync(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\nann:!:19000::::::\n');
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    for (const tool of ['awk', 'cat', 'rm', 'mkdir', 'chown', 'chmod']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(tools, tool));
    }
    const uid = process.getuid!();
    const gid = process.getgid!();
    const user: ToolboxUser = {
      name: 'ann',
      uid: 4242,
      gid: 4242,
      group: 'ann',
      home: '/home/ann',
      shell: '/usr/bin/zsh',
    };
    const run = (u: ToolboxUser) => {
      const [sh, ...args] = setupCommand(u);
      return spawnSync(sh!, [...args, root], { encoding: 'utf8', env: { PATH: tools } });
    };
    // The ids chown gives /run/user/UID must be this process's own unless it is root.
    const me = uid === 0 ? user : { ...user, uid, gid };
    const first = run(me);
    assert.equal(first.status, SETUP_NO_SUDO, first.stderr);
    const passwd = () => readFileSync(join(root, 'etc', 'passwd'), 'utf8');
    const expected = (u: ToolboxUser) =>
      `root:x:0:0:root:/root:/bin/bash\n${u.uid === 4242 ? '' : 'ubuntu:x:4242:4242::/home/ubuntu:/bin/bash\n'}ann:x:${u.uid}:${u.gid}:ann:/home/ann:/bin/bash\n`;
    // zsh is not in the image: bash instead; the old ann and (at 4242) ubuntu are gone.
    assert.equal(passwd(), expected(me));
    assert.equal(readFileSync(join(root, 'etc', 'shadow'), 'utf8'), 'root:*:19000:0:99999:7:::\nann:*:::::::\n');
    const group = readFileSync(join(root, 'etc', 'group'), 'utf8');
    // A group with the gid already there (ubuntu, at 4242) is the user's; otherwise ann's is added.
    assert.equal(
      group,
      me.gid === 4242 ? 'root:x:0:\nubuntu:x:4242:\n' : `root:x:0:\nubuntu:x:4242:\nann:x:${me.gid}:\n`,
    );
    const sudoers = join(root, 'etc', 'sudoers.d', 'den-toolbox');
    assert.equal(readFileSync(sudoers, 'utf8'), 'ann ALL=(ALL) NOPASSWD: ALL\n');
    assert.equal(statSync(sudoers).mode & 0o777, 0o440);
    const runtime = statSync(join(root, 'run', 'user', String(me.uid)));
    assert.deepEqual([runtime.uid, runtime.gid, runtime.mode & 0o777], [me.uid, me.gid, 0o700]);
    // Again, with sudo in the image: the same files, and success.
    writeFileSync(join(tools, 'sudo'), '');
    spawnSync('chmod', ['755', join(tools, 'sudo')]);
    const second = run(me);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(passwd(), expected(me));
    assert.equal(readFileSync(join(root, 'etc', 'shadow'), 'utf8'), 'root:*:19000:0:99999:7:::\nann:*:::::::\n');
    // A name with shell text in it stays data.
    const odd = run({ ...me, name: 'x$(touch pwned)', group: 'g;touch pwned' });
    assert.equal(odd.status, 0, odd.stderr);
    assert.equal(spawnSync('sh', ['-c', `ls ${dir} ${root}`], { encoding: 'utf8' }).stdout.includes('pwned'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
