/**
 * One unpack for bench/unpack-bench.ts, in a process of its own as `tar -x` is: reads a layer
 * blob (tar, tar+gzip or tar+zstd), unpacks it into DEST and prints one JSON line with the time
 * the unpack took inside the process (without Node.js start-up) and the unpacker's stats.
 *
 *   node .bench/unpack-worker.cjs BLOB DEST
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { decompressor, unpackLayer } from '../src/unpack/index.js';

async function main(): Promise<void> {
  const [blob, dest] = process.argv.slice(2);
  if (!blob || !dest) throw new Error('usage: unpack-worker BLOB DEST');
  const start = process.hrtime.bigint();
  const input = createReadStream(blob, { highWaterMark: 1 << 20 });
  // DEN_BENCH_IGZIP=PATH inflates gzip with ISA-L's igzip, as den does where it is installed.
  const igzip = process.env.DEN_BENCH_IGZIP;
  const tar = decompressor({ layer: basename(blob), ...(igzip ? { igzip } : {}) });
  input.on('error', (e) => tar.destroy(e));
  input.pipe(tar);
  const stats = await unpackLayer(tar, dest, { canMknod: true, onWarning: (m) => console.error(m) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, ...stats })}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
