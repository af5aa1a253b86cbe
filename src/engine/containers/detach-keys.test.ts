import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../../common/errors.js';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from './detach-keys.js';

test("--detach-keys in docker's syntax", () => {
  const cases: [string, number[]][] = [
    ['ctrl-p,ctrl-q', [...DEFAULT_DETACH_KEYS]],
    ['ctrl-a,x', [1, 0x78]],
    ['ctrl-@', [0]],
    ['ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_', [27, 28, 29, 30, 31]],
    ['ctrl-z', [26]],
    ['DEL', [127]],
    ['e,x,i,t', [0x65, 0x78, 0x69, 0x74]],
    ['a', [0x61]],
  ];
  for (const [text, keys] of cases) assert.deepEqual(parseDetachKeys(text), keys, text);
  for (const bad of ['ctrl-', 'ctrl-1', 'ctrl-A', 'ab', '', 'a,,b', ',', 'ctrl-pq', 'é']) {
    assert.throws(
      () => parseDetachKeys(bad),
      (e: unknown) => e instanceof DenError && e.code === 'DEN1122',
      JSON.stringify(bad),
    );
  }
});

/** Feeds chunks through a scanner; what went on, and after which chunk it detached (-1: never). */
function scan(keys: number[], chunks: string[]): { sent: string; detachedAt: number } {
  const scanner = new DetachScanner(keys);
  let sent = '';
  for (const [i, chunk] of chunks.entries()) {
    const r = scanner.feed(Buffer.from(chunk, 'latin1'));
    sent += r.forward.toString('latin1');
    if (r.detached) return { sent, detachedAt: i };
  }
  return { sent, detachedAt: -1 };
}

test('the detach sequence is held back and detaches; a broken one is sent on', () => {
  const pq = [...DEFAULT_DETACH_KEYS];
  assert.deepEqual(scan(pq, ['ls\r', '\x10\x11']), { sent: 'ls\r', detachedAt: 1 });
  assert.deepEqual(scan(pq, ['ab\x10', '\x11cd']), { sent: 'ab', detachedAt: 1 }, 'split across chunks');
  assert.deepEqual(scan(pq, ['\x10x', 'y']), { sent: '\x10xy', detachedAt: -1 }, 'ctrl-p alone reaches the container');
  assert.deepEqual(
    scan(pq, ['\x10\x10\x11']),
    { sent: '\x10', detachedAt: 0 },
    'a repeated first key restarts the match',
  );
  assert.deepEqual(scan(pq, ['\x10']), { sent: '', detachedAt: -1 }, 'held while it may still match');
  assert.deepEqual(scan([0x61], ['xa']), { sent: 'x', detachedAt: 0 }, 'a one-key sequence');
  assert.deepEqual(scan([1, 0x78], ['\x01y\x01', 'x']), { sent: '\x01y', detachedAt: 1 });
  assert.deepEqual(scan([], ['\x10\x11']), { sent: '\x10\x11', detachedAt: -1 }, 'no sequence: nothing detaches');
});
