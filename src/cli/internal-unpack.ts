import { createReadStream, rmSync } from 'node:fs';
import { internal, isDenError } from '../common/errors.js';
import { orphanCheck, serveWorker } from '../session/index.js';
import { unpackLayer } from '../unpack/index.js';

/**
 * `den __unpack DEST PARENT`: the half of a layer's unpacking that runs inside the rootless
 * session, where files can be given subordinate ids: reads a tar on stdin and answers with den's
 * worker protocol (session/worker.ts). PARENT is the pid of the den that waits. Not a user command.
 */
export async function unpackMain(args: readonly string[]): Promise<number> {
  const [dest, parentPid] = args;
  if (!dest || !parentPid) {
    process.stderr.write('usage: den __unpack DEST PARENT\n');
    return 2;
  }
  // A den killed (SIGKILL) while this child starts or unpacks leaves it running: it would make DEST
  // after the next den swept the dead one's temporaries, or leave it half-filled, and nothing would
  // remove it. So it starts only while its den lives, and an orphan removes what it made.
  const orphaned = orphanCheck(parentPid);
  if (orphaned()) return 1;
  const unexpected = (e: unknown) =>
    internal('DEN0321', `unpack failed unexpectedly: ${(e as Error).message}`, { cause: e });
  return serveWorker(unexpected, async () => {
    try {
      // 1 MiB reads: process.stdin reads 64 KiB at a time, which made the unpack half again as slow.
      const input = createReadStream('', { fd: 0, highWaterMark: 1 << 20 });
      return await unpackLayer(input, dest, {
        canMknod: false,
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      });
    } catch (e) {
      // The den that waited is gone (its input ended early): a sweep of its leftovers may be done.
      if (orphaned() && !(isDenError(e) && e.kind === 'AlreadyExists')) rmSync(dest, { recursive: true, force: true });
      throw e;
    }
  });
}
