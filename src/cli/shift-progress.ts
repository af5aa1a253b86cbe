import type { ShiftProgress } from '../engine/index.js';
import { bar } from './pull-progress.js';

/**
 * Progress of the first copy of an image's layers for a new id mapping (rootless, where ids are
 * shifted by copying): on a terminal one line per layer redrawn in place, elsewhere one line when a
 * layer's copy starts, so a log says why the command took its time.
 */
export function shiftProgress(out: NodeJS.WriteStream = process.stderr): (p: ShiftProgress) => void {
  const tty = out.isTTY === true;
  let current: string | undefined;
  return (p) => {
    const id = p.layer.slice(0, 12);
    if (!tty) {
      if (current !== id) out.write(`${id}: copying with owners shifted for this id mapping (first use)\n`);
      current = id;
      return;
    }
    if (current !== undefined && current !== id) out.write('\n');
    current = id;
    const count = `${p.entries}/${p.totalEntries || '?'} files`;
    out.write(
      `\r\x1b[2K${id}: ${p.done ? 'Shifted copy complete' : `Copying ${bar(p.entries, p.totalEntries)} ${count}`}`,
    );
    if (p.done) {
      out.write('\n');
      current = undefined;
    }
  };
}
