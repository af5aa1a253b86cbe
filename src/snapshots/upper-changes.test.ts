import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { lsetxattr, makedev, mknod, S_IFCHR } from '../common/libc.js';
import { TarWriter } from '../unpack/index.js';
import { upperChanges, upperLayer, type UpperRequest } from './upper-changes.js';

const root = process.getuid?.() === 0;
const skip = root ? false : 'whiteouts are device nodes: run the tests as root';
const base = mkdtempSync(join(tmpdir(), 'den-upper-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

const whiteout = (path: string) => mknod(Buffer.from(path), S_IFCHR, makedev(0, 0));
const opaque = (path: string) => lsetxattr(Buffer.from(path), 'user.overlay.opaque', Buffer.from('y'));
const dir = (path: string, mode = 0o755) => {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
};

/**
 * Two layers and an upper directory as a container leaves them. The container's ids are shifted by
 * 100000 on disk (an --userns=auto map), so the upper directory's owners are 100000 and above.
 */
function fixture(): UpperRequest {
  const f = mkdtempSync(join(base, 'f-'));
  const bottom = join(f, 'bottom');
  const top = join(f, 'top');
  const upper = join(f, 'upper');
  // The image: /etc/{passwd,group,hosts}, /home/user/{a,b}, /var/gone (deleted by the top layer), /srv (opaque there).
  dir(join(bottom, 'etc'));
  for (const n of ['passwd', 'group', 'hosts']) writeFileSync(join(bottom, 'etc', n), n);
  dir(join(bottom, 'home', 'user'));
  writeFileSync(join(bottom, 'home', 'user', 'a'), 'a');
  writeFileSync(join(bottom, 'home', 'user', 'b'), 'b');
  dir(join(bottom, 'var'));
  writeFileSync(join(bottom, 'var', 'gone'), 'gone');
  dir(join(bottom, 'srv'));
  writeFileSync(join(bottom, 'srv', 'hidden'), 'hidden');
  dir(join(top, 'var'));
  whiteout(join(top, 'var', 'gone'));
  dir(join(top, 'srv'));
  opaque(join(top, 'srv'));
  dir(join(top, 'tmp'), 0o1777);
  // The container's changes.
  const own = (path: string, id: number) => chownSync(path, id, id);
  dir(upper);
  dir(join(upper, 'etc'));
  whiteout(join(upper, 'etc', 'group')); // deleted
  writeFileSync(join(upper, 'etc', 'passwd'), 'changed'); // changed
  writeFileSync(join(upper, 'etc', 'hostname'), ''); // the runtime's mount point
  dir(join(upper, 'home', 'user')); // replaced whole
  opaque(join(upper, 'home', 'user'));
  writeFileSync(join(upper, 'home', 'user', 'b'), 'new b');
  dir(join(upper, 'var')); // copied up for nothing: same mode and owner
  writeFileSync(join(upper, 'var', 'gone'), 'back'); // the top layer deleted it: added again
  dir(join(upper, 'tmp'), 0o1777); // copied up with its times changed only
  dir(join(upper, 'srv'));
  writeFileSync(join(upper, 'srv', 'hidden'), 'hidden'); // the top layer hid the bottom's: added
  dir(join(upper, 'data', 'mnt')); // made by the runtime for a bind mount, nothing else under it
  dir(join(upper, 'proc')); // a mount point with something copied under it
  writeFileSync(join(upper, 'proc', 'x'), 'x');
  symlinkSync('/../../../../etc', join(upper, 'out')); // a symlink out: a symlink, never followed
  // Everything the container made is its root's, 100000 on disk; the user's directory its user's.
  assert.equal(spawnSync('chown', ['-R', '-h', '100000:100000', upper]).status, 0);
  own(join(upper, 'home', 'user'), 101000);
  own(join(upper, 'home', 'user', 'b'), 101000);
  return {
    upper,
    layers: [top, bottom],
    idMap: {
      uid: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gid: [{ containerID: 0, hostID: 100000, size: 65536 }],
    },
    mountPoints: ['/etc/hostname', '/data/mnt', '/proc', '/etc/hosts'],
  };
}

test('upperChanges: A, C and D in docker order; mount points and unchanged copies left out', { skip }, () => {
  // In an opaque directory nothing of the layers shows: /home/user/b is new, whatever they had.
  assert.deepEqual(
    upperChanges(fixture()).map((c) => `${c.kind} ${c.path}`),
    [
      'C /etc',
      'D /etc/group',
      'C /etc/passwd',
      'C /home',
      'C /home/user',
      'A /home/user/b',
      'A /out',
      'A /proc',
      'A /proc/x',
      'C /srv',
      'A /srv/hidden',
      'C /var',
      'A /var/gone',
    ],
  );
});

test(
  'upperLayer: an OCI layer of the changes, whiteouts and opaque markers in place, owners unshifted',
  { skip },
  async () => {
    const req = fixture();
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const writer = new TarWriter(out);
    await upperLayer(req, writer);
    await writer.finish();
    const list = spawnSync('tar', ['-tv', '--numeric-owner'], { input: Buffer.concat(chunks), encoding: 'utf8' });
    const entries = list.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[1]} ${f.slice(5).join(' ')}`;
      });
    assert.deepEqual(entries, [
      '0/0 etc/',
      '0/0 etc/.wh.group',
      '0/0 etc/passwd',
      '0/0 home/',
      '1000/1000 home/user/',
      '1000/1000 home/user/.wh..wh..opq',
      '1000/1000 home/user/b',
      '0/0 out -> /../../../../etc',
      '0/0 proc/',
      '0/0 proc/x',
      '0/0 srv/',
      '0/0 srv/hidden',
      '0/0 var/',
      '0/0 var/gone',
    ]);
  },
);
