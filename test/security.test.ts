import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/**
 * A container's confinement, rootless and as root: docker's defaults (no no-new-privileges, so
 * setuid programs work), --security-opt, --cap-add and --cap-drop, --privileged as podman has it
 * rootless, --group-add, and bad values refused with 125 before anything is made.
 */
const DEFAULT_CAPS = 0xa80425fbn; // docker's 14
const CAP_CHOWN = 1n << 0n;
const CAP_NET_ADMIN = 1n << 12n;

function status(text: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(text);
  assert.ok(m, `${field} in ${text}`);
  return m[1]!;
}

/** den's own bounding set: the test runs den from this process's, through setpriv rootless. */
const OWN_BOUNDING = BigInt(`0x${status(readFileSync('/proc/self/status', 'utf8'), 'CapBnd')}`);

for (const user of ['dentest', 'root']) {
  describe(`container security options (${user === 'root' ? 'root' : 'rootless'})`, () => {
    let env: DenEnv;
    before(() => {
      env = user === 'root' ? new DenEnv('root') : new DenEnv();
      const r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => env.cleanup());

    const run = (flags: string[], script: string) => {
      const r = env.den(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
      return r;
    };
    const proc = (flags: string[]) => {
      const r = run(flags, 'cat /proc/self/status');
      assert.equal(r.status, 0, r.stderr);
      return {
        nnp: status(r.stdout, 'NoNewPrivs'),
        capEff: BigInt(`0x${status(r.stdout, 'CapEff')}`),
        seccomp: status(r.stdout, 'Seccomp'),
      };
    };

    test('defaults: no no-new-privileges (setuid programs work), docker capabilities, seccomp', () => {
      const d = proc([]);
      assert.equal(d.nnp, '0', 'no-new-privileges is opt-in, as in docker and podman');
      assert.equal(d.capEff, DEFAULT_CAPS);
      assert.equal(d.seccomp, '2', 'the distribution seccomp profile filters');
      assert.equal(proc(['--security-opt', 'no-new-privileges']).nnp, '1');
      assert.equal(proc(['--security-opt', 'no-new-privileges=true']).nnp, '1');
      assert.equal(proc(['--security-opt', 'no-new-privileges:true']).nnp, '1', "older docker's form");
      assert.equal(proc(['--security-opt', 'no-new-privileges=false']).nnp, '0');
    });

    test('--cap-drop ALL makes chown fail; --cap-add gives back one, or adds one docker leaves out', () => {
      const none = run(['--cap-drop', 'ALL'], 'grep CapEff /proc/self/status; touch /tmp/f; chown 1000 /tmp/f');
      assert.notEqual(none.status, 0);
      assert.match(none.stderr, /chown.*Operation not permitted/);
      assert.match(none.stdout, /CapEff:\s+0000000000000000/);
      const chown = run(
        ['--cap-drop', 'all', '--cap-add', 'chown'],
        'touch /tmp/f; chown 1000 /tmp/f; stat -c %u /tmp/f',
      );
      assert.equal(chown.status, 0, chown.stderr);
      assert.equal(chown.stdout.trim(), '1000');
      assert.equal(proc(['--cap-drop', 'ALL', '--cap-add', 'CAP_CHOWN']).capEff, CAP_CHOWN);
      assert.equal(proc(['--cap-add', 'NET_ADMIN']).capEff, DEFAULT_CAPS | CAP_NET_ADMIN);
      assert.equal(
        proc(['--cap-add', 'net_admin', '--cap-drop', 'chown']).capEff,
        (DEFAULT_CAPS | CAP_NET_ADMIN) & ~CAP_CHOWN,
      );
    });

    test('--privileged: every capability den holds, no seccomp, nothing masked, the host devices one can open', () => {
      const r = run(
        ['--privileged'],
        'grep -E "^(CapEff|Seccomp):" /proc/self/status; head -c 10 /proc/interrupts | wc -c; ls /dev',
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(BigInt(`0x${status(r.stdout, 'CapEff')}`), OWN_BOUNDING);
      assert.equal(status(r.stdout, 'Seccomp'), '0');
      assert.match(r.stdout, /^10$/m, '/proc/interrupts is not masked');
      assert.match(r.stdout, /^fuse$/m, '/dev/fuse (mode 0666 on the host) is bound in');
      if (user === 'root') assert.match(r.stdout, /^loop0$/m, 'as root, every device');
      else assert.doesNotMatch(r.stdout, /^loop0$/m, "rootless, not a device the caller can't open");
      const masked = run([], 'head -c 10 /proc/interrupts | wc -c; ls /dev');
      assert.match(masked.stdout, /^0$/m, 'masked by default');
      assert.doesNotMatch(masked.stdout, /^fuse$/m);
    });

    test('--security-opt seccomp=PROFILE.json filters with that profile; seccomp=unconfined none', () => {
      const profile = join(env.root, 'no-mkdir.json');
      writeFileSync(
        profile,
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
        }),
      );
      const r = run(['--security-opt', `seccomp=${profile}`], 'mkdir /tmp/d');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Operation not permitted/);
      assert.equal(proc(['--security-opt', 'seccomp=unconfined']).seccomp, '0');
      // No SELinux or AppArmor here: accepted, and nothing changes.
      const ok = run(['--security-opt', 'label=disable', '--security-opt', 'apparmor=unconfined'], 'mkdir /tmp/d');
      assert.equal(ok.status, 0, ok.stderr);
    });

    test('--group-add: a group of the image and a gid show in id', () => {
      const r = run(['--group-add', 'tty', '--group-add', '1234'], 'id -G');
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split(' ').map(Number), [0, 5, 1234]);
      if (user === 'root') {
        const keep = run(['--group-add', 'keep-groups'], 'id -G');
        assert.equal(keep.status, 125);
        assert.match(keep.stderr, /--group-add keep-groups is for rootless den/);
      } else {
        // The caller's own groups stay (crun's annotation); the caller's gid is the session's 0.
        const keep = run(['--group-add', 'keep-groups'], 'cat /proc/self/status');
        assert.equal(keep.status, 0, keep.stderr);
        assert.match(keep.stdout, /^Groups:\t0 ?$/m);
        assert.match(run([], 'cat /proc/self/status').stdout, /^Groups:\t ?$/m, 'without it, no groups');
      }
    });

    test('inspect shows the flags in HostConfig, as docker does', () => {
      const c = env.den([
        'create',
        '--name',
        'secured',
        '--cap-add',
        'NET_ADMIN',
        '--cap-drop',
        'MKNOD',
        '--security-opt',
        'no-new-privileges',
        '--group-add',
        'tty',
        'busybox',
        'true',
      ]);
      assert.equal(c.status, 0, c.stderr);
      const f =
        '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.Privileged}} {{json .HostConfig.SecurityOpt}} {{json .HostConfig.GroupAdd}}';
      assert.equal(
        env.den(['inspect', '-f', f, 'secured']).stdout.trim(),
        '["NET_ADMIN"] ["MKNOD"] false ["no-new-privileges"] ["tty"]',
      );
      assert.equal(env.den(['create', '--name', 'plain', '--privileged', 'busybox', 'true']).status, 0);
      assert.equal(env.den(['inspect', '-f', f, 'plain']).stdout.trim(), 'null null true null null');
      assert.equal(env.den(['rm', 'secured', 'plain']).status, 0);
    });

    test('bad values are refused with 125, and nothing is created', () => {
      writeFileSync(join(env.root, 'not-a-profile.json'), '{"syscalls": []}');
      for (const [flags, message] of [
        [['--cap-add', 'FLY'], /--cap-add FLY: unknown capability/],
        [['--cap-drop', 'CAP_NOPE'], /--cap-drop CAP_NOPE: unknown capability/],
        [['--security-opt', 'sandbox=on'], /--security-opt sandbox=on: unknown option/],
        [['--security-opt', 'no-new-privileges=maybe'], /expected true or false/],
        [['--security-opt', 'seccomp=/nonexistent.json'], /cannot read the profile/],
        [['--security-opt', `seccomp=${join(env.root, 'not-a-profile.json')}`], /not a seccomp profile/],
        [['--security-opt', 'label=sideways'], /expected label=disable/],
        [['--group-add', 'wheel'], /--group-add wheel: no such group in the image's \/etc\/group/],
        [['--group-add', 'keep-groups', '--group-add', 'tty'], /keep-groups cannot be combined/],
      ] as const) {
        const r = env.den(['run', '--rm', ...flags, 'busybox', 'true']);
        assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      if (user === 'root') {
        // This machine's root lacks CAP_SYS_RESOURCE: no container can have it.
        const r = env.den(['run', '--rm', '--cap-add', 'SYS_RESOURCE', 'busybox', 'true']);
        assert.equal(r.status, 125, r.stderr);
        assert.match(r.stderr, /den itself does not hold CAP_SYS_RESOURCE/);
      }
      assert.equal(env.den(['ps', '-a', '-q']).stdout, '');
      assert.deepEqual(env.containerDirs(), []);
    });
  });
}
