import { renameSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { errnoCode, unavailable } from '../common/errors.js';
import { orphanCheck, serveWorker } from '../session/index.js';
import { copyShifted, type IdShift, type ShiftCopyStats } from '../snapshots/index.js';

/**
 * `den __shift SOURCE TEMPORARY DEST SHIFT PARENT`: the half of a shifted layer copy that runs
 * inside the rootless session, where files can be given subordinate ids. Copies the layer SOURCE
 * to TEMPORARY with owners shifted as SHIFT (JSON triplets) says, then renames it to DEST; when
 * another den put DEST in place first, its copy stands and this one goes. Answers with den's
 * worker protocol (session/worker.ts), with progress. PARENT is the pid of the den that waits for
 * it. Not a user command.
 */
export async function shiftMain(args: readonly string[]): Promise<number> {
  const [source, temporary, dest, shiftJson, parentPid] = args;
  if (!source || !temporary || !dest || !shiftJson || !parentPid) {
    process.stderr.write('usage: den __shift SOURCE TEMPORARY DEST SHIFT PARENT\n');
    return 2;
  }
  // den waits for the copy; when it is gone (killed, even before this child began), so is the
  // reason to copy: do not start, or stop and clean up.
  const orphaned = orphanCheck(parentPid);
  if (orphaned()) return 1;
  const unexpected = (e: unknown) =>
    unavailable(
      'DEN0688',
      `cannot copy layer ${basename(dest).slice(0, 12)} with shifted owners: ${(e as Error).message}`,
      {
        hint: 'check the free space where den keeps its data (df), or set DEN_SHIFT=fuse to shift ids without copying',
        cause: e,
      },
    );
  return serveWorker<ShiftCopyStats, ShiftCopyStats>(unexpected, async (progress) => {
    try {
      const shift = JSON.parse(shiftJson) as IdShift;
      const stats = copyShifted(source, temporary, shift, { onProgress: progress, stop: orphaned });
      try {
        renameSync(temporary, dest);
      } catch (e) {
        if (errnoCode(e) !== 'ENOTEMPTY' && errnoCode(e) !== 'EEXIST') throw e;
        rmSync(temporary, { recursive: true, force: true });
      }
      return stats;
    } catch (e) {
      rmSync(temporary, { recursive: true, force: true });
      throw e;
    }
  });
}
