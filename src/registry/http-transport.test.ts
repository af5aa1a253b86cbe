import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoff, retryAfterMs, type RetryPolicy } from './http-transport.js';

test('backoff doubles from the base, with jitter in [d/2, d], up to the maximum', () => {
  const policy: RetryPolicy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
  const bounds: [number, number, number][] = [
    [1, 50, 100],
    [2, 100, 200],
    [3, 200, 400],
    [4, 400, 800],
    [5, 500, 1000],
    [9, 500, 1000],
  ];
  for (const [attempt, min, max] of bounds) {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoff(policy, attempt);
      assert.ok(d >= min && d <= max, `attempt ${attempt}: ${d} not in [${min}, ${max}]`);
      seen.add(d);
    }
    assert.ok(seen.size > 10, `attempt ${attempt}: no jitter`);
  }
});

test('retryAfterMs: seconds or an HTTP date, bounded', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  const cases: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['0', 0],
    ['2', 2000],
    [' 5 ', 5000],
    ['3600', 30_000],
    ['Mon, 01 Jan 2024 00:00:03 GMT', 3000],
    ['Sun, 31 Dec 2023 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
  ];
  for (const [value, want] of cases) assert.equal(retryAfterMs(value, now), want, String(value));
});
