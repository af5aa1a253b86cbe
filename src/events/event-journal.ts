import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../common/errors.js';
import { formatEventJson, nowNano, parseEventJson, type DenEvent } from './event.js';

/** Where events go: the engine emits, a sink keeps (the journal) or forwards (an API server's stream). */
export interface EventSink {
  append(event: DenEvent): void;
}

/** An event sink that drops everything (tests of use cases that do not look at events). */
export const DISCARD_EVENTS: EventSink = { append: () => {} };

/** The journal's size at which it is rotated: the current file becomes `.1`, and the old `.1` goes. */
export const JOURNAL_MAX_BYTES = 1_000_000;

/** How often a follower looks for new lines. */
const FOLLOW_POLL_MS = 100;

/**
 * den's events journal: one JSON line per event (event.ts), appended by every den process that
 * moves a container or an image along, with no daemon to collect them. Each event is one write()
 * with O_APPEND, which the kernel places at the end of the file as one piece, so dens appending at
 * once never interleave their lines. The journal is bounded: a writer that finds it at
 * JOURNAL_MAX_BYTES renames it to `PATH.1` (replacing the older one) and starts a new one, so at
 * most two files of history are kept.
 *
 *   const journal = new EventJournal('/home/me/.local/share/den/events.log');
 *   journal.append(newEvent('container', 'start', id, { name: 'web', image: 'busybox:latest' }));
 *   for (const e of journal.history()) ...          // everything kept, oldest first
 *   await journal.follow({ from: 'end', onEvent, signal });   // tail -f, across rotations
 */
export class EventJournal implements EventSink {
  constructor(
    readonly path: string,
    private readonly maxBytes = JOURNAL_MAX_BYTES,
  ) {}

  get rotatedPath(): string {
    return `${this.path}.1`;
  }

  /**
   * Appends one event. A journal that cannot be written (a full disk, a read-only store) loses the
   * event and throws: the caller decides whether that matters (the engine only warns).
   */
  append(event: DenEvent): void {
    const line = `${formatEventJson(event)}\n`;
    let fd = this.open();
    try {
      const { size, ino } = fstatSync(fd);
      if (size >= this.maxBytes) {
        // Two writers may find it full at once: only the one whose file is still the journal renames it.
        if (inodeOf(this.path) === ino) renameSync(this.path, this.rotatedPath);
        closeSync(fd);
        fd = this.open();
      }
      writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
  }

  private open(): number {
    try {
      return openSync(this.path, 'a', 0o600);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      return openSync(this.path, 'a', 0o600);
    }
  }

  /** The events of the rotated file, oldest first (the current file is read by follow). */
  private rotated(): DenEvent[] {
    return readLines(this.rotatedPath);
  }

  /** Every event kept, oldest first. */
  history(): DenEvent[] {
    return [...this.rotated(), ...readLines(this.path)];
  }

  /**
   * Calls `onEvent` for each event as it is appended, like `tail -f`, across rotations, until
   * `signal` aborts or an event's time passes `until` (or the clock does). `from: 'start'` first
   * delivers what the journal already keeps (with the rotated file), `'end'` only what comes next.
   */
  async follow(options: {
    from: 'start' | 'end';
    onEvent: (e: DenEvent) => void;
    until?: bigint;
    signal?: AbortSignal;
  }): Promise<void> {
    const { onEvent, until, signal } = options;
    const deliver = (e: DenEvent): boolean => {
      if (until !== undefined && e.timeNano > until) return false;
      onEvent(e);
      return true;
    };
    if (options.from === 'start') for (const e of this.rotated()) if (!deliver(e)) return;
    const tail = new Tail(this.path, options.from === 'end');
    try {
      for (;;) {
        for (const e of tail.read()) if (!deliver(e)) return;
        if (signal?.aborted || (until !== undefined && nowNano() > until)) return;
        await sleep(FOLLOW_POLL_MS, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    } finally {
      tail.close();
    }
  }
}

/** The events of one journal file; a missing file has none, a torn last line is skipped. */
function readLines(path: string): DenEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .map(parseEventJson)
    .filter((e): e is DenEvent => e !== undefined);
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Reads a journal file as it grows. When the file at the path is another one (rotated), the rest
 * of the old one is read, then the new one from its start.
 */
class Tail {
  private fd: number | undefined;
  private ino: number | undefined;
  private offset = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.alloc(64 * 1024);

  constructor(
    private readonly path: string,
    atEnd: boolean,
  ) {
    this.reopen();
    if (atEnd && this.fd !== undefined) this.offset = fstatSync(this.fd).size;
  }

  private reopen(): void {
    this.close();
    this.offset = 0;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    try {
      this.fd = openSync(this.path, 'r');
      this.ino = fstatSync(this.fd).ino;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }

  /** The complete lines appended since the last read. */
  read(): DenEvent[] {
    const events = this.drain();
    const now = inodeOf(this.path);
    if (now !== undefined && now !== this.ino) {
      this.reopen();
      events.push(...this.drain());
    }
    return events;
  }

  private drain(): DenEvent[] {
    if (this.fd === undefined) return [];
    let text = this.partial;
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (n === 0) break;
      this.offset += n;
      text += this.decoder.write(this.buffer.subarray(0, n));
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map(parseEventJson).filter((e): e is DenEvent => e !== undefined);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
