import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * A detached container's log as its monitor writes it, the k8s-file format (one record per line):
 *
 *   2026-12-07T18:00:00.123456789+00:00 stdout F a whole line
 *   2026-12-07T18:00:00.123460000+00:00 stderr P the start of a long line, without its newline
 *
 * F ends a line of the container's output, P is a piece of one that goes on in a later record (a
 * line longer than the monitor's buffer, or output that had no newline yet). The text is the
 * output's bytes as they were, newline removed: binary output survives, and a line never mixes
 * with the other stream's.
 */
export interface LogRecord {
  /** Nanoseconds since the epoch. */
  time: bigint;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: Buffer;
}

/** One line of output, its pieces joined: what `den logs` prints. */
export interface LogLine {
  time: bigint;
  stream: 'stdout' | 'stderr';
  text: Buffer;
  /** False for output the container wrote without a final newline (yet). */
  complete: boolean;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Parses one record (without its newline); undefined for what is not one (a torn last line). */
export function parseLogRecord(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(SPACE);
  const b = a < 0 ? -1 : line.indexOf(SPACE, a + 1);
  if (b < 0 || line.length < b + 2) return undefined;
  const time = parseTimestamp(line.subarray(0, a).toString('latin1'));
  const stream = line.subarray(a + 1, b).toString('latin1');
  const flag = line[b + 1];
  if (time === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  if (flag !== 0x46 /* F */ && flag !== 0x50 /* P */) return undefined;
  // "F" alone (an empty line) has no space after the flag.
  const text = line.length > b + 2 ? line.subarray(b + 3) : Buffer.alloc(0);
  return { time, stream, partial: flag === 0x50, text };
}

/** RFC 3339 with nanoseconds and an offset, as conmon writes it, to nanoseconds since the epoch. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Nanoseconds to docker's timestamp form: RFC 3339 in UTC with nine digits. */
export function formatTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-12-07T18:00:00.123Z
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/**
 * Reads a log file from `offset` on and joins pieces into lines. Returns the lines, and where the
 * next read starts: after the last whole record, so that a record the monitor is still writing
 * is read whole next time. Pieces of a line not ended yet are carried in `pending` (per stream).
 */
export class LogReader {
  offset = 0;
  private readonly pending = new Map<'stdout' | 'stderr', { time: bigint; parts: Buffer[] }>();

  constructor(readonly path: string) {}

  /** The lines written since the last call; a file that was started afresh is read from its start. */
  read(): LogLine[] {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return [];
    }
    if (size < this.offset) {
      // The monitor started the file afresh (max-size): what was in it is gone.
      this.offset = 0;
      this.pending.clear();
    }
    if (size === this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    let got = 0;
    try {
      while (got < buffer.length) {
        const n = readSync(fd, buffer, got, buffer.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    const lines: LogLine[] = [];
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(NEWLINE, start);
      if (end < 0 || end >= got) break;
      const record = parseLogRecord(buffer.subarray(start, end));
      start = end + 1;
      if (record) this.add(record, lines);
    }
    this.offset += start;
    return lines;
  }

  /** The pieces of lines not ended yet: at the end of a log, what the container wrote last. */
  unfinished(): LogLine[] {
    const lines = [...this.pending].map(([stream, p]) => ({
      time: p.time,
      stream,
      text: Buffer.concat(p.parts),
      complete: false,
    }));
    this.pending.clear();
    return lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  }

  private add(r: LogRecord, out: LogLine[]): void {
    const p = this.pending.get(r.stream);
    if (r.partial) {
      if (p) p.parts.push(r.text);
      else this.pending.set(r.stream, { time: r.time, parts: [r.text] });
      return;
    }
    this.pending.delete(r.stream);
    out.push({
      time: p?.time ?? r.time,
      stream: r.stream,
      text: p ? Buffer.concat([...p.parts, r.text]) : r.text,
      complete: true,
    });
  }
}
