import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv } from './harness.js';

/**
 * Volumes and mounts (docs/volumes.md), rootless and as root: who owns on the host what a
 * container writes into a bind mount and a named volume, for every user namespace mode (the
 * table below); volumes shared by containers of different ranges; :idmap; anonymous volumes from
 * the image's VOLUME, filled once; den volume's verbs; --mount, --tmpfs, --shm-size, --device,
 * --volumes-from; and bad input refused before anything is made.
 */

/**
 * Where a file the container writes lands, by owner on the host:
 *   caller  the caller's own uid
 *   same    the id the container wrote it as (files keep their real owners: idmapped, as root)
 *   mapped  the container's id through the container's own maps (its range, or the session's)
 *   session the container's id through the session's mapping: canonical, as a default container writes it
 *   denied  the container cannot write there
 */
type Owner = 'caller' | 'same' | 'mapped' | 'session' | 'denied';
interface Row {
  mode: string;
  flags: string[];
  /** DEN_IDMAP_HELPER_DIR='' : den without den-idmap. */
  noHelper?: boolean;
  bind: { root: Owner; u1000: Owner };
  volume: { root: Owner; u1000: Owner };
}

// The bind source is the caller's directory, mode 0777; the volume is new, its root the container
// root's with mode 0755 (docker's), so that only root may write there.
const ROOTLESS: Row[] = [
  {
    mode: 'default',
    flags: [],
    bind: { root: 'caller', u1000: 'mapped' },
    volume: { root: 'caller', u1000: 'denied' },
  },
  {
    mode: 'host',
    flags: ['--userns=host'],
    bind: { root: 'caller', u1000: 'mapped' },
    volume: { root: 'caller', u1000: 'denied' },
  },
  {
    mode: 'keep-id',
    flags: ['--userns=keep-id', '-u', '0'],
    bind: { root: 'mapped', u1000: 'mapped' },
    volume: { root: 'mapped', u1000: 'denied' },
  },
  {
    mode: 'auto (den-idmap)',
    flags: ['--userns=auto'],
    bind: { root: 'caller', u1000: 'session' },
    volume: { root: 'caller', u1000: 'denied' },
  },
  {
    mode: 'explicit (den-idmap)',
    flags: ['--uidmap', '0:1:65536', '--gidmap', '0:1:65536'],
    bind: { root: 'caller', u1000: 'session' },
    volume: { root: 'caller', u1000: 'denied' },
  },
  {
    mode: 'auto, without den-idmap',
    flags: ['--userns=auto'],
    noHelper: true,
    bind: { root: 'mapped', u1000: 'mapped' },
    volume: { root: 'mapped', u1000: 'denied' },
  },
  {
    mode: 'explicit, without den-idmap',
    flags: ['--uidmap', '0:1:65536', '--gidmap', '0:1:65536'],
    noHelper: true,
    bind: { root: 'mapped', u1000: 'mapped' },
    volume: { root: 'mapped', u1000: 'denied' },
  },
];

const ROOT: Row[] = [
  {
    mode: 'auto (default)',
    flags: [],
    bind: { root: 'same', u1000: 'same' },
    volume: { root: 'same', u1000: 'denied' },
  },
  {
    mode: 'auto, :idmap=false',
    flags: ['--userns=auto'],
    bind: { root: 'mapped', u1000: 'mapped' },
    volume: { root: 'same', u1000: 'denied' },
  },
  {
    mode: 'host',
    flags: ['--userns=host'],
    bind: { root: 'same', u1000: 'same' },
    volume: { root: 'same', u1000: 'denied' },
  },
  {
    mode: 'explicit',
    flags: ['--uidmap', '0:300000:65536', '--gidmap', '0:300000:65536'],
    bind: { root: 'same', u1000: 'same' },
    volume: { root: 'same', u1000: 'denied' },
  },
];

/** "c:h:s" extents (inspect's IDMappings, or a uid_map's "c h s" lines) as a lookup. */
function mapper(extents: string[]): (id: number) => number | undefined {
  const parsed = extents.map(
    (e) =>
      e
        .trim()
        .split(/[:\s]+/)
        .map(Number) as [number, number, number],
  );
  return (id) => {
    for (const [c, h, s] of parsed) if (id >= c && id < c + s) return h + id - c;
    return undefined;
  };
}

for (const user of ['dentest', 'root']) {
  describe(`volumes and mounts (${user === 'root' ? 'root' : 'rootless'})`, () => {
    let env: DenEnv;
    const rootless = user !== 'root';
    before(() => {
      env = user === 'root' ? new DenEnv('root') : new DenEnv();
      const r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
    });
    after(() => {
      env.den(['rm', '-f', ...env.den(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
      assert.deepEqual(
        env.mountsUnderRoot().filter((m) => m.includes('/lower/') || m.includes('/volumes/')),
        [],
        'no mount of a volume or bind is left',
      );
      env.cleanup();
    });

    const ok = (args: string[], input?: string) => {
      const r = env.den(args, input !== undefined ? { input } : {});
      assert.equal(r.status, 0, `den ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    /** The host id of container id `id` in container `name`: its maps, then (rootless) the session's. */
    const hostIdOf = (name: string, id: number): number => {
      const maps = JSON.parse(ok(['inspect', '-f', '{{json .HostConfig.IDMappings}}', name])) as {
        UidMap: string[];
      } | null;
      const inner = maps ? mapper(maps.UidMap)(id) : id;
      assert.ok(inner !== undefined, `${name} maps ${id}`);
      if (!rootless) return inner;
      const session = readFileSync(`/proc/${env.sessionPid()}/uid_map`, 'utf8').trim().split('\n');
      const host = mapper(session)(inner);
      assert.ok(host !== undefined);
      return host;
    };

    /** The host id the session's mapping gives `id` (canonical, rootless). */
    const sessionHostId = (id: number): number => {
      const session = readFileSync(`/proc/${env.sessionPid()}/uid_map`, 'utf8').trim().split('\n');
      const host = mapper(session)(id);
      assert.ok(host !== undefined);
      return host;
    };

    test(`who owns what a container writes, for every userns mode (${rootless ? 'rootless' : 'root'})`, () => {
      const rows = rootless ? ROOTLESS : ROOT;
      const seen: string[] = [];
      rows.forEach((row, i) => {
        const bind = join(env.root, `bind-${i}`);
        mkdirSync(bind);
        chownSync(bind, env.user.uid, env.user.gid);
        chmodSync(bind, 0o777);
        const name = `own-${i}`;
        const idmapOff = row.mode.includes(':idmap=false') ? ':idmap=false' : '';
        const bindFlag = idmapOff
          ? ['--mount', `type=bind,source=${bind},target=/b,idmap=false`]
          : ['-v', `${bind}:/b`];
        const opts = row.noHelper ? { env: { DEN_IDMAP_HELPER_DIR: '' } } : {};
        const started = env.den(
          ['run', '-d', '--name', name, ...row.flags, ...bindFlag, '-v', `vol-${i}:/v`, 'busybox', 'sleep', '300'],
          opts,
        );
        assert.equal(started.status, 0, `${row.mode}: ${started.stderr}`);
        for (const who of ['root', 'u1000'] as const) {
          const uflag = who === 'root' ? ['-u', '0'] : ['-u', '1000'];
          env.den(['exec', ...uflag, name, 'sh', '-c', `touch /b/${who}; touch /v/${who}; true`], opts);
          for (const where of ['bind', 'volume'] as const) {
            const file = where === 'bind' ? join(bind, who) : join(env.dataDir, 'volumes', `vol-${i}`, '_data', who);
            const expected = row[where][who];
            const containerId = who === 'root' ? 0 : 1000;
            const got = existsSync(file) ? statSync(file).uid : 'denied';
            const want =
              expected === 'denied'
                ? 'denied'
                : expected === 'caller'
                  ? env.user.uid
                  : expected === 'same'
                    ? containerId
                    : expected === 'session'
                      ? sessionHostId(containerId)
                      : hostIdOf(name, containerId);
            seen.push(`${row.mode} ${where} ${who}: ${got}`);
            assert.equal(
              got,
              want,
              `${row.mode}: a file written in the ${where} as ${who} (${expected}); seen so far:\n${seen.join('\n')}`,
            );
          }
        }
        ok(['rm', '-f', name]);
      });
    });

    test('a named volume shared by two auto containers with different ranges', () => {
      // As root through idmapped mounts; rootless through den-idmap's (the set-up installs it).
      const data = join(env.dataDir, 'volumes', 'shared', '_data');
      ok(['run', '-d', '--name', 'share-a', '--userns=auto', '-v', 'shared:/s', 'busybox', 'sleep', '300']);
      ok(['exec', 'share-a', 'sh', '-c', 'echo a > /s/a']);
      ok(['run', '-d', '--name', 'share-b', '--userns=auto', '-v', 'shared:/s', 'busybox', 'sleep', '300']);
      assert.notEqual(hostIdOf('share-a', 0), hostIdOf('share-b', 0), 'two ranges');
      ok(['exec', 'share-b', 'sh', '-c', 'cat /s/a && echo b > /s/b && echo more >> /s/a']);
      assert.equal(ok(['exec', 'share-a', 'cat', '/s/b', '/s/a']), 'b\na\nmore\n');
      // Canonical owners on disk: each container's root wrote as root (rootless: as you).
      for (const f of ['a', 'b']) assert.equal(statSync(join(data, f)).uid, env.user.uid, f);
      ok(['rm', '-f', 'share-a', 'share-b']);
    });

    test(
      'rootless without den-idmap: a volume is kept in the ids of the range that filled it; reclaim gives it back',
      { skip: !rootless },
      () => {
        const noHelper = { env: { DEN_IDMAP_HELPER_DIR: '' } };
        const den = (args: string[]) => env.den(args, noHelper);
        const data = join(env.dataDir, 'volumes', 'kept', '_data');
        assert.equal(
          den(['run', '-d', '--name', 'keep-a', '--userns=auto', '-v', 'kept:/s', 'busybox', 'sleep', '300']).status,
          0,
        );
        assert.equal(den(['exec', 'keep-a', 'sh', '-c', 'echo a > /s/a']).status, 0);
        const b = den(['run', '-d', '--name', 'keep-b', '--userns=auto', '-v', 'kept:/s', 'busybox', 'sleep', '300']);
        // The kernel refuses the caller idmapped mounts: the volume is stored in keep-a's ids, and
        // another range is refused clearly rather than shown files it cannot use.
        assert.equal(b.status, 125, b.stderr);
        assert.match(b.stderr, /volume kept holds files in another container's ids/);
        assert.equal(env.den(['inspect', 'keep-b']).status, 1, 'nothing is left of the refused container');
        assert.equal(statSync(join(data, 'a')).uid, hostIdOf('keep-a', 0));
        // The caller can still read what the container wrote (and remove it, through den unshare).
        assert.equal(ok(['unshare', 'cat', join(data, 'a')]), 'a\n');
        // den volume reclaim gives the files back their canonical owners: any mode may use it again.
        assert.equal(env.den(['volume', 'reclaim', 'kept']).status, 1, 'not while keep-a uses it');
        ok(['rm', '-f', 'keep-a']);
        assert.match(ok(['volume', 'reclaim', 'kept']), /kept: 2 entries given back/);
        assert.equal(statSync(join(data, 'a')).uid, env.user.uid, "root's file is yours again");
        assert.equal(
          ok(['run', '--rm', '-v', 'kept:/s', 'busybox', 'sh', '-c', 'cat /s/a && stat -c %u /s/a']),
          'a\n0\n',
        );
        assert.match(ok(['volume', 'reclaim', 'kept']), /already canonical/);
      },
    );

    test(':idmap: a host directory keeps its owners inside and on disk (rootless: through den-idmap, for yours)', () => {
      const dir = join(env.root, 'idmap-src');
      mkdirSync(dir);
      writeFileSync(join(dir, 'f'), 'x');
      chownSync(dir, 1000, 1000);
      chownSync(join(dir, 'f'), 1000, 1000);
      const r = env.den([
        'run',
        '--rm',
        '--userns=auto',
        '-v',
        `${dir}:/d:idmap`,
        'busybox',
        'sh',
        '-c',
        'stat -c %u:%g /d /d/f; touch /d/f; id -u',
      ]);
      if (rootless) {
        // den-idmap shows only what is yours: 1000 is not.
        assert.equal(r.status, 125, r.stderr);
        assert.match(r.stderr, /cannot idmap bind mount/);
        const mine = join(env.root, 'idmap-mine');
        mkdirSync(mine);
        writeFileSync(join(mine, 'f'), 'x');
        chownSync(mine, env.user.uid, env.user.gid);
        chownSync(join(mine, 'f'), env.user.uid, env.user.gid);
        const script = ['sh', '-c', 'stat -c %u:%g /d /d/f; touch /d/g; id -u'];
        const yours = env.den(['run', '--rm', '--userns=auto', '-v', `${mine}:/d:idmap`, 'busybox', ...script]);
        assert.equal(yours.status, 0, yours.stderr);
        assert.deepEqual(yours.stdout.trim().split('\n'), ['0:0', '0:0', '0'], "your files are the container root's");
        assert.equal(statSync(join(mine, 'g')).uid, env.user.uid, 'what it writes is yours on disk');
        const without = env.den(['run', '--rm', '--userns=auto', '-v', `${mine}:/d:idmap`, 'busybox', 'true'], {
          env: { DEN_IDMAP_HELPER_DIR: '' },
        });
        assert.equal(without.status, 125);
        assert.match(without.stderr, /rootless, the kernel does not let den make idmapped mounts/);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['1000:1000', '1000:1000', '0']);
      assert.equal(statSync(join(dir, 'f')).uid, 1000, 'owners on disk unchanged');
      assert.equal(statSync(dir).uid, 1000);
    });

    test("anonymous volumes from the image's VOLUME: filled once with the image's files, owners and modes kept, removed by rm -v", () => {
      ok([
        'run',
        '--name',
        'vsrc',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /data/sub && echo img > /data/sub/a && chown -R 33:33 /data && chmod 750 /data',
      ]);
      ok(['commit', '--change', 'VOLUME /data', 'vsrc', 'volimg']);
      ok(['rm', 'vsrc']);
      ok([
        'create',
        '--name',
        'anon',
        'volimg',
        'sh',
        '-c',
        'stat -c "%u:%g %a" /data /data/sub/a; cat /data/sub/a; rm -f /data/sub/a',
      ]);
      const volume = ok(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'anon']).trim();
      assert.match(volume, /^[0-9a-f]{64}$/);
      assert.equal(ok(['inspect', '-f', '{{json .Config.Volumes}}', 'anon']).trim(), '{"/data":{}}');
      assert.equal(ok(['start', '-a', 'anon']), '33:33 750\n33:33 644\nimg\n');
      ok(['wait', 'anon']);
      // Once filled, never again: the file the first run removed stays removed.
      const second = env.den(['start', '-a', 'anon']);
      assert.equal(second.stdout, '33:33 750\n');
      assert.match(second.stderr, /can't stat '\/data\/sub\/a': No such file/);
      assert.ok(ok(['volume', 'ls', '-q']).includes(volume));
      ok(['wait', 'anon']);
      ok(['rm', '-v', 'anon']);
      assert.ok(!ok(['volume', 'ls', '-q']).includes(volume), 'rm -v removed it');
      // --rm removes anonymous volumes too; a named one stays.
      const before = ok(['volume', 'ls', '-q']).trim().split('\n').filter(Boolean);
      ok(['run', '--rm', '-v', 'keepme:/k', 'volimg', 'true']);
      assert.deepEqual(
        ok(['volume', 'ls', '-q']).trim().split('\n').filter(Boolean).sort(),
        [...before, 'keepme'].sort(),
      );
      // nocopy: an empty volume.
      assert.equal(ok(['run', '--rm', '-v', 'empty:/data:nocopy', 'volimg', 'ls', '-A', '/data']), '');
    });

    test('den volume create, ls, inspect, rm, prune', () => {
      assert.equal(ok(['volume', 'create', '--label', 'team=a', 'labelled']), 'labelled\n');
      assert.equal(ok(['volume', 'create', 'labelled']), 'labelled\n', 'creating an existing volume answers with it');
      const v = JSON.parse(ok(['volume', 'inspect', 'labelled'])) as Record<string, unknown>[];
      assert.equal(v.length, 1);
      assert.deepEqual(
        { ...v[0], CreatedAt: undefined },
        {
          CreatedAt: undefined,
          Driver: 'local',
          Labels: { team: 'a' },
          Mountpoint: join(env.dataDir, 'volumes', 'labelled', '_data'),
          Name: 'labelled',
          Options: {},
          Scope: 'local',
          Anonymous: false,
        },
      );
      assert.equal(statSync(join(env.dataDir, 'volumes')).mode & 0o777, 0o700, 'the store stays private');
      assert.equal(
        ok(['volume', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}} {{.Driver}}']),
        'labelled local\n',
      );
      assert.equal(ok(['volume', 'inspect', '-f', '{{.Name}}:{{.Labels.team}}', 'labelled']), 'labelled:a\n');
      ok(['create', '--name', 'user', '-v', 'labelled:/l', 'busybox', 'true']);
      const inUse = env.den(['volume', 'rm', 'labelled']);
      assert.equal(inUse.status, 1);
      assert.match(inUse.stderr, /volume labelled is in use by container/);
      assert.match(ok(['volume', 'ls', '--filter', 'dangling=false', '-q']), /labelled/);
      ok(['rm', 'user']);
      // prune: anonymous volumes only, unless -a.
      ok(['create', '--name', 'anon2', '-v', '/x', 'busybox', 'true']);
      const anon = ok(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'anon2']).trim();
      ok(['rm', 'anon2']);
      const pruned = ok(['volume', 'prune', '-f']);
      assert.match(pruned, new RegExp(anon));
      assert.doesNotMatch(pruned, /labelled/);
      assert.match(ok(['volume', 'prune', '-af', '--filter', 'label=team=a']), /labelled/);
      assert.equal(existsSync(join(env.dataDir, 'volumes', 'labelled')), false, 'its files went with it');
      const missing = env.den(['volume', 'rm', 'nope']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /no such volume: nope/);
      assert.equal(env.den(['volume', 'rm', '-f', 'nope']).status, 0);
      const bad = env.den(['volume', 'create', '-bad']);
      assert.notEqual(bad.status, 0);
      const badName = env.den(['volume', 'create', 'a/b']);
      assert.equal(badName.status, 1);
      assert.match(badName.stderr, /invalid volume name "a\/b"/);
      const badOpt = env.den(['volume', 'create', '--opt', 'size=1', 'o1']);
      assert.match(badOpt.stderr, /invalid option "size" for the local volume driver/);
      // A local-driver volume: a tmpfs mounted at the first start that uses it.
      ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m', 'memvol']);
      assert.match(
        ok(['run', '--rm', '-v', 'memvol:/m', 'busybox', 'sh', '-c', 'grep " /m " /proc/mounts']),
        /tmpfs \/m tmpfs .*size=2048k/,
      );
      ok(['volume', 'rm', 'memvol']);
      assert.deepEqual(
        env.mountsUnderRoot().filter((m) => m.includes('memvol')),
        [],
        'its mount went with it',
      );
      const check = JSON.parse(ok(['system', 'check', '--store', '--format', 'json'])) as {
        id: string;
        status: string;
        detail: string;
      }[];
      const row = check.find((r) => r.id === 'volumes');
      assert.equal(row?.status, 'ok', row?.detail);
      mkdirSync(join(env.dataDir, 'volumes', 'stray'));
      const stray = JSON.parse(env.den(['system', 'check', '--store', '--format', 'json']).stdout) as {
        id: string;
        detail: string;
      }[];
      assert.match(stray.find((r) => r.id === 'volumes')!.detail, /volumes\/stray: a directory no volume records/);
      rmSync(join(env.dataDir, 'volumes', 'stray'), { recursive: true });
    });

    test('--mount, --tmpfs, --shm-size, --volumes-from and inspect', () => {
      const dir = join(env.root, 'mnt-src');
      mkdirSync(dir);
      chownSync(dir, env.user.uid, env.user.gid);
      writeFileSync(join(dir, 'f'), 'bound\n');
      ok([
        'create',
        '--name',
        'mounts',
        '--mount',
        `type=bind,source=${dir},target=/b,readonly`,
        '--mount',
        'type=volume,source=mvol,target=/v',
        '--mount',
        'type=tmpfs,target=/t,tmpfs-size=1m',
        '--tmpfs',
        '/run2:size=512k,mode=700',
        '--shm-size',
        '2m',
        'busybox',
        'sh',
        '-c',
        'cat /b/f; touch /b/x 2>/dev/null || echo ro; grep -E " /(t|run2|dev/shm) " /proc/mounts | cut -d" " -f2,4 | sort',
      ]);
      const out = env.den(['start', '-a', 'mounts']).stdout;
      assert.match(out, /^bound\nro\n/);
      assert.match(out, /\/dev\/shm [^\n]*size=2048k/);
      assert.match(out, /\/run2 [^\n]*size=512k[^\n]*mode=700/);
      assert.match(out, /\/t [^\n]*size=1024k/);
      const hc = JSON.parse(ok(['inspect', '-f', '{{json .HostConfig}}', 'mounts'])) as Record<string, unknown>;
      assert.equal(hc.ShmSize, 2 * 1024 * 1024);
      assert.deepEqual(hc.Tmpfs, { '/run2': 'noexec,nosuid,nodev,size=524288,mode=700' });
      assert.deepEqual(hc.Mounts, [
        { Type: 'bind', Source: dir, Target: '/b', ReadOnly: true },
        { Type: 'volume', Source: 'mvol', Target: '/v' },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 * 1024 } },
      ]);
      const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'mounts'])) as {
        Type: string;
        Destination: string;
        RW: boolean;
      }[];
      assert.deepEqual(
        mounts.map((m) => `${m.Type} ${m.Destination} ${m.RW}`),
        ['bind /b false', 'volume /v true', 'tmpfs /t true'],
      );
      // --volumes-from: the binds and volumes (not the tmpfs mounts), ro when asked.
      const from = env.den([
        'run',
        '--rm',
        '--volumes-from',
        'mounts:ro',
        'busybox',
        'sh',
        '-c',
        'cat /b/f; ls -d /v; touch /v/x 2>/dev/null || echo ro; grep -c " /t " /proc/mounts',
      ]);
      assert.equal(from.stdout, 'bound\n/v\nro\n0\n', from.stderr);
      ok(['rm', 'mounts']);
    });

    test(':U gives a bind source to a container with a range of its own', () => {
      const dir = join(env.root, 'chown-src');
      mkdirSync(dir);
      writeFileSync(join(dir, 'f'), 'x');
      chownSync(dir, env.user.uid, env.user.gid);
      chownSync(join(dir, 'f'), env.user.uid, env.user.gid);
      ok([
        'create',
        '--name',
        'given',
        '--userns=auto',
        '-v',
        `${dir}:/d:U`,
        'busybox',
        'sh',
        '-c',
        'stat -c %u /d/f; touch /d/new',
      ]);
      const root = hostIdOf('given', 0);
      assert.equal(statSync(join(dir, 'f')).uid, root, "the source is the container root's now");
      assert.equal(ok(['start', '-a', 'given']), '0\n');
      assert.equal(statSync(join(dir, 'new')).uid, root);
      const taken = env.den(['run', '--rm', '--userns=auto', '-v', `${dir}:/d:U`, 'busybox', 'true']);
      assert.equal(taken.status, 125, 'not while another container uses it');
      assert.match(taken.stderr, /:U would take it from container given/);
      ok(['rm', 'given']);
      if (rootless) ok(['unshare', 'chown', '-R', '0:0', dir]);
      else chownSync(dir, 0, 0);
    });

    test('--device: a device the caller can open; others refused', () => {
      const r = env.den([
        'run',
        '--rm',
        '--device',
        '/dev/fuse:/dev/myfuse',
        'busybox',
        'sh',
        '-c',
        'stat -c "%t,%T" /dev/myfuse',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'a,e5', 'the misc device 10,229');
      const missing = env.den(['run', '--rm', '--device', '/dev/nonexistent', 'busybox', 'true']);
      assert.equal(missing.status, 125);
      assert.match(missing.stderr, /--device \/dev\/nonexistent: no such device/);
      const notDevice = env.den(['run', '--rm', '--device', '/etc/hostname', 'busybox', 'true']);
      assert.equal(notDevice.status, 125);
      assert.match(notDevice.stderr, /not a device node/);
    });

    test('bad mount flags are refused with 125 before anything is made', () => {
      const before = env.containerDirs().length;
      for (const [flags, message] of [
        [['-v', 'a:b:c:d'], /invalid volume specification/],
        [['-v', '/x:relative'], /must be absolute/],
        [['-v', 'vol:/x:bogus'], /invalid volume option "bogus"/],
        [['-v', 'a/b:/x'], /invalid volume name/],
        [['--mount', 'type=bind,target=/x'], /a bind mount needs a source/],
        [['--mount', 'type=nfs,target=/x'], /type "nfs" is not bind, volume or tmpfs/],
        [['--mount', 'source=v,target=/x,tmpfs-size=1m'], /tmpfs-size is for type=tmpfs mounts/],
        [['--mount', 'type=volume,source=v'], /target is required/],
        [['--tmpfs', '/t:bogus'], /invalid --tmpfs option "bogus"/],
        [['--device', 'relative'], /invalid --device/],
        [['--shm-size', 'lots'], /invalid size "lots"/],
        [['-v', '/nonexistent-source:/x'], /bind mount source path \/nonexistent-source does not exist/],
        [['-v', 'v1:/x', '--tmpfs', '/x'], /duplicate mount point: \/x/],
        [['--volumes-from', 'nosuchcontainer'], /no such container/],
        [['--volumes-from', 'x:rx'], /invalid --volumes-from/],
      ] as const) {
        const r = env.den(['run', '--rm', ...flags, 'busybox', 'true']);
        assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, flags.join(' '));
      }
      assert.equal(env.containerDirs().length, before, 'no container was made');
      assert.ok(!readdirSync(join(env.dataDir, 'volumes')).includes('v1'), 'nor a volume');
    });
  });
}
