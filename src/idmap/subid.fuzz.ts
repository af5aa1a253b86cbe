/**
 * Fuzz targets for /etc/subuid and /etc/subgid (subid.ts): files administrators and tools edit by
 * hand, read by every rootless den command. See common/fuzz.ts.
 */
import { acceptOrRefuse, mutateString, property, type FuzzTarget } from '../common/fuzz.js';
import type { SeededRandom } from '../common/seeded-random.js';
import { INVALID_ID } from './ids.js';
import { parseSubordinateIds } from './subid.js';

interface Line {
  owner: string;
  start: number;
  count: number;
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-.';
/** Field values at the edges of what a line may hold. */
const EDGES = [
  '0',
  '1',
  '-1',
  '4294967294',
  '4294967295',
  '4294967296',
  '99999999999999999999',
  '',
  ' ',
  '0x10',
  '1e3',
  '+1',
  'a b',
  '007',
];

/** Valid lines: owners by name or uid, each owner's ranges apart, anywhere in the id space. */
function validLines(rand: SeededRandom): Line[] {
  const owners = new Set(
    Array.from({ length: rand.int(1, 4) }, () =>
      rand.chance(0.3)
        ? String(rand.int(0, 4294967294))
        : rand.string(1, 'abcdefgh') + rand.string(rand.int(0, 12), NAME_CHARS),
    ),
  );
  const lines: Line[] = [];
  for (const owner of owners) {
    // Cut the id space into ascending, disjoint ranges so that one owner's ranges never overlap.
    let next = rand.int(0, 1_000_000);
    for (let n = rand.int(1, 3); n > 0 && next < INVALID_ID; n--) {
      const start = rand.chance(0.1) ? INVALID_ID - rand.int(1, 65536) : next + rand.int(0, 100_000);
      if (start >= INVALID_ID || start < next) break;
      const count = rand.int(1, Math.min(INVALID_ID - start, rand.chance(0.2) ? 2 ** 31 : 65536 * 4));
      lines.push({ owner, start, count });
      next = start + count;
    }
  }
  return lines.sort(() => rand.next() - 0.5);
}

/** The file's text, with the blank lines, comments, spaces and line endings real files have. */
function format(rand: SeededRandom, lines: Line[]): { text: string; numbers: number[] } {
  const out: string[] = [];
  const numbers: number[] = [];
  for (const l of lines) {
    while (rand.chance(0.2)) out.push(rand.pick(['', '# a comment', '   ', '#owner:1:2']));
    const comment = rand.chance(0.2) ? ' # granted by hand' : '';
    out.push(`${l.owner}:${l.start}:${l.count}${comment}`);
    numbers.push(out.length);
  }
  const eol = rand.chance(0.2) ? '\r\n' : '\n';
  return { text: out.join(eol) + (rand.chance(0.5) ? eol : ''), numbers };
}

export const SUBID_TARGETS: FuzzTarget[] = [
  {
    name: 'subid-roundtrip',
    cases: 1000,
    one(rand) {
      const lines = validLines(rand);
      const { text, numbers } = format(rand, lines);
      const entries = acceptOrRefuse(() => parseSubordinateIds(text, '/etc/subuid'), text);
      property(entries !== undefined, 'a valid file was refused', text);
      const got = entries.map((e) => ({ owner: e.owner, start: e.start as number, count: e.count }));
      property(JSON.stringify(got) === JSON.stringify(lines), `parsed to ${JSON.stringify(got)}`, text);
      property(
        entries.every(
          (e, i) => e.line === numbers[i] && e.ownerUid === (/^\d+$/.test(e.owner) ? Number(e.owner) : undefined),
        ),
        'line numbers or owner uids are wrong',
        text,
      );
    },
  },
  {
    name: 'subid-mutate',
    cases: 2000,
    one(rand) {
      const lines = validLines(rand);
      if (rand.chance(0.5)) {
        // One field of one line set to a value at an edge: the parser's checks are per field.
        const l = rand.pick(lines) as unknown as Record<string, string | number>;
        l[rand.pick(['owner', 'start', 'count'])] = rand.pick(EDGES);
      }
      const text = mutateString(rand, format(rand, lines).text, `${NAME_CHARS}:#0123456789 \n-`);
      const entries = acceptOrRefuse(() => parseSubordinateIds(text, '/etc/subuid'), text);
      if (entries === undefined) return;
      for (const e of entries) {
        // What a range may be (subuid(5) and the kernel): at least one id, all of them below 2^32-1.
        property(Number.isSafeInteger(e.start) && e.start >= 0, `start ${e.start}`, text);
        property(Number.isSafeInteger(e.count) && e.count >= 1, `count ${e.count}`, text);
        property(e.start + e.count <= INVALID_ID, `range ${e.start}+${e.count} passes the last id`, text);
        property(e.owner !== '' && !/[\s:#]/.test(e.owner), `owner ${JSON.stringify(e.owner)}`, text);
        property(e.ownerUid === undefined || e.ownerUid < INVALID_ID, `owner uid ${e.ownerUid}`, text);
        const same = entries.filter((o) => o !== e && o.owner === e.owner);
        property(
          same.every((o) => o.start + o.count <= e.start || e.start + e.count <= o.start),
          `${e.owner}'s ranges overlap`,
          text,
        );
      }
    },
  },
];
