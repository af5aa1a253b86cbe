import { createReadStream, rmSync } from 'node:fs';
import { isDenError } from '../common/errors.js';
import { unpackLayer } from '../unpack/index.js';

/**
 * `den __unpack DEST [PARENT]`: the half of `den import` (and later pulls) that runs inside the
 * rootless session, where files can be given subordinate ids. Reads a tar on stdin and answers with
 * one JSON line on stdout: {"stats": ...} or {"error": ...}. PARENT is the pid of the den that
 * waits for the answer. Not a user command.
 */
export async function unpackMain(args: readonly string[]): Promise<number> {
  const [dest, parentPid] = args;
  if (!dest) {
    process.stderr.write('usage: den __unpack DEST [PARENT]\n');
    return 2;
  }
  // A den killed (SIGKILL) while this child starts or unpacks leaves it running: it would make DEST
  // after the next den swept the dead one's temporaries, or leave it half-filled, and nothing would
  // remove it. So it starts only while its den lives, and an orphan removes what it made.
  const orphaned = () => parentPid !== undefined && process.ppid !== Number(parentPid);
  if (orphaned()) return 1;
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
    // The den that waited is gone (its input ended early): a sweep of its leftovers may be done.
    if (orphaned() && !(isDenError(e) && e.kind === 'AlreadyExists')) rmSync(dest, { recursive: true, force: true });
    const error = isDenError(e)
      ? {
          kind: e.kind,
          code: e.code,
          message: e.message,
          ...(e.hint ? { hint: e.hint } : {}),
          ...(e.reason ? { reason: e.reason } : {}),
        }
      : { kind: 'Internal', code: 'DEN0321', message: `unpack failed unexpectedly: ${(e as Error).message}` };
    process.stdout.write(JSON.stringify({ error }) + '\n');
    return 1;
  }
}
