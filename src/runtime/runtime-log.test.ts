import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRuntimeFailure } from './runtime-log.js';

const dir = mkdtempSync(join(tmpdir(), 'den-runtime-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function failureOf(lines: string[]) {
  const file = join(dir, `log-${Math.random()}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return readRuntimeFailure(file);
}

test('error entries of the JSON log are the runtime failing, with docker exit codes', () => {
  assert.deepEqual(failureOf(['{"level":"error","msg":"executable file `nope` not found in $PATH"}']), {
    exitCode: 127,
    message: 'executable file `nope` not found in $PATH',
  });
  assert.equal(failureOf(['{"level":"error","msg":"open `/etc/passwd`: Permission denied"}'])?.exitCode, 126);
  // runc words it without the name between: still 127, as docker gives.
  const runc = 'runc run failed: unable to start container process: exec: "nope": executable file not found in $PATH';
  assert.equal(failureOf([JSON.stringify({ level: 'error', msg: runc })])?.exitCode, 127);
  assert.equal(failureOf(['{"level":"fatal","msg":"cgroups in hybrid mode not supported"}'])?.exitCode, 125);
});

test('warnings, a missing log, and lines that are not the runtime JSON are no failure', () => {
  assert.equal(failureOf(['{"level":"warning","msg":"cannot set something"}']), undefined);
  assert.equal(readRuntimeFailure(join(dir, 'absent')), undefined);
  // A -t container's terminal output that reached the log (seen once with crun under script(1)).
  assert.equal(failureOf(['/dev/pts/0', '27 91', 'null', '42']), undefined);
  assert.equal(failureOf(['/dev/pts/0', '{"level":"error","msg":"boom"}'])?.message, 'boom');
});
