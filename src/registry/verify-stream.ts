import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { digestFromHash, newHash, type Descriptor } from '../content/index.js';
import { digestMismatch, sizeMismatch } from './registry-errors.js';

export interface VerifyOptions {
  /** Bytes the caller already has (a resumed download): counted, and hashed into `prefixHash`. */
  offset?: number;
  /** A hash of the first `offset` bytes; copied, never consumed. */
  prefixHash?: Hash;
  /** Bytes to drop from the front of the stream (a server that ignored a Range request). */
  skip?: number;
}

/**
 * A pass-through that hashes and counts a blob as it streams, and fails (destroying itself) as soon
 * as it sees more bytes than the descriptor's size, or at the end when the size or digest differs.
 *
 * Bytes flow on before the end is checked, so a consumer must treat the stream's data as
 * provisional until it ends: a stream that errors instead of ending carried bad content. (The
 * content store checks the digest again when an ingest commits.)
 */
export function verifyingStream(
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
  options: VerifyOptions = {},
): Transform {
  const hash = options.prefixHash ? options.prefixHash.copy() : newHash();
  let received = options.offset ?? 0;
  let skip = options.skip ?? 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) return cb();
      }
      received += chunk.length;
      if (received > descriptor.size)
        return cb(sizeMismatch(what, descriptor.size, `more than ${descriptor.size} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (received !== descriptor.size) {
        return cb(sizeMismatch(what, descriptor.size, `${received} bytes (the transfer ended early)`));
      }
      const actual = digestFromHash(hash);
      if (actual !== descriptor.digest) return cb(digestMismatch(what, descriptor.digest, actual));
      cb();
    },
  });
}
