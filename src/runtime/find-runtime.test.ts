import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DenError } from '../common/errors.js';
import { findRuntime } from './find-runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'den-find-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A program that says it is `says` when asked its version. */
function fakeRuntime(name: string, says: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "${says}"\n`);
  chmodSync(path, 0o755);
  return path;
}

test('crun and runc on this host are known by what they say they are, with a state root each', () => {
  const runDir = join(dir, 'run-real');
  const crun = findRuntime('crun', PATH, runDir);
  assert.equal(crun.kind, 'crun');
  assert.equal(crun.features.sendsTerminalWhenAttached, true);
  assert.equal(crun.stateRoot, join(runDir, 'crun'));
  const runc = findRuntime('runc', PATH, runDir);
  assert.equal(runc.kind, 'runc');
  assert.equal(runc.features.sendsTerminalWhenAttached, false);
  assert.deepEqual(runc.killArgv('abc', 'KILL'), [runc.binary, '--root', join(runDir, 'runc'), 'kill', 'abc', 'KILL']);
});

test('a runc under another name is runc; a program that is neither is refused with what it said', () => {
  const runDir = join(dir, 'run-fake');
  const oci = findRuntime(fakeRuntime('oci', 'runc version 1.1.5'), PATH, runDir);
  assert.equal(oci.kind, 'runc');
  assert.equal(oci.version, 'runc version 1.1.5', 'what it said of itself, for version and info');
  assert.equal(findRuntime(fakeRuntime('crun-ish-runc', 'crun version 1.8'), PATH, runDir).kind, 'crun');
  assert.throws(
    () => findRuntime(fakeRuntime('youki', 'youki version 0.3'), PATH, runDir),
    (e: unknown) =>
      e instanceof DenError && e.code === 'DEN0641' && /said|printed "youki version 0.3"/.test(e.hint ?? ''),
  );
  assert.throws(() => findRuntime('no-such-runtime', PATH, runDir), /OCI runtime "no-such-runtime" not found in PATH/);
});

test('what a binary is, is remembered until the binary changes', () => {
  const runDir = join(dir, 'run-cache');
  const path = fakeRuntime('cached', 'runc version 1.0');
  const atime = new Date(2026, 0, 1);
  const mtime = new Date(2026, 0, 2);
  utimesSync(path, atime, mtime);
  assert.equal(findRuntime(path, PATH, runDir).kind, 'runc');
  // Same size and times, other words: the remembered answer stands (no exec on the hot path).
  writeFileSync(path, `#!/bin/sh\necho "crun version 1.0"\n`);
  utimesSync(path, atime, mtime);
  const remembered = findRuntime(path, PATH, runDir);
  assert.deepEqual([remembered.kind, remembered.version], ['runc', 'runc version 1.0']);
  // Changed (a new modification time): asked again.
  utimesSync(path, atime, new Date(mtime.getTime() + 5000));
  assert.equal(findRuntime(path, PATH, runDir).kind, 'crun');
});
