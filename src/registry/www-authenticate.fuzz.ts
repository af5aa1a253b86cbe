/**
 * Fuzz targets for WWW-Authenticate (www-authenticate.ts): a header any server den talks to can
 * send, whose realm decides where den sends credentials. See common/fuzz.ts.
 */
import { acceptOrRefuse, mutateString, property, type FuzzTarget } from '../common/fuzz.js';
import type { SeededRandom } from '../common/seeded-random.js';
import { bearerChallenge, parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

const TCHAR = "!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
const TOKEN68 = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/';
/** What a quoted string may hold: text, separators, the quote and backslash (escaped), latin1. */
const QUOTED = `${TCHAR} ,;=:/?@()<>[]{}\t"\\\u00e9`;
const REGISTRY = 'registry.example';

const space = (rand: SeededRandom): string => rand.pick(['', '', ' ', '  ', '\t']);

/** Valid challenges, with the header text that carries them (RFC 7235, with optional whitespace). */
function validChallenges(rand: SeededRandom): { header: string; want: Challenge[] } {
  const want: Challenge[] = [];
  const texts: string[] = [];
  for (let n = rand.int(1, 3); n > 0; n--) {
    const scheme = rand.pick(['Bearer', 'Basic', 'bearer', 'Negotiate', rand.string(rand.int(1, 10), TCHAR)]);
    const c: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    let text = scheme;
    if (rand.chance(0.15)) {
      c.token68 = rand.string(rand.int(1, 40), TOKEN68) + '='.repeat(rand.int(0, 2));
      text += ` ${c.token68}`;
    } else {
      const params: string[] = [];
      for (let p = rand.int(0, 4); p > 0; p--) {
        const name = rand.pick(['realm', 'service', 'scope', 'Realm', 'error', rand.string(rand.int(1, 8), TCHAR)]);
        if (Object.hasOwn(c.params, name.toLowerCase())) continue;
        const quoted = rand.chance(0.7);
        const value = quoted ? rand.string(rand.int(0, 30), QUOTED) : rand.string(rand.int(1, 20), TCHAR);
        Object.defineProperty(c.params, name.toLowerCase(), {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        const written = quoted ? `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"` : value;
        params.push(`${name}${space(rand)}=${space(rand)}${written}`);
      }
      if (params.length > 0) text += ` ${params.join(`${space(rand)},${space(rand)}`)}`;
    }
    want.push(c);
    texts.push(text);
  }
  return { header: `${space(rand)}${texts.join(`${space(rand)},${space(rand)}`)}${space(rand)}`, want };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export const WWW_AUTHENTICATE_TARGETS: FuzzTarget[] = [
  {
    name: 'www-authenticate-roundtrip',
    cases: 2000,
    one(rand) {
      const { header, want } = validChallenges(rand);
      const got = acceptOrRefuse(() => parseWwwAuthenticate(header, REGISTRY), header);
      property(same(got, want), `parsed to ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`, header);
    },
  },
  {
    name: 'www-authenticate-mutate',
    cases: 2000,
    one(rand) {
      const { header: valid } = validChallenges(rand);
      const header = mutateString(rand, valid, `${TCHAR}",=\\ `);
      const got = acceptOrRefuse(() => parseWwwAuthenticate(header, REGISTRY), header);
      if (got === undefined) return;
      property(got.length > 0, 'no challenge, and no error', header);
      for (const c of got) {
        property(/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(c.scheme), `scheme ${c.scheme}`, header);
        property(Object.getPrototypeOf(c.params) === Object.prototype, 'params lost their prototype', header);
        for (const [k, v] of Object.entries(c.params)) {
          property(/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(k) && typeof v === 'string', `parameter ${k}`, header);
        }
      }
      // The realm is where credentials go: whatever bearerChallenge accepts is an http(s) URL
      // without user info; anything else is refused with a DenError.
      const bearer = acceptOrRefuse(() => bearerChallenge(got, REGISTRY, header), header);
      if (bearer !== undefined) {
        property(['http:', 'https:'].includes(bearer.realm.protocol), `realm ${bearer.realm.href}`, header);
        property(bearer.realm.username === '' && bearer.realm.password === '', 'realm with user info', header);
      }
    },
  },
];
