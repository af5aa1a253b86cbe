import { createReadStream } from 'node:fs';
import { isDenError } from '../common/errors.js';
import { unpackLayer } from '../unpack/index.js';

/**
 * `den __unpack DEST`: the half of `den import` (and later pulls) that runs inside the rootless
 * session, where files can be given subordinate ids. Reads a tar on stdin and answers with one JSON
 * line on stdout: {"stats": ...} or {"error": ...}. Not a user command.
 */
export async function unpackMain(args: readonly string[]): Promise<number> {
  const dest = args[0];
  if (!dest) {
    process.stderr.write('usage: den __unpack DEST\n');
    return 2;
  }
  try {
    // 1 MiB reads: process.stdin reads 64 KiB at a time, which made the unpack half again as slow.
    const input = createReadStream('', { fd: 0, highWaterMark: 1 << 20 });
    const stats = await unpackLayer(input, dest, {
      canMknod: false,
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    });
    process.stdout.write(JSON.stringify({ stats }) + '\n');
    return 0;
  } catch (e) {
    const error = isDenError(e)
      ? { kind: e.kind, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }
      : { kind: 'Internal', code: 'DEN0321', message: `unpack failed unexpectedly: ${(e as Error).message}` };
    process.stdout.write(JSON.stringify({ error }) + '\n');
    return 1;
  }
}
