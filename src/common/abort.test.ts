import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortReason, linkedAbort, onAbort, sleepUnlessAborted, throwIfAborted } from './abort.js';

test('the reason given to abort() is what aborted work fails with', () => {
  const c = new AbortController();
  throwIfAborted(c.signal);
  throwIfAborted(undefined);
  const why = new Error('interrupted by SIGINT');
  c.abort(why);
  assert.throws(
    () => throwIfAborted(c.signal),
    (e) => e === why,
  );
  assert.equal(abortReason(c.signal), why);
  const plain = new AbortController();
  plain.abort('not an error');
  assert.match(abortReason(plain.signal).message, /aborted/);
});

test('onAbort acts once, at once when already aborted, and not after it stopped listening', () => {
  const c = new AbortController();
  const seen: string[] = [];
  const stop = onAbort(c.signal, (r) => seen.push(`a:${r.message}`));
  const stopped = onAbort(c.signal, (r) => seen.push(`b:${r.message}`));
  stopped();
  c.abort(new Error('x'));
  c.abort(new Error('y'));
  stop();
  onAbort(c.signal, (r) => seen.push(`c:${r.message}`));
  assert.deepEqual(seen, ['a:x', 'c:x']);
});

test('sleepUnlessAborted waits, or fails as soon as the signal is aborted', async () => {
  await sleepUnlessAborted(5, undefined);
  const c = new AbortController();
  const started = Date.now();
  setTimeout(() => c.abort(new Error('stop')), 10);
  await assert.rejects(sleepUnlessAborted(10_000, c.signal), /stop/);
  assert.ok(Date.now() - started < 5_000);
  await assert.rejects(sleepUnlessAborted(10_000, c.signal), /stop/, 'already aborted: at once');
});

test("a linked controller is aborted with its parent's reason, and by itself without the parent", () => {
  const parent = new AbortController();
  const child = linkedAbort(parent.signal);
  const other = linkedAbort(parent.signal);
  other.abort(new Error('own'));
  assert.equal(parent.signal.aborted, false);
  const why = new Error('parent');
  parent.abort(why);
  assert.equal(child.signal.reason, why);
  assert.equal((other.signal.reason as Error).message, 'own');
  assert.equal(linkedAbort(undefined).signal.aborted, false);
});
