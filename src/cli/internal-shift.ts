import { renameSync, rmSync } from 'node:fs';
import { errnoCode } from '../common/errors.js';
import { copyShifted, type IdShift } from '../snapshots/index.js';

/**
 * `den __shift SOURCE TEMPORARY DEST SHIFT PARENT`: the half of a shifted layer copy that runs inside the
 * rootless session, where files can be given subordinate ids. Copies the layer SOURCE to TEMPORARY
 * with owners shifted as SHIFT (JSON triplets) says, then renames it to DEST; when another den put
 * DEST in place first, its copy stands and this one goes. Answers on stdout with JSON lines:
 * {"progress": ...} now and then, then {"stats": ...} or {"error": ...}. PARENT is the pid of the
 * den that waits for it. Not a user command.
 */
export async function shiftMain(args: readonly string[]): Promise<number> {
  const [source, temporary, dest, shiftJson, parentPid] = args;
  if (!source || !temporary || !dest || !shiftJson || !parentPid) {
    process.stderr.write('usage: den __shift SOURCE TEMPORARY DEST SHIFT PARENT\n');
    return 2;
  }
  // den waits for the copy; when it is gone (killed, even before this child began), so is the
  // reason to copy: do not start, or stop and clean up.
  const orphaned = () => process.ppid !== Number(parentPid);
  if (orphaned()) return 1;
  const say = (answer: object) => process.stdout.write(JSON.stringify(answer) + '\n');
  try {
    const shift = JSON.parse(shiftJson) as IdShift;
    const stats = copyShifted(source, temporary, shift, {
      onProgress: (progress) => say({ progress }),
      stop: orphaned,
    });
    try {
      renameSync(temporary, dest);
    } catch (e) {
      if (errnoCode(e) !== 'ENOTEMPTY' && errnoCode(e) !== 'EEXIST') throw e;
      rmSync(temporary, { recursive: true, force: true });
    }
    say({ stats });
    return 0;
  } catch (e) {
    rmSync(temporary, { recursive: true, force: true });
    say({ error: { message: (e as Error).message } });
    return 1;
  }
}
