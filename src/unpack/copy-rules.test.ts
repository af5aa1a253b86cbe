import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDenError } from '../common/errors.js';
import {
  assertsDirectory,
  containerPath,
  prepareArchiveCopy,
  rebaseName,
  renameTop,
  splitPathDirEntry,
  type CopyDestination,
  type CopySource,
} from './copy-rules.js';

test('splitPathDirEntry: cleaned, with `.` kept as the base of a path naming a directory itself', () => {
  const table: [string, [string, string]][] = [
    ['/etc/passwd', ['/etc', 'passwd']],
    ['/etc/', ['/', 'etc']],
    ['/etc/.', ['/etc', '.']],
    ['/etc/./', ['/', 'etc']],
    ['/etc//x/../y', ['/etc', 'y']],
    ['/', ['/', '/']],
    ['/.', ['/', '.']],
    ['a/b', ['a', 'b']],
    ['.', ['.', '.']],
  ];
  for (const [path, want] of table) assert.deepEqual(splitPathDirEntry(path), want, path);
});

test('containerPath: absolute, the trailing / and /. kept', () => {
  const table: [string, string][] = [
    ['etc/x', '/etc/x'],
    ['/etc/', '/etc/'],
    ['etc/.', '/etc/.'],
    ['/', '/'],
    ['.', '/.'],
    ['../../x', '/x'],
  ];
  for (const [path, want] of table) assert.equal(containerPath(path), want, path);
  assert.equal(assertsDirectory('/x/'), true);
  assert.equal(assertsDirectory('/x/.'), true);
  assert.equal(assertsDirectory('/x'), false);
});

test('rebaseName: a followed link keeps the name asked for, and its trailing / or /.', () => {
  assert.deepEqual(rebaseName('/data/link', '/data/one'), { path: '/data/one', rebaseName: 'link' });
  assert.deepEqual(rebaseName('/data/link/', '/srv/dir'), { path: '/srv/dir/', rebaseName: 'link' });
  assert.deepEqual(rebaseName('/data/link/.', '/srv/dir'), { path: '/srv/dir/.' });
  assert.deepEqual(rebaseName('/a/same', '/b/same'), { path: '/b/same' });
});

/** docker's documented cases, one row each: where the archive is unpacked and what its top becomes. */
test("prepareArchiveCopy: docker's rules for a file and a directory onto what is there", () => {
  const file: CopySource = { path: '/src/f', isDir: false };
  const dir: CopySource = { path: '/src/d', isDir: true };
  const content: CopySource = { path: '/src/d/.', isDir: true };
  const missing = (path: string): CopyDestination => ({ path, exists: false, isDir: false });
  const aFile = (path: string): CopyDestination => ({ path, exists: true, isDir: false });
  const aDir = (path: string): CopyDestination => ({ path, exists: true, isDir: true });
  const rows: [string, CopySource, CopyDestination, unknown][] = [
    ['file to a new name', file, missing('/dst/new'), { dir: '/dst', rename: { from: 'f', to: 'new' } }],
    ['file to a missing directory', file, missing('/dst/new/'), /no such directory/],
    ['file onto a file', file, aFile('/dst/old'), { dir: '/dst', rename: { from: 'f', to: 'old' } }],
    ['file into a directory', file, aDir('/dst/d'), { dir: '/dst/d' }],
    ['directory to a new name', dir, missing('/dst/new'), { dir: '/dst', rename: { from: 'd', to: 'new' } }],
    ['directory onto a file', dir, aFile('/dst/old'), /cannot copy directory/],
    ['directory into a directory', dir, aDir('/dst/x'), { dir: '/dst/x' }],
    ['content into a directory', content, aDir('/dst/x'), { dir: '/dst/x' }],
    ['content to a new name', content, missing('/dst/new'), { dir: '/dst', rename: { from: '.', to: 'new' } }],
    [
      'the root to a new name',
      { path: '/', isDir: true },
      missing('/dst/new'),
      { dir: '/dst', rename: { from: '.', to: 'new' } },
    ],
    [
      'a followed link to a new name',
      { path: '/src/target', isDir: false, rebaseName: 'link' },
      missing('/dst/new'),
      { dir: '/dst', rename: { from: 'link', to: 'new' } },
    ],
  ];
  for (const [what, src, dst, want] of rows) {
    if (want instanceof RegExp) {
      assert.throws(
        () => prepareArchiveCopy(src, dst, (p) => `c:${p}`),
        (e: unknown) => isDenError(e) && e.code === 'DEN0666' && want.test(e.message),
        what,
      );
    } else {
      assert.deepEqual(
        prepareArchiveCopy(src, dst, (p) => p),
        want,
        what,
      );
    }
  }
});

test('renameTop: the top name and what is under it; `.` stands for the archive root', () => {
  const r = renameTop('d', 'new');
  assert.deepEqual(['d', 'd/', 'd/x', 'd/x/y', './d/z', 'dd', 'e/d'].map(r), [
    'new',
    'new',
    'new/x',
    'new/x/y',
    'new/z',
    'dd',
    'e/d',
  ]);
  const root = renameTop('.', 'new');
  assert.deepEqual(['./', '.', './x', './x/y'].map(root), ['new', 'new', 'new/x', 'new/x/y']);
  // Names are the bytes of the archive (latin1 strings); the paths asked for are text.
  const utf8 = Buffer.from('é', 'utf8').toString('latin1');
  assert.equal(renameTop('é', 'ü')(`${utf8}/x`), `${Buffer.from('ü', 'utf8').toString('latin1')}/x`);
});
