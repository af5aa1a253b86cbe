import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRuntimeFailure, type RuntimeFailureReason } from './runtime-log.js';

const dir = mkdtempSync(join(tmpdir(), 'den-runtime-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function failureOf(lines: string[]) {
  const file = join(dir, `log-${Math.random()}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return readRuntimeFailure(file);
}

test('error entries of the JSON log are the runtime failing, with why', () => {
  assert.deepEqual(failureOf(['{"level":"error","msg":"executable file `nope` not found in $PATH"}']), {
    reason: 'command-not-found',
    message: 'executable file `nope` not found in $PATH',
  });
  // The words crun 1.8 and runc 1.1 log (seen on the development machine).
  const cases: [string, RuntimeFailureReason][] = [
    ['executable file `nope` not found in $PATH: No such file or directory', 'command-not-found'],
    [
      'runc run failed: unable to start container process: exec: "nope": executable file not found in $PATH',
      'command-not-found',
    ],
    [
      'runc run failed: unable to start container process: exec: "/x": stat /x: no such file or directory',
      'command-not-found',
    ],
    ['open executable: Permission denied', 'command-cannot-run'],
    ['open executable: Operation not permitted', 'command-cannot-run'],
    ['runc run failed: unable to start container process: exec: "/etc": permission denied', 'command-cannot-run'],
    ['exec container process `/bin/x`: Exec format error', 'command-cannot-run'],
    ['cgroups in hybrid mode not supported', 'runtime-error'],
    // A file missing elsewhere is no missing command.
    ['mount `/src` to `/dst`: No such file or directory', 'runtime-error'],
    ['open `/dev/fuse`: Permission denied', 'runtime-error'],
  ];
  for (const [msg, reason] of cases) {
    assert.equal(failureOf([JSON.stringify({ level: 'error', msg })])?.reason, reason, msg);
  }
  assert.equal(failureOf(['{"level":"fatal","msg":"cgroups in hybrid mode not supported"}'])?.reason, 'runtime-error');
});

test('warnings, a missing log, and lines that are not the runtime JSON are no failure', () => {
  assert.equal(failureOf(['{"level":"warning","msg":"cannot set something"}']), undefined);
  assert.equal(readRuntimeFailure(join(dir, 'absent')), undefined);
  // A -t container's terminal output that reached the log (seen once with crun under script(1)).
  assert.equal(failureOf(['/dev/pts/0', '27 91', 'null', '42']), undefined);
  assert.equal(failureOf(['/dev/pts/0', '{"level":"error","msg":"boom"}'])?.message, 'boom');
});
