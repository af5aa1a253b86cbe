import { invalidArgument } from '../../common/errors.js';

/** docker's default detach sequence: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11];

/** The control keys by name, from ctrl-@ (0) through ctrl-_ (31), as docker names them. */
const CONTROL_NAMES = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/**
 * Parses docker's `--detach-keys`: keys separated by commas, each a single character (`a`), a
 * control key (`ctrl-a` .. `ctrl-z`, `ctrl-@`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`),
 * or `DEL`. `"ctrl-a,x"` is the bytes 0x01 0x78.
 */
export function parseDetachKeys(text: string): number[] {
  const keys: number[] = [];
  for (const key of text.split(',')) {
    const bytes = Buffer.from(key);
    if (bytes.length === 1) {
      keys.push(bytes[0]!);
      continue;
    }
    const control = key.startsWith('ctrl-') && key.length === 6 ? CONTROL_NAMES.indexOf(key[5]!) : -1;
    if (control >= 0) keys.push(control);
    else if (key === 'DEL') keys.push(0x7f);
    else {
      throw invalidArgument('DEN1122', `invalid detach keys "${text}": unknown key "${key}"`, {
        hint: 'keys separated by commas: a letter, ctrl-a to ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_, DEL',
      });
    }
  }
  return keys;
}

/**
 * Watches keys on their way to a container for the detach sequence, as docker's attach does: keys
 * that could begin the sequence are held back; the whole sequence detaches and is never sent; a
 * key that breaks it sends the held keys on, then itself. Chunks may split the sequence anywhere.
 */
export class DetachScanner {
  private matched = 0;

  constructor(private readonly keys: readonly number[]) {}

  /** What of `chunk` goes to the container, and whether the sequence was completed in it. */
  feed(chunk: Uint8Array): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    const keys = this.keys;
    if (keys.length === 0) return { forward: Buffer.from(chunk), detached: false };
    for (const byte of chunk) {
      if (byte !== keys[this.matched]) {
        out.push(...keys.slice(0, this.matched));
        this.matched = 0;
      }
      if (byte === keys[this.matched]) {
        this.matched++;
        if (this.matched === keys.length) return { forward: Buffer.from(out), detached: true };
      } else {
        out.push(byte);
      }
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
