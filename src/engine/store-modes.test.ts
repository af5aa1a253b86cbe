import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ContainerRecord } from '../containers/index.js';
import { StoreLayout } from '../snapshots/index.js';
import { narrow, wideModes, type StoreView } from './store-modes.js';

const base = mkdtempSync(join(tmpdir(), 'den-modes-'));
after(() => rmSync(base, { recursive: true, force: true }));

const gid = process.getgid!();
/** A container whose root is a stranger (host uid 100000), its gid 0 being our own group. */
const STRANGER = {
  id: 'a'.repeat(64),
  config: {
    idMap: { uid: [{ containerID: 0, hostID: 100000, size: 65536 }], gid: [{ containerID: 0, hostID: gid, size: 1 }] },
  },
} as unknown as ContainerRecord;
/** A container whose root is the store's owner. */
const OWNER = { id: 'b'.repeat(64), config: {} } as unknown as ContainerRecord;

/** A store as dens before the model left it: 0755 directories, 0644 files. */
function oldStore(name: string): StoreView {
  const dataDir = join(base, name);
  const dirs = ['', 'content', 'content/blobs', 'layers', 'layers/l1', 'containers', 'shifted'];
  for (const id of [STRANGER.id, OWNER.id]) dirs.push(`containers/${id}`, `containers/${id}/exec`);
  for (const d of dirs) {
    mkdirSync(join(dataDir, d), { recursive: true });
    chmodSync(join(dataDir, d), 0o755);
  }
  const files = ['den.db', 'den.db-wal', 'events.log', 'content/blobs/x', 'layers/l1/file'];
  for (const id of [STRANGER.id, OWNER.id]) {
    for (const f of ['config.json', 'ctr.log', 'hosts', 'hostname', 'resolv.conf', 'runtime.log', 'exec/p.json']) {
      files.push(`containers/${id}/${f}`);
    }
  }
  for (const f of files) writeFileSync(join(dataDir, f), 'x', { mode: 0o644 });
  symlinkSync('/etc/passwd', join(dataDir, 'link'));
  return {
    paths: { rootless: false, dataDir, runtimeDir: join(base, 'run') },
    layout: new StoreLayout(dataDir),
    sessionId: (_kind, id) => id,
  };
}

const modeOf = (p: string) => statSync(p).mode & 0o777;

test('an old store: every path the model closes is found, with what it allows; narrowing leaves none', () => {
  const view = oldStore('old');
  const d = view.paths.dataDir;
  const found = new Map(wideModes(view, [STRANGER, OWNER]).map((w) => [w.path.slice(d.length + 1), w.allowed]));
  const a = `containers/${STRANGER.id}`;
  const b = `containers/${OWNER.id}`;
  assert.deepEqual(
    Object.fromEntries([...found].sort()),
    Object.fromEntries(
      (
        [
          ['', 0o711],
          ['containers', 0o711],
          [a, 0o710],
          [`${a}/config.json`, 0o600],
          [`${a}/ctr.log`, 0o600],
          [`${a}/exec/p.json`, 0o600],
          [b, 0o700],
          [`${b}/config.json`, 0o600],
          [`${b}/ctr.log`, 0o600],
          [`${b}/exec/p.json`, 0o600],
          ['content', 0o700],
          ['den.db', 0o600],
          ['events.log', 0o600],
          ['layers', 0o700],
          ['shifted', 0o700],
        ] as [string, number][]
      ).sort(),
    ),
    'the -wal file follows den.db, the /etc files and the runtime log stay, a symlink is not followed',
  );
  assert.deepEqual(narrow(wideModes(view, [STRANGER, OWNER])), []);
  assert.deepEqual(wideModes(view, [STRANGER, OWNER]), []);
  assert.equal(modeOf(d), 0o711);
  assert.equal(modeOf(join(d, 'den.db')), 0o600);
  assert.equal(modeOf(join(d, a)), 0o710);
  assert.equal(modeOf(join(d, b)), 0o700);
  assert.equal(modeOf(join(d, a, 'hosts')), 0o644, 'the container reads its /etc files');
  assert.equal(modeOf(join(d, 'layers', 'l1')), 0o755, 'below the boundary, the image keeps its modes');
  assert.equal(statSync('/etc/passwd').mode & 0o777, 0o644, 'the symlink was not followed');
});

test("a stranger root's directory whose group is not yet that root's is closed (the next mount opens it)", () => {
  const view = oldStore('ungrouped');
  const other = {
    ...STRANGER,
    config: { idMap: { ...STRANGER.config.idMap!, gid: [{ containerID: 0, hostID: gid + 1, size: 1 }] } },
  };
  const dir = join(view.paths.dataDir, 'containers', STRANGER.id);
  const w = wideModes(view, [other as ContainerRecord, OWNER]).find((x) => x.path === dir);
  assert.equal(w?.allowed, 0o700);
  chmodSync(dir, 0o700);
  assert.equal(
    wideModes(view, [other as ContainerRecord, OWNER]).find((x) => x.path === dir),
    undefined,
    'a closed directory is within the model',
  );
});

test('a directory with no record (a leftover) is held to 0700', () => {
  const view = oldStore('orphans');
  const dir = join(view.paths.dataDir, 'containers', STRANGER.id);
  assert.equal(wideModes(view, [OWNER]).find((x) => x.path === dir)?.allowed, 0o700);
});
