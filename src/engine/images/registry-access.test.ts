import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { forEachConcurrently } from './registry-access.js';

test('forEachConcurrently: at most `limit` at once, every item once, in order of starting', async () => {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    started.push(n);
    most = Math.max(most, ++running);
    await sleep(5);
    running--;
  });
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(most, 3);
});

test('forEachConcurrently: the first failure aborts the work under way, starts nothing more, and settles after it', async () => {
  const started: number[] = [];
  const cleaned: number[] = [];
  const stop = new AbortController();
  const first = new Error('layer 2 is corrupt');
  await assert.rejects(
    forEachConcurrently(
      [1, 2, 3, 4, 5],
      3,
      async (n) => {
        started.push(n);
        try {
          if (n === 2) throw first;
          // The others wait for the abort, as a download waits for its bytes, then clean up slowly.
          await new Promise((_, reject) => stop.signal.addEventListener('abort', () => reject(stop.signal.reason)));
        } finally {
          await sleep(20);
          cleaned.push(n);
        }
      },
      stop,
    ),
    (e) => e === first,
  );
  assert.deepEqual(started, [1, 2, 3]);
  assert.deepEqual(cleaned.sort(), [1, 2, 3], 'settled only once every item under way had cleaned up');
  assert.equal(stop.signal.reason, first);
});

test('forEachConcurrently: a controller aborted by the caller starts nothing', async () => {
  const stop = new AbortController();
  stop.abort(new Error('interrupted'));
  let ran = false;
  await assert.rejects(
    forEachConcurrently([1, 2], 2, async () => void (ran = true), stop),
    /interrupted/,
  );
  assert.equal(ran, false);
});
