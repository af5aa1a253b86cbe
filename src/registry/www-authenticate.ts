/**
 * WWW-Authenticate (RFC 7235): a list of challenges, each a scheme and either parameters
 * (`Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"`) or a
 * token68. The header is server input: the parser is strict about quoting and refuses what it
 * cannot read instead of guessing, since a wrong realm would send credentials elsewhere.
 */
import { malformedChallenge } from './registry-errors.js';

export interface Challenge {
  /** Lowercase: bearer, basic. */
  scheme: string;
  /** Parameter names lowercase, values unquoted. */
  params: Record<string, string>;
  token68?: string;
}

/** A Bearer challenge, checked: the realm is an absolute http(s) URL. */
export interface BearerChallenge {
  realm: URL;
  service?: string;
  scope?: string;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** Parses one or several WWW-Authenticate header values into their challenges. */
export function parseWwwAuthenticate(values: string | readonly string[], registry: string): Challenge[] {
  const out: Challenge[] = [];
  for (const value of typeof values === 'string' ? [values] : values) out.push(...parseOne(value, registry));
  return out;
}

function parseOne(header: string, registry: string): Challenge[] {
  const fail = (why: string) => malformedChallenge(registry, header, why);
  let i = 0;
  const skipSpace = () => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && TOKEN_CHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    i++; // the opening quote
    let value = '';
    while (i < header.length) {
      const c = header[i++]!;
      if (c === '"') return value;
      if (c === '\\') {
        if (i >= header.length) break;
        value += header[i++];
      } else {
        value += c;
      }
    }
    throw fail('unterminated quoted string');
  };
  /** Skips separators between list elements; true when at least one comma was crossed. */
  const skipCommas = (): boolean => {
    let crossed = false;
    for (;;) {
      skipSpace();
      if (header[i] !== ',') return crossed;
      crossed = true;
      i++;
    }
  };

  const challenges: Challenge[] = [];
  skipCommas();
  while (i < header.length) {
    const scheme = token();
    if (scheme === '') throw fail(`expected an auth scheme at offset ${i}`);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    const afterScheme = i;
    skipSpace();
    if (i === afterScheme && i < header.length && header[i] !== ',') throw fail(`expected a space after ${scheme}`);
    // token68: one word of base64-ish characters with optional trailing '='s, then the end or a
    // comma; `name=value` is a parameter instead. A parameter's value starts with a token
    // character or a quote, so `Basic abc=, Bearer ...` is the token68 abc= and another challenge
    // (RFC 7235), not a parameter abc with no value.
    const t68 = /^([A-Za-z0-9._~+/-]+=*)\s*(?:,|$)/.exec(header.slice(i));
    if (t68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*[!#$%&'*+.^_`|~0-9A-Za-z"-]/.test(header.slice(i))) {
      challenge.token68 = t68[1];
      i += t68[1]!.length;
      skipCommas();
      continue;
    }
    for (;;) {
      const start = i;
      const name = token();
      skipSpace();
      if (name === '' || header[i] !== '=') {
        // Not a parameter: the next challenge's scheme (or the end).
        i = start;
        break;
      }
      i++;
      skipSpace();
      let value: string;
      if (header[i] === '"') value = quoted();
      else {
        value = token();
        if (value === '') throw fail(`parameter ${name} has no value`);
      }
      const key = name.toLowerCase();
      if (Object.hasOwn(challenge.params, key)) throw fail(`parameter ${key} given twice`);
      Object.defineProperty(challenge.params, key, { value, enumerable: true, writable: true, configurable: true });
      const crossed = skipCommas();
      if (i >= header.length) break;
      if (!crossed) throw fail(`expected a comma at offset ${i}`);
    }
    skipCommas();
  }
  if (challenges.length === 0) throw fail('no challenge');
  return challenges;
}

/** The Bearer challenge among `challenges`, validated, or undefined when there is none. */
export function bearerChallenge(
  challenges: readonly Challenge[],
  registry: string,
  header: string,
): BearerChallenge | undefined {
  const c = challenges.find((ch) => ch.scheme === 'bearer');
  if (!c) return undefined;
  const realm = c.params.realm;
  if (realm === undefined || realm === '')
    throw malformedChallenge(registry, header, 'Bearer challenge without a realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw malformedChallenge(registry, header, 'the realm is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw malformedChallenge(registry, header, 'the realm is not an http(s) URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw malformedChallenge(registry, header, 'the realm carries user info');
  }
  const out: BearerChallenge = { realm: url };
  if (c.params.service !== undefined) out.service = c.params.service;
  if (c.params.scope !== undefined) out.scope = c.params.scope;
  return out;
}
