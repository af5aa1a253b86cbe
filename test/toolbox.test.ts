/**
 * `den toolbox` as the test user: a toolbox made from a Debian image that den itself builds
 * (`den run` of Debian minbase that apt-installs sudo, x11-apps and pulseaudio-utils, then
 * `den commit`), where `sudo id` is root, files written in the home directory are the caller's,
 * the shell starts where the caller is, a GUI program draws a window on an Xvfb display the test
 * starts (checked in a screenshot taken with xwd, and in the X server's window tree), and a sound
 * client reaches a PulseAudio server the test starts for the user. Nothing of the session is
 * shared without the flags.
 *
 * Host packages (scripts/setup-host.sh --test-user): xvfb, x11-apps (xwd), x11-utils (xwininfo),
 * xauth, pulseaudio, pulseaudio-utils, debootstrap. The Debian root file system is the bench's
 * (/var/tmp/den-bench), or made here once with debootstrap; the built toolbox image is kept as a
 * `den save` archive in /var/tmp/den-test-cache, so later runs skip the apt-get (about 50 s).
 * Both need the Debian mirror the first time.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from 'node:net';
import { busyboxTarball, DenEnv, type Result } from './harness.js';

const CACHE = '/var/tmp/den-test-cache';
const BENCH_DEBIAN = '/var/tmp/den-bench/debian-bookworm-minbase.tar';
const IMAGE = 'den-test/toolbox:1';
/** What the toolbox image adds to Debian minbase: sudo, a GUI program (xlogo) and a sound client. */
const PACKAGES = ['sudo', 'x11-apps', 'pulseaudio-utils'];

function ok(r: Result, what: string): Result {
  assert.equal(r.status, 0, `${what}: status ${r.status}\n${r.stderr}${r.stdout}`);
  return r;
}

function sh(argv: string[], what: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
}

/** Debian minbase as a tarball: the bench's, or one made here with debootstrap and kept. */
function debianTarball(): string {
  if (existsSync(BENCH_DEBIAN)) return BENCH_DEBIAN;
  const cached = join(CACHE, 'debian-bookworm-minbase.tar');
  if (existsSync(cached)) return cached;
  mkdirSync(CACHE, { recursive: true, mode: 0o755 });
  const root = mkdtempSync(join(CACHE, 'root-'));
  chmodSync(root, 0o755); // a 0700 root would shut every non-root user of the image out of /
  try {
    sh(['debootstrap', '--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian'], 'debootstrap');
    sh(['tar', '-C', root, '--numeric-owner', '-cf', `${cached}.tmp`, '.'], 'tar the Debian root');
    renameSync(`${cached}.tmp`, cached);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return cached;
}

/**
 * The toolbox image in `env`'s store: loaded from the cache, or built with den (run, apt-get,
 * commit) and saved to the cache.
 */
function toolboxImage(env: DenEnv): void {
  const archive = join(CACHE, 'toolbox-image.tar');
  if (existsSync(archive)) {
    ok(env.den(['load', '-i', archive]), 'den load of the cached toolbox image');
    return;
  }
  const debian = debianTarball();
  ok(env.den(['import', debian, 'den-test/debian:12'], { timeoutMs: 300_000 }), 'den import of Debian');
  const install = `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PACKAGES.join(' ')} > /dev/null`;
  ok(
    env.den(['run', '--name', 'build', 'den-test/debian:12', 'sh', '-c', install], { timeoutMs: 600_000 }),
    'apt-get install in a den container',
  );
  ok(env.den(['commit', 'build', IMAGE]), 'den commit');
  ok(env.den(['rm', 'build']), 'den rm build');
  mkdirSync(CACHE, { recursive: true, mode: 0o755 });
  const tmp = `${archive}.${process.pid}.tmp`;
  const out = join(env.home, 'toolbox-image.tar');
  ok(env.den(['save', '-o', out, IMAGE], { timeoutMs: 300_000 }), 'den save');
  sh(['cp', out, tmp], 'copy the saved image');
  renameSync(tmp, archive);
  rmSync(out);
}

/** A display number no X server uses. */
function freeDisplay(): number {
  for (let n = 90; n < 200; n++) {
    if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  }
  throw new Error('no free X display between :90 and :199');
}

/** Waits until `check` holds, or fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * An X screenshot as xwd writes it (X11's XWD format, version 7): the header's fields are 32-bit
 * big-endian words; the pixels follow the window name and the colour map.
 */
function xwdPixels(data: Buffer): { width: number; height: number; pixel: (x: number, y: number) => number } {
  const field = (i: number) => data.readUInt32BE(i * 4);
  const headerSize = field(0);
  const width = field(4);
  const height = field(5);
  const littleEndian = field(7) === 0; // byte_order: 0 LSBFirst
  const bitsPerPixel = field(11);
  const bytesPerLine = field(12);
  const ncolors = field(19);
  assert.equal(bitsPerPixel, 32, 'the test screen is 24-bit, stored 32 bits per pixel');
  const start = headerSize + ncolors * 12;
  return {
    width,
    height,
    pixel: (x, y) => {
      const at = start + y * bytesPerLine + x * 4;
      return (littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at)) & 0xffffff;
    },
  };
}

describe('den toolbox (rootless)', () => {
  let env: DenEnv;
  let display: number;
  let xvfb: ChildProcess | undefined;
  let pulse: ChildProcess | undefined;
  // Where a display manager such as gdm keeps it: outside the home directory, so a toolbox needs it bound.
  const xauthority = () => join(env.runtimeBase, 'gdm', 'Xauthority');
  let standIns: Server[] = [];
  const heard: string[] = [];
  const runtimeDir = () => env.runtimeBase;
  /** The caller's session, as a desktop login would leave it in the environment. */
  const session = () => ({ DISPLAY: `:${display}`, XAUTHORITY: xauthority(), WAYLAND_DISPLAY: 'wayland-test' });

  before(async () => {
    env = new DenEnv();
    toolboxImage(env);
    // An X server for the user, with a cookie in their Xauthority, as a display manager starts one.
    display = freeDisplay();
    if (!existsSync('/tmp/.X11-unix')) {
      mkdirSync('/tmp/.X11-unix');
      chmodSync('/tmp/.X11-unix', 0o1777);
    }
    mkdirSync(join(env.runtimeBase, 'gdm'), { mode: 0o700 });
    chownSync(join(env.runtimeBase, 'gdm'), env.user.uid, env.user.gid);
    const cookie = randomBytes(16).toString('hex');
    ok(env.exec(['xauth', '-f', xauthority(), 'add', `:${display}`, '.', cookie]), 'xauth add');
    const [xfile, ...xargs] = env.wrap([
      'Xvfb',
      `:${display}`,
      '-screen',
      '0',
      '320x240x24',
      '-br',
      '-auth',
      xauthority(),
      '-nolisten',
      'tcp',
    ]);
    xvfb = spawn(xfile!, xargs, { stdio: 'ignore' });
    await until(() => existsSync(`/tmp/.X11-unix/X${display}`), 10_000, 'Xvfb');
    // A PulseAudio server for the user, with one null sink, its socket in XDG_RUNTIME_DIR/pulse.
    const [pfile, ...pargs] = env.wrap([
      'pulseaudio',
      '--daemonize=no',
      '-n',
      '--exit-idle-time=-1',
      '--disable-shm=yes',
      '--load=module-native-protocol-unix',
      '--load=module-null-sink sink_name=den_test_sink',
    ]);
    pulse = spawn(pfile!, pargs, { stdio: 'ignore' });
    await until(() => existsSync(join(runtimeDir(), 'pulse', 'native')), 10_000, 'PulseAudio');
    // Stand-ins for a Wayland compositor and a PipeWire daemon (Debian 12 has no headless
    // compositor this set-up can start): sockets of the user's that note what a client writes.
    for (const name of ['wayland-test', 'pipewire-0']) {
      const path = join(runtimeDir(), name);
      const server = createServer((socket) => socket.on('data', (d) => heard.push(d.toString())));
      await new Promise<void>((resolve) => server.listen(path, resolve));
      chownSync(path, env.user.uid, env.user.gid);
      standIns.push(server);
    }
  });

  after(() => {
    for (const server of standIns) server.close();
    standIns = [];
    for (const child of [xvfb, pulse]) if (child?.pid !== undefined) child.kill('SIGKILL');
    env?.cleanup();
  });

  test('create: a running toolbox that ls lists, with no part of the session in it', () => {
    assert.equal(
      ok(env.den(['toolbox', 'create', '--image', IMAGE, 'plain'], { env: session() }), 'create').stdout,
      'plain\n',
    );
    const ls = ok(env.den(['toolbox', 'ls', '--format', '{{.Name}} {{.Status}} {{.Shares}} {{.User}}']), 'ls');
    assert.equal(ls.stdout, `plain running - ${env.user.name}\n`);
    // DISPLAY and WAYLAND_DISPLAY are set and every server runs, yet nothing of them is inside.
    const inside = ok(
      env.den(
        [
          'toolbox',
          'run',
          '-c',
          'plain',
          'sh',
          '-c',
          'echo "display=$DISPLAY pulse=$PULSE_SERVER wayland=$WAYLAND_DISPLAY pipewire=$PIPEWIRE_REMOTE"; ls -A /tmp/.X11-unix 2>/dev/null; ls -A "$XDG_RUNTIME_DIR"; pactl info > /dev/null 2>&1 || echo no sound server',
        ],
        { env: session() },
      ),
      'toolbox run',
    );
    assert.equal(inside.stdout, 'display= pulse= wayland= pipewire=\nno sound server\n');
  });

  test("sudo id is root, and files written in the home directory are the caller's", () => {
    const id = ok(env.den(['toolbox', 'run', '-c', 'plain', 'sudo', 'id']), 'sudo id');
    assert.match(id.stdout, /^uid=0\(root\) gid=0\(root\)/);
    const me = ok(env.den(['toolbox', 'run', '-c', 'plain', 'id']), 'id');
    assert.match(me.stdout, new RegExp(`^uid=${env.user.uid}\\(${env.user.name}\\) gid=${env.user.gid}\\(`));
    ok(
      env.den([
        'toolbox',
        'run',
        '-c',
        'plain',
        'sh',
        '-c',
        'echo made > "$HOME/made-inside" && mkdir "$HOME/dir-inside"',
      ]),
      'write in home',
    );
    for (const name of ['made-inside', 'dir-inside']) {
      const st = statSync(join(env.home, name));
      assert.equal(st.uid, env.user.uid, `${name}'s owner on the host`);
      assert.equal(st.gid, env.user.gid, `${name}'s group on the host`);
    }
    assert.equal(readFileSync(join(env.home, 'made-inside'), 'utf8'), 'made\n');
  });

  test('enter: the login shell starts where the caller is in the home directory, else at home', () => {
    const sub = join(env.home, 'project');
    mkdirSync(sub);
    chownSync(sub, env.user.uid, env.user.gid);
    const script = 'echo "$(id -un) $USER $HOME $(pwd) $0"\nexit 3\n';
    const inSub = env.den(['toolbox', 'enter', 'plain'], { cwd: sub, input: script });
    assert.equal(inSub.status, 3, inSub.stderr);
    const shell = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${env.user.name}:`))!
      .split(':')[6];
    assert.equal(inSub.stdout, `${env.user.name} ${env.user.name} ${env.home} ${sub} ${shell}\n`);
    const outside = env.den(['toolbox', 'enter', 'plain'], { cwd: '/', input: 'pwd\n' });
    assert.equal(outside.stdout, `${env.home}\n`, outside.stderr);
  });

  test('a stopped toolbox is started again by run', () => {
    ok(env.den(['stop', '-t', '1', 'plain']), 'stop');
    assert.equal(ok(env.den(['toolbox', 'run', '-c', 'plain', 'sudo', 'id', '-u']), 'run after stop').stdout, '0\n');
  });

  test("--x11: a GUI program in the toolbox draws a window on the caller's display", async () => {
    ok(env.den(['toolbox', 'create', '--image', IMAGE, '--x11', 'gui'], { env: session() }), 'create --x11');
    const app = env.spawnDen(['toolbox', 'run', '-c', 'gui', 'xlogo', '-geometry', '200x150+10+20'], {
      env: session(),
    });
    app.stdin?.end();
    const xenv = { ...process.env, DISPLAY: `:${display}`, XAUTHORITY: xauthority() };
    let tree = '';
    try {
      await until(
        () => {
          tree = spawnSync('xwininfo', ['-root', '-tree'], { env: xenv, encoding: 'utf8' }).stdout;
          return /"xlogo": \("xlogo" "XLogo"\)\s+200x150\+/.test(tree);
        },
        20_000,
        'the xlogo window',
      );
      await sleep(500); // drawn after it is mapped
      const shot = spawnSync('xwd', ['-root', '-silent'], { env: xenv, maxBuffer: 16 << 20 });
      assert.equal(shot.status, 0, shot.stderr?.toString());
      const img = xwdPixels(shot.stdout);
      assert.equal(img.width, 320);
      // The root window is one colour (black: -br); the window's rectangle is xlogo's white
      // background with its black logo: most of it must differ from the background, and nothing
      // more than the window's border away from it may.
      const background = img.pixel(img.width - 1, img.height - 1);
      let inWindow = 0;
      let differing = 0;
      let strayPixels = 0;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const differs = img.pixel(x, y) !== background;
          if (x >= 10 && x < 210 && y >= 20 && y < 170) {
            inWindow++;
            if (differs) differing++;
          } else if (differs && (x < 8 || x >= 212 || y < 18 || y >= 172)) {
            strayPixels++;
          }
        }
      }
      assert.equal(strayPixels, 0, 'pixels away from the window that are not the background');
      assert.ok(
        differing > inWindow / 2,
        `${differing} of ${inWindow} pixels of the window differ from the background`,
      );
    } finally {
      app.kill('SIGTERM');
      env.den(['toolbox', 'rm', '-f', 'gui']);
    }
    assert.equal(
      spawnSync('xwininfo', ['-root', '-tree'], { env: xenv, encoding: 'utf8' }).stdout.includes('"xlogo"'),
      false,
    );
  });

  test("--audio: a sound client in the toolbox reaches the caller's PulseAudio server", () => {
    ok(env.den(['toolbox', 'create', '--image', IMAGE, '--audio', 'sound']), 'create --audio');
    const sinks = ok(env.den(['toolbox', 'run', '-c', 'sound', 'pactl', 'list', 'short', 'sinks']), 'pactl');
    assert.match(sinks.stdout, /\bden_test_sink\b/);
    // A tenth of a second of silence, played through the server into the null sink.
    const rate = 8000;
    const samples = Buffer.alloc((rate / 10) * 2);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0);
    header.writeUInt32LE(36 + samples.length, 4);
    header.write('WAVEfmt ', 8);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(rate, 24);
    header.writeUInt32LE(rate * 2, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36);
    header.writeUInt32LE(samples.length, 40);
    const wav = join(env.home, 'silence.wav');
    writeFileSync(wav, Buffer.concat([header, samples]));
    chownSync(wav, env.user.uid, env.user.gid);
    ok(env.den(['toolbox', 'run', '-c', 'sound', 'paplay', '--device=den_test_sink', wav]), 'paplay');
    const ls = ok(env.den(['toolbox', 'ls', '--format', '{{.Name}} {{.Shares}}']), 'ls');
    assert.match(ls.stdout, /^sound pulseaudio,pipewire$/m);
  });

  test('--gui: the display, the Wayland socket, PulseAudio and PipeWire, in a runtime directory of their own', async () => {
    ok(env.den(['toolbox', 'create', '--image', IMAGE, '--gui', 'all'], { env: session() }), 'create --gui');
    try {
      const ls = ok(env.den(['toolbox', 'ls', '--format', '{{.Name}} {{.Shares}}']), 'ls');
      assert.match(ls.stdout, /^all x11,wayland,pulseaudio,pipewire$/m);
      const listing = ok(
        env.den(
          [
            'toolbox',
            'run',
            '-c',
            'all',
            'sh',
            '-c',
            'echo "$XDG_RUNTIME_DIR $WAYLAND_DISPLAY $PIPEWIRE_REMOTE $XAUTHORITY"; ls -A "$XDG_RUNTIME_DIR" | sort | tr "\\n" " "',
          ],
          { env: session() },
        ),
        'run',
      );
      const dir = `/run/user/${env.user.uid}`;
      assert.equal(
        listing.stdout,
        `${dir} wayland-test ${dir}/pipewire-0 ${dir}/Xauthority\nXauthority pipewire-0 pulse wayland-test `,
      );
      // A client inside reaches each stand-in through the socket shared with it.
      const send =
        'for my $p (@ARGV) { my $s = IO::Socket::UNIX->new(Peer => $p) or die "$p: $!\\n"; print $s "hello $p\\n"; close $s }';
      ok(
        env.den([
          'toolbox',
          'run',
          '-c',
          'all',
          'sh',
          '-c',
          'exec perl -MIO::Socket::UNIX -e "$0" "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" "$PIPEWIRE_REMOTE"',
          send,
        ]),
        'perl clients',
      );
      await until(() => heard.length >= 2, 5_000, 'the stand-ins to hear the clients');
      assert.deepEqual(heard.sort(), [`hello ${dir}/pipewire-0\n`, `hello ${dir}/wayland-test\n`]);
      ok(env.den(['toolbox', 'run', '-c', 'all', 'pactl', 'info']), 'pactl info');
    } finally {
      env.den(['toolbox', 'rm', '-f', 'all']);
    }
  });

  test('an image without sudo: create says so, and the toolbox is yours all the same', () => {
    ok(env.den(['import', busyboxTarball(), 'busybox']), 'import busybox');
    const made = ok(env.den(['toolbox', 'create', '--image', 'busybox', 'bb']), 'create');
    assert.match(
      made.stderr,
      /warning: toolbox bb: the image busybox has no sudo, so you cannot become root inside; install it as root: den exec -u 0 bb/,
    );
    // Its shell is not the caller's bash (busybox has none): sh instead.
    const me = ok(env.den(['toolbox', 'enter', 'bb'], { input: 'id -un; echo $0\n' }), 'enter');
    assert.equal(me.stdout, `${env.user.name}\n/bin/sh\n`);
    ok(env.den(['toolbox', 'rm', '-f', 'bb']), 'rm');
  });

  test('a home directory closed to others (0700, as many distributions make it) works the same', () => {
    chmodSync(env.home, 0o700);
    try {
      ok(env.den(['toolbox', 'create', '--image', IMAGE, 'closed']), 'create');
      const r = ok(
        env.den(['toolbox', 'run', '-c', 'closed', 'sh', '-c', 'sudo id -u && echo x > "$HOME/closed-ok"']),
        'run',
      );
      assert.equal(r.stdout, '0\n');
      assert.equal(statSync(join(env.home, 'closed-ok')).uid, env.user.uid);
      ok(env.den(['toolbox', 'rm', '-f', 'closed']), 'rm');
    } finally {
      chmodSync(env.home, 0o755);
    }
  });

  test('refusals: a flag whose server is missing, a container that is not a toolbox, a name in use', () => {
    const noDisplay = env.den(['toolbox', 'create', '--image', IMAGE, '--x11', 'nox']);
    assert.equal(noDisplay.status, 1);
    assert.match(noDisplay.stderr, /--x11: DISPLAY is not set/);
    const noServer = env.den(['toolbox', 'create', '--image', IMAGE, '--wayland', 'nowayland']);
    assert.equal(noServer.status, 1);
    assert.match(noServer.stderr, /--wayland: WAYLAND_DISPLAY is not set/);
    ok(env.den(['create', '--name', 'other', IMAGE, 'true']), 'den create');
    const notToolbox = env.den(['toolbox', 'rm', 'other']);
    assert.equal(notToolbox.status, 1);
    assert.match(notToolbox.stderr, /container other is not a toolbox/);
    const taken = env.den(['toolbox', 'create', '--image', IMAGE, 'other']);
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /a container named "other" already exists/);
    const missing = env.den(['toolbox', 'enter', 'nosuch']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /toolbox nosuch: no such toolbox/);
    // Nothing was left of the refused ones.
    assert.equal(
      ok(env.den(['ps', '-a', '--format', '{{.Names}}']), 'ps')
        .stdout.split('\n')
        .filter(Boolean)
        .sort()
        .join(' '),
      'other plain sound',
    );
  });

  test('rm: a running toolbox needs -f; the home directory stays', () => {
    const running = env.den(['toolbox', 'rm', 'sound']);
    assert.equal(running.status, 1);
    assert.match(running.stderr, /container is running/);
    assert.equal(ok(env.den(['toolbox', 'rm', '-f', 'sound', 'plain']), 'rm -f').stdout, 'sound\nplain\n');
    assert.equal(ok(env.den(['toolbox', 'ls', '-q']), 'ls').stdout, '');
    assert.ok(existsSync(join(env.home, 'made-inside')));
  });
});

describe('den toolbox as root', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv('root');
    toolboxImage(env);
  });
  after(() => env?.cleanup());

  test("root's toolbox: root inside, in an isolated range; files in the home directory stay root's", () => {
    ok(env.den(['toolbox', 'create', '--image', IMAGE, 'rt']), 'create');
    const id = ok(
      env.den(['toolbox', 'run', '-c', 'rt', 'sh', '-c', 'id -u; echo made > "$HOME/made-by-root"']),
      'run',
    );
    assert.equal(id.stdout, '0\n');
    const st = statSync(join(env.home, 'made-by-root'));
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    const pid = ok(env.den(['inspect', 'rt', '--format', '{{.State.Pid}}']), 'inspect').stdout.trim();
    const [inside, outside] = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(inside, 0);
    assert.notEqual(outside, 0, "container root is not the host's root");
    ok(env.den(['toolbox', 'rm', '-f', 'rt']), 'rm');
  });
});
