import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DenError } from '../common/errors.js';
import { freeSubordinateRange, parseSubordinateIds, rangesFor, readSubordinateRanges } from './index.js';

const F = '/etc/subuid';

test('parseSubordinateIds: valid files', () => {
  const cases: { name: string; text: string; want: [string, number, number, number][] }[] = [
    { name: 'empty file', text: '', want: [] },
    { name: 'single line', text: 'alice:100000:65536\n', want: [['alice', 100000, 65536, 1]] },
    { name: 'no trailing newline', text: 'alice:100000:65536', want: [['alice', 100000, 65536, 1]] },
    {
      name: 'comments and blank lines keep line numbers',
      text: '# header\n\n   \nalice:100000:65536 # trailing comment\n\t# indented comment\nbob:165536:65536\n',
      want: [
        ['alice', 100000, 65536, 4],
        ['bob', 165536, 65536, 6],
      ],
    },
    { name: 'whitespace around fields', text: '  alice : 100000 :\t65536  \n', want: [['alice', 100000, 65536, 1]] },
    {
      name: 'CRLF line endings',
      text: 'alice:1:2\r\nbob:3:4\r\n',
      want: [
        ['alice', 1, 2, 1],
        ['bob', 3, 4, 2],
      ],
    },
    { name: 'numeric owner', text: '1000:100000:65536\n', want: [['1000', 100000, 65536, 1]] },
    {
      name: 'several ranges for one user',
      text: 'alexander:1000:1\nalexander:100000:65535\n',
      want: [
        ['alexander', 1000, 1, 1],
        ['alexander', 100000, 65535, 2],
      ],
    },
    {
      name: 'adjacent ranges do not overlap',
      text: 'alice:100:10\nalice:110:10\n',
      want: [
        ['alice', 100, 10, 1],
        ['alice', 110, 10, 2],
      ],
    },
    {
      name: 'different owners may overlap',
      text: 'alice:100:10\nbob:105:10\n',
      want: [
        ['alice', 100, 10, 1],
        ['bob', 105, 10, 2],
      ],
    },
    { name: 'range ending at the highest id', text: 'alice:4294967290:5\n', want: [['alice', 4294967290, 5, 1]] },
    { name: 'start 0', text: 'alice:0:1\n', want: [['alice', 0, 1, 1]] },
  ];
  for (const c of cases) {
    const got = parseSubordinateIds(c.text, F).map((e) => [e.owner, e.start, e.count, e.line]);
    assert.deepEqual(got, c.want, c.name);
  }
});

test('parseSubordinateIds: numeric owners carry their uid', () => {
  const [named, numeric] = parseSubordinateIds('alice:1:1\n1000:2:1\n', F);
  assert.equal(named?.ownerUid, undefined);
  assert.equal(numeric?.ownerUid, 1000);
  assert.equal(numeric?.file, F);
});

test('parseSubordinateIds: malformed lines name file:line and the problem', () => {
  const cases: { text: string; message: string }[] = [
    { text: 'alice:100000\n', message: `${F}:1: expected owner:start:count, found 2 fields in "alice:100000"` },
    { text: 'alice\n', message: `${F}:1: expected owner:start:count, found 1 field in "alice"` },
    { text: 'a:1:2:3\n', message: `${F}:1: expected owner:start:count, found 4 fields in "a:1:2:3"` },
    { text: '# ok\n\nalice:1:abc\n', message: `${F}:3: count "abc" is not a number` },
    { text: 'alice:x:1\n', message: `${F}:1: start "x" is not a number` },
    { text: 'alice:-5:10\n', message: `${F}:1: start "-5" is negative` },
    { text: 'alice:5:-10\n', message: `${F}:1: count "-10" is negative` },
    { text: 'alice:0x10:10\n', message: `${F}:1: start "0x10" is not a number` },
    { text: 'alice:1e3:10\n', message: `${F}:1: start "1e3" is not a number` },
    { text: 'alice:1.5:10\n', message: `${F}:1: start "1.5" is not a number` },
    { text: 'alice::10\n', message: `${F}:1: start is empty` },
    { text: 'alice:10:\n', message: `${F}:1: count is empty` },
    { text: ':10:10\n', message: `${F}:1: owner is empty` },
    { text: 'al ice:10:10\n', message: `${F}:1: owner "al ice" contains whitespace` },
    { text: 'alice:100000:0\n', message: `${F}:1: count is 0; a range needs at least one id` },
    { text: 'alice:4294967295:1\n', message: `${F}:1: start 4294967295 is beyond the highest id 4294967294` },
    {
      text: 'alice:4294967290:6\n',
      message: `${F}:1: range 4294967290-4294967295 goes beyond the highest id 4294967294`,
    },
    {
      text: 'alice:1:99999999999999999999\n',
      message: `${F}:1: count 99999999999999999999 is more than the 4294967295 ids there are`,
    },
    { text: '4294967295:1:1\n', message: `${F}:1: owner uid 4294967295 is beyond the highest id 4294967294` },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseSubordinateIds(c.text, F),
      (e: unknown) => {
        assert.ok(e instanceof DenError, c.text);
        assert.equal(e.kind, 'InvalidArgument');
        assert.equal(e.code, 'DEN0201');
        assert.equal(e.message, c.message);
        assert.equal(e.hint, 'fix the line or remove it; see subuid(5)');
        return true;
      },
    );
  }
});

test('parseSubordinateIds: overlapping ranges of one owner name both lines', () => {
  const cases: { text: string; message: string }[] = [
    {
      text: 'alice:100000:65536\nbob:0:1\nalice:165535:10\n',
      message: `${F}:3: range 165535-165544 of alice overlaps the range 100000-165535 on line 1`,
    },
    { text: 'alice:5:1\nalice:5:1\n', message: `${F}:2: range 5-5 of alice overlaps the range 5-5 on line 1` },
    { text: 'alice:10:100\nalice:0:11\n', message: `${F}:2: range 0-10 of alice overlaps the range 10-109 on line 1` },
    { text: 'alice:10:100\nalice:20:5\n', message: `${F}:2: range 20-24 of alice overlaps the range 10-109 on line 1` },
  ];
  for (const c of cases) {
    assert.throws(() => parseSubordinateIds(c.text, F), { name: 'DenError', code: 'DEN0202', message: c.message });
  }
});

test('rangesFor: matches by name or uid, in file order', () => {
  const entries = parseSubordinateIds(
    'alice:300000:10\nbob:100000:65536\n1000:200000:5\n1001:400000:1\nalice:100:1\n1000x:7:1\n',
    '/etc/subgid',
  );
  assert.deepEqual(rangesFor(entries, { name: 'alice', uid: 1000 }), [
    { start: 300000, count: 10 },
    { start: 200000, count: 5 },
    { start: 100, count: 1 },
  ]);
  assert.deepEqual(rangesFor(entries, { name: 'bob', uid: 1001 }), [
    { start: 100000, count: 65536 },
    { start: 400000, count: 1 },
  ]);
  assert.deepEqual(rangesFor(entries, { name: 'carol', uid: 1002 }), []);
});

test('readSubordinateRanges: reads the file, missing file or user gives an empty list', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'den-idmap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'subuid');
  writeFileSync(file, 'alexander:1000:1\nalexander:100000:65535\n');
  const user = { name: 'alexander', uid: 1000 };
  assert.deepEqual(readSubordinateRanges('uid', user, file), [
    { start: 1000, count: 1 },
    { start: 100000, count: 65535 },
  ]);
  assert.deepEqual(readSubordinateRanges('uid', { name: 'nobody', uid: 5 }, file), []);
  assert.deepEqual(readSubordinateRanges('gid', user, join(dir, 'missing')), []);

  writeFileSync(file, 'alexander:1000:1\nbroken\n');
  assert.throws(() => readSubordinateRanges('uid', user, file), {
    code: 'DEN0201',
    message: `${file}:2: expected owner:start:count, found 1 field in "broken"`,
  });

  // A directory cannot be read as a file: any error but ENOENT is reported, not treated as empty.
  assert.throws(() => readSubordinateRanges('uid', user, dir), { code: 'DEN0203', kind: 'FailedPrecondition' });
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o000);
    assert.throws(() => readSubordinateRanges('uid', user, file), { code: 'DEN0203' });
  }
});

test('freeSubordinateRange: the first block from 100000 that no line of either file has', () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-free-range-'));
  try {
    const subuid = join(dir, 'subuid');
    const subgid = join(dir, 'subgid');
    writeFileSync(subuid, 'alice:100000:65536\nden:1000000000:1000000000\n');
    writeFileSync(subgid, 'alice:100000:65536\nbob:165536:65536\n');
    assert.deepEqual(freeSubordinateRange([subuid, subgid]), { first: 231072, last: 296607 });
    assert.deepEqual(freeSubordinateRange([join(dir, 'missing')]), { first: 100000, last: 165535 });
    writeFileSync(subuid, 'garbage line\n');
    assert.deepEqual(
      freeSubordinateRange([subuid]),
      { first: 100000, last: 165535 },
      'a malformed file counts as empty',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
