import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { invalidArgument } from '../common/errors.js';
import { storageFailure } from './storage-errors.js';

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
