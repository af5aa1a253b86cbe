/**
 * A stream's chunks one at a time, as they were pushed, with a read-ahead of its own.
 *
 * A Readable's async iterator calls read(), which joins everything buffered into one new Buffer: a
 * copy of every byte when the producer runs ahead (measured: a tenth of the unpacker's time on a
 * zstd layer, whose 64 KiB pipe reads piled up). Here the stream flows, its chunks are queued
 * untouched, and it is paused only when the queue holds `highWaterMark` bytes, so that a
 * decompressor can keep running while the unpacker is busy in the file system.
 */
const DEFAULT_HIGH_WATER_MARK = 8 << 20;

export function streamChunks(
  stream: NodeJS.ReadableStream,
  highWaterMark = DEFAULT_HIGH_WATER_MARK,
): AsyncIterator<Buffer | string> & { return(): Promise<IteratorResult<Buffer | string>> } {
  // Text (a stream with an encoding set) is passed on for the reader to refuse.
  const queue: Array<Buffer | string> = [];
  let head = 0;
  let queued = 0;
  let paused = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  const onData = (chunk: Buffer | string): void => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= highWaterMark && !paused) {
      paused = true;
      stream.pause();
    }
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (error: unknown): void => {
    failure ??= { error };
    notify();
  };
  const onClose = (): void => {
    // Destroyed before its end, without an error: the data stops short, which must not pass for
    // the end of the archive (the stream's own iterator says ERR_STREAM_PREMATURE_CLOSE too).
    if (!ended && !failure) failure = { error: new Error('the layer stream was closed before its end') };
    notify();
  };
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const detach = (): void => {
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
    stream.removeListener('close', onClose);
    // Whatever the stream says once the reader is done with it must not crash the process as an
    // unhandled 'error' event.
    stream.removeListener('error', onError);
    stream.on('error', () => undefined);
  };
  const state = stream as { readableEnded?: boolean; destroyed?: boolean; errored?: unknown };
  if (state.readableEnded) ended = true;
  else if (state.destroyed) onError(state.errored ?? new Error('the layer stream was closed before its end'));
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  // A 'data' listener does not restart a stream that someone paused on purpose; this does.
  stream.resume();

  return {
    async next(): Promise<IteratorResult<Buffer | string>> {
      for (;;) {
        if (head < queue.length) {
          const chunk = queue[head] as Buffer | string;
          queue[head++] = EMPTY;
          if (head > 1024 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
          queued -= chunk.length;
          if (paused && queued < highWaterMark / 2) {
            paused = false;
            stream.resume();
          }
          return { done: false, value: chunk };
        }
        if (failure) throw failure.error;
        if (ended) {
          detach();
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    /** Stops reading: the stream is destroyed, as a Readable's own iterator would do. */
    async return(): Promise<IteratorResult<Buffer | string>> {
      detach();
      queue.length = 0;
      const destroy = (stream as { destroy?: () => void }).destroy;
      if (typeof destroy === 'function') destroy.call(stream);
      return { done: true, value: undefined };
    },
  };
}

const EMPTY = Buffer.alloc(0);
