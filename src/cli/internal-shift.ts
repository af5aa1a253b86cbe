import { renameSync, rmSync } from 'node:fs';
import { errnoCode } from '../common/errors.js';
import { copyShifted, type IdShift } from '../snapshots/index.js';

/**
 * `den __shift SOURCE TEMPORARY DEST SHIFT`: the half of a shifted layer copy that runs inside the
 * rootless session, where files can be given subordinate ids. Copies the layer SOURCE to TEMPORARY
 * with owners shifted as SHIFT (JSON triplets) says, then renames it to DEST; when another den put
 * DEST in place first, its copy stands and this one goes. Answers on stdout with JSON lines:
 * {"progress": ...} now and then, then {"stats": ...} or {"error": ...}. Not a user command.
 */
export async function shiftMain(args: readonly string[]): Promise<number> {
  const [source, temporary, dest, shiftJson] = args;
  if (!source || !temporary || !dest || !shiftJson) {
    process.stderr.write('usage: den __shift SOURCE TEMPORARY DEST SHIFT\n');
    return 2;
  }
  const say = (answer: object) => process.stdout.write(JSON.stringify(answer) + '\n');
  try {
    const shift = JSON.parse(shiftJson) as IdShift;
    // den waits for the copy; when it is gone (killed), so is the reason to copy: stop, clean up.
    const parent = process.ppid;
    const stats = copyShifted(source, temporary, shift, {
      onProgress: (progress) => say({ progress }),
      stop: () => process.ppid !== parent,
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
