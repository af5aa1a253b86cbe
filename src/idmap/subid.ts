import { readFileSync } from 'node:fs';
import { errnoCode, failedPrecondition, invalidArgument } from '../common/errors.js';
import { hostId, INVALID_ID, MAX_ID, type HostId, type IdRange } from './ids.js';
import { allocateRange } from './ranges.js';

/**
 * One line of /etc/subuid or /etc/subgid (subuid(5)): `owner:start:count` grants `owner` the host ids
 * start .. start+count-1. The owner is a user name or a numeric uid; shadow-utils accepts both, and
 * administrators use both, so a user's ranges are looked up under either spelling.
 */
export interface SubIdEntry {
  /** The owner exactly as written. */
  readonly owner: string;
  /** The owner as a uid when it is written as a number, otherwise undefined. */
  readonly ownerUid: number | undefined;
  readonly start: HostId;
  readonly count: number;
  /** Where the entry came from, for error messages that point at the line to fix. */
  readonly file: string;
  readonly line: number;
}

export interface SubIdUser {
  readonly name: string;
  readonly uid: number;
}

const SUBID_HINT = 'fix the line or remove it; see subuid(5)';

/**
 * Parses the text of a subordinate id file. Blank lines and `#` comments are skipped; anything else
 * that is not a well-formed `owner:start:count` is an error naming `file:line`, never a silent skip,
 * because a skipped line is a range that quietly disappears from a user's containers.
 */
export function parseSubordinateIds(text: string, file: string): SubIdEntry[] {
  const entries: SubIdEntry[] = [];
  const byOwner = new Map<string, SubIdEntry[]>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] ?? '';
    const hash = raw.indexOf('#');
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (content === '') continue;
    const entry = parseLine(content, file, lineNo);
    const previous = byOwner.get(entry.owner) ?? [];
    for (const other of previous) {
      if (entry.start < other.start + other.count && other.start < entry.start + entry.count) {
        throw invalidArgument(
          'DEN0202',
          `${file}:${lineNo}: range ${span(entry)} of ${entry.owner} overlaps the range ${span(other)} on line ${other.line}`,
          { hint: 'list each id once: merge or remove one of the two lines; see subuid(5)' },
        );
      }
    }
    previous.push(entry);
    byOwner.set(entry.owner, previous);
    entries.push(entry);
  }
  return entries;
}

function span(r: { start: number; count: number }): string {
  return `${r.start}-${r.start + r.count - 1}`;
}

function parseLine(content: string, file: string, line: number): SubIdEntry {
  const bad = (problem: string) => invalidArgument('DEN0201', `${file}:${line}: ${problem}`, { hint: SUBID_HINT });
  const fields = content.split(':');
  if (fields.length !== 3) {
    throw bad(
      `expected owner:start:count, found ${fields.length} field${fields.length === 1 ? '' : 's'} in "${content}"`,
    );
  }
  const [ownerField, startField, countField] = fields.map((f) => f.trim()) as [string, string, string];
  if (ownerField === '') throw bad('owner is empty');
  if (/\s/.test(ownerField)) throw bad(`owner "${ownerField}" contains whitespace`);
  let ownerUid: number | undefined;
  if (/^\d+$/.test(ownerField)) {
    ownerUid = Number(ownerField);
    if (ownerUid > MAX_ID) throw bad(`owner uid ${ownerField} is beyond the highest id ${MAX_ID}`);
  }
  const start = parseNumber(startField, 'start', bad);
  if (start > MAX_ID) throw bad(`start ${startField} is beyond the highest id ${MAX_ID}`);
  const count = parseNumber(countField, 'count', bad);
  if (count === 0) throw bad('count is 0; a range needs at least one id');
  if (count > INVALID_ID) throw bad(`count ${countField} is more than the ${INVALID_ID} ids there are`);
  if (start + count > INVALID_ID) {
    throw bad(`range ${start}-${start + count - 1} goes beyond the highest id ${MAX_ID}`);
  }
  return { owner: ownerField, ownerUid, start: start as HostId, count, file, line };
}

function parseNumber(field: string, name: string, bad: (problem: string) => Error): number {
  if (field === '') throw bad(`${name} is empty`);
  if (/^-\d+$/.test(field)) throw bad(`${name} "${field}" is negative`);
  // Only plain decimal: Number() would also accept "0x10", "1e3" and " 12 ", which shadow-utils rejects.
  if (!/^\d+$/.test(field)) throw bad(`${name} "${field}" is not a number`);
  return Number(field);
}

/** The ranges granted to `user`, whether its lines name it by user name or by uid, in file order. */
export function rangesFor(entries: readonly SubIdEntry[], user: SubIdUser): IdRange[] {
  return entries
    .filter((e) => e.owner === user.name || e.ownerUid === user.uid)
    .map((e) => ({ start: e.start, count: e.count }));
}

/**
 * Reads the caller's subordinate ranges from /etc/subuid or /etc/subgid (or `file`). A missing file
 * or a user without lines gives an empty list: whether that is an error depends on what the caller
 * wanted to do with the ranges, so the caller decides.
 */
export function readSubordinateRanges(kind: 'uid' | 'gid', user: SubIdUser, file = `/etc/sub${kind}`): IdRange[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw failedPrecondition('DEN0203', `${file}: cannot read: ${(e as Error).message}`, {
      hint: `make ${file} readable by everyone (mode 0644), as shadow-utils installs it`,
      cause: e,
    });
  }
  return rangesFor(parseSubordinateIds(text, file), user);
}

/**
 * A range of `size` ids that no line of the given files hands out yet, for a hint that tells an
 * administrator what to add: the lowest block from 100000 up (where shadow-utils starts) that is free in every
 * file (subuid and subgid alike, so one usermod line fits both). Unreadable or missing files count
 * as empty; a malformed one is skipped, since its own error is reported elsewhere.
 */
export function freeSubordinateRange(files: readonly string[], size = 65536): { first: number; last: number } {
  const used: IdRange[] = [];
  for (const file of files) {
    try {
      for (const e of parseSubordinateIds(readFileSync(file, 'utf8'), file))
        used.push({ start: e.start, count: e.count });
    } catch {
      continue;
    }
  }
  const from = hostId(100000);
  const found = allocateRange([{ start: from, count: MAX_ID + 1 - from }], used, size);
  const first = found?.start ?? from;
  return { first, last: first + size - 1 };
}
