/**
 * Fuzz targets for image references (reference.ts): what a user types and what a registry's
 * catalogue or an image archive's index.json names. See common/fuzz.ts.
 */
import { acceptOrRefuse, mutateString, property, type FuzzTarget } from '../common/fuzz.js';
import type { SeededRandom } from '../common/seeded-random.js';
import {
  DEFAULT_DOMAIN,
  familiarName,
  formatReference,
  parseReference,
  repositoryOf,
  type Reference,
} from './reference.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TAG_CHARS = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-`;

/** A path component: runs of lowercase letters and digits joined by '.', '_', '__' or dashes. */
function component(rand: SeededRandom): string {
  let s = rand.string(rand.int(1, 8), LOWER);
  for (let i = rand.int(0, 2); i > 0; i--)
    s += rand.pick(['.', '_', '__', '-', '--']) + rand.string(rand.int(1, 6), LOWER);
  return s;
}

function domain(rand: SeededRandom): string {
  const host = () =>
    Array.from({ length: rand.int(2, 3) }, () =>
      rand.string(rand.int(1, 8), `${LOWER}ABC-`).replace(/^-|-$/g, 'x'),
    ).join('.');
  switch (rand.int(0, 5)) {
    case 0:
      return 'localhost';
    case 1:
      return `localhost:${rand.int(1, 65535)}`;
    case 2:
      return `[${rand.pick(['::1', 'fe80::1', '2001:db8::42'])}]${rand.chance(0.5) ? `:${rand.int(1, 65535)}` : ''}`;
    case 3:
      return `${rand.string(rand.int(1, 8), LOWER)}:${rand.int(1, 65535)}`;
    case 4:
      return DEFAULT_DOMAIN;
    default:
      return `${host()}${rand.chance(0.3) ? `:${rand.int(1, 65535)}` : ''}`;
  }
}

/** A valid reference as a user might type it, and what it must parse to. */
export function validReference(rand: SeededRandom): { text: string; expected: Reference } {
  const parts = Array.from({ length: rand.int(1, 4) }, () => component(rand));
  // Sometimes a name near the 255-character limit, where short and canonical forms differ in length.
  if (rand.chance(0.15)) parts[parts.length - 1] += rand.string(rand.int(200, 250), LOWER);
  // Leave the domain out sometimes, as users do; it is then docker.io, unless the first component
  // looks like a registry (a dot, a colon, localhost), when the domain has to be written.
  const looksLikeDomain = parts[0]!.includes('.') || parts[0] === 'localhost';
  const explicit = rand.chance(0.6) || (looksLikeDomain && parts.length > 1) ? domain(rand) : undefined;
  const expected: Reference = { domain: explicit ?? DEFAULT_DOMAIN, path: parts.join('/') };
  if (expected.domain === DEFAULT_DOMAIN && parts.length === 1) expected.path = `library/${expected.path}`;
  let text = `${explicit !== undefined ? `${explicit}/` : ''}${parts.join('/')}`;
  const withTag = rand.chance(0.6);
  const withDigest = rand.chance(0.4);
  if (withTag) {
    expected.tag = rand.string(1, `${LOWER}_`) + rand.string(rand.int(0, rand.chance(0.1) ? 127 : 12), TAG_CHARS);
    text += `:${expected.tag}`;
  }
  if (withDigest) {
    expected.digest = `sha256:${rand.string(64, '0123456789abcdef')}`;
    text += `@${expected.digest}`;
  }
  if (!withTag && !withDigest) expected.tag = 'latest';
  return { text, expected };
}

const same = (a: Reference | undefined, b: Reference): boolean => JSON.stringify(a) === JSON.stringify(b);

export const REFERENCE_TARGETS: FuzzTarget[] = [
  {
    name: 'reference-roundtrip',
    cases: 2000,
    one(rand) {
      const { text, expected } = validReference(rand);
      const ref = acceptOrRefuse(() => parseReference(text), text);
      // Docker's limit, on the repository name once normalised: a longer one is refused, a valid
      // shorter one never.
      if (repositoryOf(expected).length > 255) {
        return property(ref === undefined, 'accepted a repository name over 255 characters', text);
      }
      property(same(ref, expected), `parsed to ${JSON.stringify(ref)}, expected ${JSON.stringify(expected)}`, text);
      const canonical = formatReference(expected);
      property(same(parseReference(canonical), expected), `canonical form ${canonical} parses differently`, text);
      // What den prints (den images, den ps) must name the same image when typed back.
      const familiar = familiarName(expected);
      const back = acceptOrRefuse(() => parseReference(familiar), familiar);
      property(same(back, expected), `familiar form ${familiar} parses to ${JSON.stringify(back)}`, text);
    },
  },
  {
    name: 'reference-mutate',
    cases: 2000,
    one(rand) {
      const text = mutateString(rand, validReference(rand).text, `${TAG_CHARS}ABC/:@[]`);
      const ref = acceptOrRefuse(() => parseReference(text), text);
      if (ref === undefined) return;
      property(repositoryOf(ref).length <= 255, 'accepted a repository name over 255 characters', text);
      property(
        ref.path.split('/').every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p)),
        `accepted path ${ref.path}`,
        text,
      );
      property(ref.tag === undefined || /^[\w][\w.-]{0,127}$/.test(ref.tag), `accepted tag ${ref.tag}`, text);
      property(ref.tag !== undefined || ref.digest !== undefined, 'neither tag nor digest', text);
      const canonical = formatReference(ref);
      property(same(parseReference(canonical), ref), `canonical form ${canonical} parses differently`, text);
    },
  },
];
