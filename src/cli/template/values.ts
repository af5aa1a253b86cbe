/**
 * Go's view of den's values. docker executes its templates over Go structs and maps; den's data is
 * JSON-shaped JavaScript. The mapping, used for field lookup, printing, truth and `json`:
 *
 * - an object whose keys all read as exported Go field names (`Id`, `State`, `HostConfig`) stands
 *   for a struct: a missing field is an error ("can't evaluate field"), it prints as `{v1 v2}` in
 *   key order, and it is always true;
 * - any other object (labels, port maps, lower-case keys, `{}`) stands for a map: a missing key is
 *   `<no value>`, it prints as `map[k:v]` in sorted key order, and it is true when it has keys;
 * - `undefined` is Go's invalid value (a missing map key: `<no value>`), `null` is nil (`<nil>`);
 * - a number is an int when it is integral, else a float64.
 */

export type GoObject = Record<string, unknown>;

const EXPORTED = /^[A-Z][A-Za-z0-9_]*$/;

export function isObject(v: unknown): v is GoObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A struct-like object: every key an exported Go field name, and at least one key. */
export function isStruct(v: unknown): v is GoObject {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => EXPORTED.test(k));
}

/** Go's type name for a value, for error messages and printf's `%!d(string=x)`. */
export function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'function') return 'func';
  return isStruct(v) ? 'struct' : 'map[string]interface {}';
}

/** Go's truth: false, 0, "", nil, and empty arrays and maps are false; structs are always true. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return isStruct(v) || Object.keys(v).length > 0;
  return true;
}

/** Map keys in Go's order: fmt and range sort them. */
export function sortedKeys(o: GoObject): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A number as Go's %v prints it: an integral one as an int, others as a float64 does: shortest
 * digits, with an exponent below 1e-4 and from 1e6 (Go's %g with its shortest precision).
 */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** A value as Go's fmt prints it with %v; `top` tells an action's own value (invalid: <no value>) from an element. */
export function formatValue(v: unknown, top = true): string {
  if (v === undefined) return top ? '<no value>' : '<nil>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((e) => formatValue(e, false)).join(' ')}]`;
  if (isStruct(v))
    return `{${Object.values(v)
      .map((e) => formatValue(e, false))
      .join(' ')}}`;
  if (isObject(v))
    return `map[${sortedKeys(v)
      .map((k) => `${k}:${formatValue(v[k], false)}`)
      .join(' ')}]`;
  return String(v);
}

/**
 * docker's `json`: encoding/json without HTML escaping. Maps have their keys sorted as Go's encoder
 * sorts them; structs keep their field order.
 */
export function goJson(v: unknown): string {
  if (v === undefined || v === null || typeof v === 'function') return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const keys = isStruct(v) ? Object.keys(v) : sortedKeys(v as GoObject);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${goJson((v as GoObject)[k])}`).join(',')}}`;
}

/** strconv.Quote for the characters den's data has: Go's escapes, \x for other control bytes. */
export function goQuote(s: string): string {
  const escapes: Record<string, string> = {
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
    '\\': '\\\\',
    '"': '\\"',
  };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (escapes[ch]) out += escapes[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  sharp: boolean;
  width: number | undefined;
  precision: number | undefined;
}

const badVerb = (verb: string, v: unknown) =>
  v === undefined || v === null ? `%!${verb}(<nil>)` : `%!${verb}(${goType(v)}=${formatValue(v, false)})`;

function withSign(digits: string, negative: boolean, s: Spec): string {
  return `${negative ? '-' : s.plus ? '+' : s.space ? ' ' : ''}${digits}`;
}

function formatInt(n: number, verb: string, s: Spec): string {
  const abs = BigInt(Math.abs(n));
  let digits: string;
  switch (verb) {
    case 'd':
      digits = abs.toString();
      break;
    case 'x':
      digits = (s.sharp ? '0x' : '') + abs.toString(16);
      break;
    case 'X':
      digits = (s.sharp ? '0X' : '') + abs.toString(16).toUpperCase();
      break;
    case 'o':
      digits = (s.sharp ? '0' : '') + abs.toString(8);
      break;
    default:
      digits = abs.toString(2);
  }
  if (s.precision !== undefined) digits = digits.padStart(s.precision, '0');
  return withSign(digits, n < 0, s);
}

function formatFloatVerb(n: number, verb: string, s: Spec): string {
  if (!Number.isFinite(n)) return withSign(Number.isNaN(n) ? 'NaN' : 'Inf', n < 0, s);
  const abs = Math.abs(n);
  let digits: string;
  if (verb === 'f' || verb === 'F') digits = abs.toFixed(s.precision ?? 6);
  else if (verb === 'e' || verb === 'E') {
    const [m, e] = abs.toExponential(s.precision ?? 6).split('e') as [string, string];
    const exp = Number(e);
    digits = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    if (verb === 'E') digits = digits.toUpperCase();
  } else {
    digits = s.precision === undefined ? formatFloat(abs) : String(Number(abs.toPrecision(s.precision || 1)));
    if (verb === 'G') digits = digits.toUpperCase();
  }
  return withSign(digits, n < 0 || Object.is(n, -0), s);
}

function formatOne(verb: string, v: unknown, s: Spec): string {
  switch (verb) {
    case 'v':
      return formatValue(v, false);
    case 's':
      if (typeof v === 'string') return s.precision === undefined ? v : [...v].slice(0, s.precision).join('');
      if (Array.isArray(v)) return `[${v.map((e) => formatOne('s', e, s)).join(' ')}]`;
      return badVerb(verb, v);
    case 'q':
      if (typeof v === 'string') return goQuote(v);
      if (typeof v === 'number' && Number.isInteger(v)) return `'${String.fromCodePoint(v)}'`;
      if (Array.isArray(v)) return `[${v.map((e) => formatOne('q', e, s)).join(' ')}]`;
      return badVerb(verb, v);
    case 't':
      return typeof v === 'boolean' ? String(v) : badVerb(verb, v);
    case 'c':
      return typeof v === 'number' && Number.isInteger(v) ? String.fromCodePoint(v) : badVerb(verb, v);
    case 'd':
    case 'o':
    case 'b':
      if (typeof v === 'number' && Number.isInteger(v)) return formatInt(v, verb, s);
      if (Array.isArray(v)) return `[${v.map((e) => formatOne(verb, e, s)).join(' ')}]`;
      return badVerb(verb, v);
    case 'x':
    case 'X':
      if (typeof v === 'number' && Number.isInteger(v)) return formatInt(v, verb, s);
      if (typeof v === 'string') {
        const hex = Buffer.from(v, 'utf8').toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      return badVerb(verb, v);
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
      return typeof v === 'number' ? formatFloatVerb(v, verb, s) : badVerb(verb, v);
    default:
      return badVerb(verb, v);
  }
}

function pad(text: string, s: Spec, numeric: boolean): string {
  const length = [...text].length;
  if (s.width === undefined || length >= s.width) return text;
  const fill = s.width - length;
  if (s.minus) return text + ' '.repeat(fill);
  if (s.zero && numeric) {
    const sign = /^[+\- ]/.test(text) ? text[0]! : '';
    return sign + '0'.repeat(fill) + text.slice(sign.length);
  }
  return (s.zero ? '0' : ' ').repeat(fill) + text;
}

/**
 * Go's fmt.Sprintf for the verbs templates use: %v %s %q %d %t %x %X %o %b %c %f %e %g and %%, with
 * the flags `-+# 0`, widths and precisions. Mistakes print the way Go prints them: `%!d(string=a)`,
 * `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`.
 */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    i++;
    const s: Spec = {
      minus: false,
      plus: false,
      zero: false,
      space: false,
      sharp: false,
      width: undefined,
      precision: undefined,
    };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') s.minus = true;
      else if (f === '+') s.plus = true;
      else if (f === '0') s.zero = true;
      else if (f === ' ') s.space = true;
      else if (f === '#') s.sharp = true;
      else break;
    }
    const width = /^\d+/.exec(format.slice(i));
    if (width) {
      s.width = Number(width[0]);
      i += width[0].length;
    }
    if (format[i] === '.') {
      const precision = /^\d*/.exec(format.slice(i + 1))![0];
      s.precision = Number(precision || '0');
      i += 1 + precision.length;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (next >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[next++];
    out += pad(formatOne(verb, v, s), s, typeof v === 'number');
  }
  if (next < args.length) {
    out += `%!(EXTRA ${args
      .slice(next)
      .map((v) => (v === undefined || v === null ? '<nil>' : `${goType(v)}=${formatValue(v, false)}`))
      .join(', ')})`;
  }
  return out;
}
