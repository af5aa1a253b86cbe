import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { invalidArgument, type DenError } from '../common/errors.js';
import { spaceNeeded, storageFailure } from './storage-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'den-storage-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

test('full disks and refused writes become den errors naming the data directory; the rest stay as they are', () => {
  const data = join(dir, 'data');
  mkdirSync(data);
  const cases: [unknown, string | undefined][] = [
    [withCode('SQLITE_FULL', 'database or disk is full'), 'DEN0803'],
    [withCode('ENOSPC'), 'DEN0803'],
    [invalidArgument('DEN0432', 'x: cannot read the archive: ENOSPC', { cause: withCode('ENOSPC') }), 'DEN0803'],
    [withCode('SQLITE_READONLY', 'attempt to write a readonly database'), 'DEN0802'],
    [withCode('SQLITE_READONLY_DBMOVED'), 'DEN0802'],
    [withCode('SQLITE_CANTOPEN', 'unable to open database file'), 'DEN0802'],
    [withCode('EACCES', `EACCES: permission denied, open '${data}/x'`), 'DEN0802'],
    [withCode('EACCES', "EACCES: permission denied, open '/etc/shadow'"), undefined],
    [invalidArgument('DEN0410', 'invalid reference'), undefined],
    [withCode('ECONNRESET'), undefined],
    [new Error('plain'), undefined],
  ];
  for (const [e, code] of cases) {
    const d = storageFailure(e, data);
    assert.equal(d?.code, code, (e as Error).message);
    if (d) assert.ok(d.message.includes(data), d.message);
  }
  // Why a directory refuses (owner, mode) is checked as the unprivileged user by test/errors.test.ts.
});

test('a full disk names the file system, its free space, and what the command needed', () => {
  const data = join(dir, 'full');
  mkdirSync(data);
  const enospc = invalidArgument('DEN0432', 'x: cannot read the archive: ENOSPC', { cause: withCode('ENOSPC') });
  const small = spaceNeeded(enospc, data, { what: 'pulling example/big:1', blobBytes: 1e15 }) as DenError;
  assert.equal(small.code, 'DEN0803');
  assert.equal(small.reason, 'disk-full');
  assert.match(
    small.message,
    new RegExp(
      `^the disk that holds den's data directory ${data} is full \\(/[^:]*: [0-9.]+[kMGT]?B free of [0-9.]+[kMGT]?B\\): ` +
        'pulling example/big:1 needs at least 2000TB there, 1000TB of blobs and their files unpacked, which take as much or more$',
    ),
  );
  // Where twice the blobs is free, the unpacked files took the rest (zeros unpack to much more).
  const zeros = spaceNeeded(enospc, data, { what: 'importing zeros.tar.gz', blobBytes: 1000 }) as DenError;
  assert.match(
    zeros.message,
    /: importing zeros\.tar\.gz needs more than the [0-9.]+[kMGT]?B free there, 1kB of blobs and their files unpacked, which take the rest$/,
  );
  // Already said by the database (its own full disk): said again with the need, once.
  const db = spaceNeeded(storageFailure(withCode('SQLITE_FULL'), data), data, { what: 'x', blobBytes: 1 }) as DenError;
  assert.match(db.message, /: x needs /);
  assert.equal(storageFailure(db, data), undefined, 'the CLI keeps it as it is');
  // Anything but a full disk goes through unchanged.
  const other = invalidArgument('DEN0410', 'invalid reference');
  assert.equal(spaceNeeded(other, data, { what: 'x', blobBytes: 1 }), other);
});
