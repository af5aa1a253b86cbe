import assert from 'node:assert/strict';
import { test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoff, HttpTransport, retryAfterMs, type RetryPolicy } from './http-transport.js';

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

test('an aborted signal stops a request waiting for an answer, a body being read, and a retry wait', async () => {
  // A server on 127.0.0.1 (a real socket, no registry needed): /silent never answers, /body sends
  // part of a body and stalls, /busy answers 503 (retried after a Retry-After of 30 s).
  const server = http.createServer((req, res) => {
    if (req.url === '/body') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
    } else if (req.url === '/busy') {
      res.writeHead(503, { 'retry-after': '30' });
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const why = new Error('interrupted by SIGTERM');
  const transportFor = (signal: AbortSignal) =>
    new HttpTransport({
      registry: `127.0.0.1:${port}`,
      verifyTls: false,
      ca: [],
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      timeoutMs: 30_000,
      userAgent: 'den-test',
      signal,
    });
  const abortedSoon = () => {
    const c = new AbortController();
    setTimeout(() => c.abort(why), 100);
    return c.signal;
  };
  const get = (t: HttpTransport, path: string) =>
    t.send({ method: 'GET', url: new URL(`http://127.0.0.1:${port}${path}`), allowHttp: true });
  try {
    for (const path of ['/silent', '/busy']) {
      const t = transportFor(abortedSoon());
      const started = Date.now();
      await assert.rejects(get(t, path), (e) => e === why, path);
      assert.ok(Date.now() - started < 5_000, `${path}: stopped at once`);
      t.close();
    }
    const t = transportFor(abortedSoon());
    const res = await get(t, '/body');
    await assert.rejects(
      (async () => {
        for await (const chunk of res.body) void chunk;
      })(),
      (e) => e === why,
    );
    t.close();
    const done = new AbortController();
    done.abort(why);
    await assert.rejects(get(transportFor(done.signal), '/body'), (e) => e === why, 'already aborted: no request');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
