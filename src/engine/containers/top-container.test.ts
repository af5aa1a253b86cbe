import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { DenError } from '../../common/errors.js';
import { processesInNamespaceOf, selectRows } from './top-container.js';

const PS_EF = [
  'UID          PID    PPID  C STIME TTY          TIME CMD',
  'root           1       0  0 15:12 ?        00:01:15 /sbin/init splash',
  'dentest     9124    9121  0 18:39 ?        00:00:02 sh -c while true; do   sleep 1; done',
  'dentest    28804       1  0 18:57 ?        00:00:00 sleep 77',
  '',
].join('\n');

test("top keeps ps's rows of the container's pids, the command whole", () => {
  const top = selectRows(PS_EF, new Set([9124, 28804]), ['-ef']);
  assert.deepEqual(top.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(top.processes, [
    ['dentest', '9124', '9121', '0', '18:39', '?', '00:00:02', 'sh -c while true; do sleep 1; done'],
    ['dentest', '28804', '1', '0', '18:57', '?', '00:00:00', 'sleep 77'],
  ]);
  assert.deepEqual(selectRows(PS_EF, new Set(), ['-ef']).processes, []);
});

test('ps options without a PID column are refused', () => {
  assert.throws(
    () => selectRows('COMMAND\nsh\n', new Set([1]), ['-o', 'comm']),
    (e: unknown) => e instanceof DenError && e.code === 'DEN1125',
  );
});

test("a process's pid namespace holds this process and its children, and not a dead pid", async () => {
  const child = spawn('sleep', ['5']);
  try {
    const pids = processesInNamespaceOf(process.pid);
    assert.ok(pids.has(process.pid));
    assert.ok(pids.has(child.pid!));
    assert.equal(processesInNamespaceOf(2 ** 22 + 1).size, 0);
  } finally {
    child.kill();
  }
});
