import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { streamChunks } from './stream-chunks.js';

async function all(it: AsyncIterator<Buffer | string>): Promise<Array<Buffer | string>> {
  const out: Array<Buffer | string> = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

test('chunks come one at a time, the very buffers that were pushed, never joined', async () => {
  const chunks = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')];
  const stream = new PassThrough();
  const it = streamChunks(stream);
  for (const c of chunks) stream.write(c);
  stream.end();
  await tick(); // all three are buffered by now: a Readable's iterator would join them
  const got = await all(it);
  assert.equal(got.length, 3);
  got.forEach((c, i) => assert.equal(c, chunks[i]));
});

test('the stream is paused at the high-water mark and resumed once the reader catches up', async () => {
  const stream = new PassThrough({ highWaterMark: 1 });
  const it = streamChunks(stream, 10);
  for (let i = 0; i < 4; i++) stream.write(Buffer.alloc(4));
  await tick();
  assert.equal(stream.isPaused(), true, '12 bytes queued, over 10');
  await it.next();
  await it.next();
  assert.equal(stream.isPaused(), false, '4 bytes left, under half');
  stream.end();
  assert.equal((await all(it)).length, 2);
});

test('an error is thrown after the chunks before it; a stream closed early is an error too', async () => {
  const failing = new PassThrough();
  const it = streamChunks(failing);
  failing.write(Buffer.from('x'));
  failing.destroy(new Error('network gone'));
  assert.equal(String((await it.next()).value), 'x');
  await assert.rejects(it.next(), /network gone/);

  const cut = new PassThrough();
  const it2 = streamChunks(cut);
  cut.destroy();
  await assert.rejects(it2.next(), /closed before its end/);
});

test('a stream that has already ended, or was paused on purpose, still reads to its end', async () => {
  const ended = Readable.from([Buffer.from('x')]);
  ended.resume();
  await new Promise((resolve) => ended.on('end', resolve));
  assert.deepEqual(await all(streamChunks(ended)), []);

  const paused = new PassThrough();
  paused.pause();
  paused.end(Buffer.from('y'));
  assert.deepEqual((await all(streamChunks(paused))).map(String), ['y']);
});

test('return() stops reading and destroys the stream', async () => {
  const stream = new PassThrough();
  const it = streamChunks(stream);
  stream.write(Buffer.from('x'));
  await it.return();
  assert.equal(stream.destroyed, true);
});
