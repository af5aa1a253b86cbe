import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Finding, Host } from '../common/host-check.js';
import { checkSubordinateIds } from './subid-checks.js';

/** A host that knows only what this probe asks: who the caller is and where the subuid file is. */
function hostWith(rootless: boolean, subuidFile: string): Host {
  return {
    rootless,
    uid: rootless ? 1000 : 0,
    gid: rootless ? 1000 : 0,
    userName: rootless ? 'alice' : 'root',
    env: {},
    dataDir: '/nonexistent/data',
    runtimeDir: '/nonexistent/run',
    subuidFile,
    subgidFile: '/nonexistent/subgid',
    find: () => undefined,
    mounts: [],
    fsType: () => 'unknown',
  };
}

describe('checkSubordinateIds', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'den-subid-check-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { name: string; rootless: boolean; lines: string; status: Finding['status']; detail: RegExp }[] = [
    {
      name: "root: the pool's size and spans",
      rootless: false,
      lines: 'den:1000000000:1000000000\n',
      status: 'ok',
      detail: /^root mode's pool: 1000000000 uids of den in .* \(1000000000-1999999999\) for --userns=auto$/,
    },
    {
      name: 'root without a pool: ids one to one',
      rootless: false,
      lines: 'alice:100000:65536\n',
      status: 'warn',
      detail: /^no den range in .*: as root, containers map ids one to one/,
    },
    {
      name: 'rootless with enough ids, by name and by uid',
      rootless: true,
      lines: 'alice:100000:65536\n1000:200000:65536\n',
      status: 'ok',
      detail: /^131072 uids for alice in .* \(100000-165535, 200000-265535\)$/,
    },
    {
      name: 'rootless without nobody (65534)',
      rootless: true,
      lines: 'alice:100000:1000\n',
      status: 'warn',
      detail: /fewer than 65534, so images with files owned by nobody/,
    },
    {
      name: 'rootless without a range',
      rootless: true,
      lines: 'bob:100000:65536\n',
      status: 'fail',
      detail: /^no subordinate uid range for alice \(uid 1000\) in /,
    },
    {
      name: 'a malformed line: the file and line, not a broken check',
      rootless: true,
      lines: '# ranges\nalice:abc:65536\n',
      status: 'fail',
      detail: /:2: start "abc" is not a number$/,
    },
  ];
  cases.forEach((c, i) => {
    test(c.name, () => {
      const file = join(dir, `subuid-${i}`);
      writeFileSync(file, c.lines);
      const r = checkSubordinateIds(hostWith(c.rootless, file), 'uid', 'den');
      assert.equal(r.status, c.status, r.detail);
      assert.match(r.detail, c.detail);
    });
  });
});
