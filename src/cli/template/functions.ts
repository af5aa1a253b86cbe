/**
 * The functions a template may call: Go's builtins (text/template's `and` ... `urlquery`) and the
 * ones docker adds (`json`, `join`, `split`, `title`, `lower`, `upper`, `pad`, `truncate`), with
 * Go's argument counts and types: a call with the wrong number or type of arguments fails as it
 * does in Go ("wrong number of args for join: want 2 got 1").
 */
import { formatValue, goJson, goType, isObject, isStruct, sprintf, truth } from './values.js';

/** What a parameter accepts: any value, or a Go type den's values convert to. */
type Param = 'any' | 'string' | 'int' | 'strings';

export interface TemplateFunction {
  params: Param[];
  /** The type of further arguments, for variadic functions. */
  variadic?: Param;
  call: (...args: unknown[]) => unknown;
}

/** Thrown by a function; the executor adds the position. */
export class CallError extends Error {}

const fn = (params: Param[], call: (...args: never[]) => unknown, variadic?: Param): TemplateFunction => ({
  params,
  variadic,
  call: call as (...args: unknown[]) => unknown,
});

/** Go's print: spaces between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a, false);
  });
  return out;
}

type Kind = 'bool' | 'int' | 'float' | 'string' | 'nil';

function basicKind(v: unknown, name: string): Kind {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  throw new CallError(`error calling ${name}: non-comparable type ${formatValue(v, false)}: ${goType(v)}`);
}

/** Go's eq on basic values: numbers compare across int and float, other kinds must match. */
function equal(name: string, a: unknown, b: unknown): boolean {
  const ka = basicKind(a, name);
  const kb = basicKind(b, name);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  const numeric = (k: Kind) => k === 'int' || k === 'float';
  if (ka !== kb && !(numeric(ka) && numeric(kb))) {
    throw new CallError(`error calling ${name}: incompatible types for comparison`);
  }
  return a === b;
}

function less(name: string, a: unknown, b: unknown): boolean {
  const ka = basicKind(a, name);
  const kb = basicKind(b, name);
  const numeric = (k: Kind) => k === 'int' || k === 'float';
  if (ka === 'bool' || ka === 'nil' || kb === 'bool' || kb === 'nil') {
    throw new CallError(`error calling ${name}: invalid type for comparison`);
  }
  if (ka !== kb && !(numeric(ka) && numeric(kb))) {
    throw new CallError(`error calling ${name}: incompatible types for comparison`);
  }
  return (a as number | string) < (b as number | string);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (v === undefined || v === null) throw new CallError('error calling index: index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key)) {
        throw new CallError(`error calling index: cannot index slice/array with type ${goType(key)}`);
      }
      if (key < 0 || key >= v.length) throw new CallError(`error calling index: index out of range: ${key}`);
      v = typeof v === 'string' ? Buffer.from(v, 'utf8')[key] : v[key];
    } else if (isObject(v) && !isStruct(v)) {
      if (typeof key !== 'string') {
        throw new CallError(`error calling index: value has type ${goType(key)}; should be string`);
      }
      v = Object.hasOwn(v, key) ? v[key] : undefined;
    } else {
      throw new CallError(`error calling index: can't index item of type ${goType(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...bounds: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) {
    throw new CallError(`error calling slice: can't slice item of type ${goType(item)}`);
  }
  if (bounds.length > 2 || (typeof item === 'string' && bounds.length > 2)) {
    throw new CallError('error calling slice: too many slice indexes');
  }
  const [lo = 0, hi = item.length] = bounds as number[];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > item.length || lo > hi) {
    throw new CallError(`error calling slice: index out of range: ${lo}:${hi}`);
  }
  return item.slice(lo, hi);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Array.isArray(v)) return v.length;
  if (isObject(v) && !isStruct(v)) return Object.keys(v).length;
  throw new CallError(`error calling len: len of type ${goType(v)}`);
}

function htmlEscape(s: string): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
  return s.replace(/[&<>"']/g, (c) => map[c]!);
}

function jsEscape(s: string): string {
  const map: Record<string, string> = {
    '\\': '\\\\',
    "'": "\\'",
    '"': '\\"',
    '<': '\\u003C',
    '>': '\\u003E',
    '&': '\\u0026',
    '=': '\\u003D',
  };
  return s.replace(
    /[\\'"<>&=\x00-\x1f]/g,
    (c) => map[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/** url.QueryEscape: space as +, everything but letters, digits and -_.~ percent-encoded. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** strings.Title: the first letter of each word upper-cased, words split at anything but letters, digits and _. */
function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

const firstOr = (i: number, args: unknown[]) => (i < 0 ? args.length - 1 : i);

export const BUILTINS: Record<string, TemplateFunction> = {
  // `and` and `or` stop at the first argument that decides; the executor evaluates them lazily.
  and: fn(
    ['any'],
    (...args: unknown[]) =>
      args[
        firstOr(
          args.findIndex((a) => !truth(a)),
          args,
        )
      ],
    'any',
  ),
  or: fn(
    ['any'],
    (...args: unknown[]) =>
      args[
        firstOr(
          args.findIndex((a) => truth(a)),
          args,
        )
      ],
    'any',
  ),
  not: fn(['any'], (a: unknown) => !truth(a)),
  len: fn(['any'], length),
  index: fn(['any'], index, 'any'),
  slice: fn(['any'], slice, 'any'),
  print: fn([], (...args: unknown[]) => sprint(args), 'any'),
  println: fn([], (...args: unknown[]) => args.map((a) => formatValue(a, false)).join(' ') + '\n', 'any'),
  printf: fn(['string'], (format: string, ...args: unknown[]) => sprintf(format, args), 'any'),
  eq: fn(
    ['any'],
    (a: unknown, ...rest: unknown[]) => {
      if (rest.length === 0) throw new CallError('error calling eq: missing argument for comparison');
      return rest.some((b) => equal('eq', a, b));
    },
    'any',
  ),
  ne: fn(['any', 'any'], (a: unknown, b: unknown) => !equal('ne', a, b)),
  lt: fn(['any', 'any'], (a: unknown, b: unknown) => less('lt', a, b)),
  le: fn(['any', 'any'], (a: unknown, b: unknown) => less('le', a, b) || equal('le', a, b)),
  gt: fn(['any', 'any'], (a: unknown, b: unknown) => !less('gt', a, b) && !equal('gt', a, b)),
  ge: fn(['any', 'any'], (a: unknown, b: unknown) => !less('ge', a, b)),
  html: fn([], (...args: unknown[]) => htmlEscape(sprint(args)), 'any'),
  js: fn([], (...args: unknown[]) => jsEscape(sprint(args)), 'any'),
  urlquery: fn([], (...args: unknown[]) => queryEscape(sprint(args)), 'any'),
};

/** docker's additions (docker/cli templates.basicFunctions). */
export const DOCKER_FUNCTIONS: Record<string, TemplateFunction> = {
  json: fn(['any'], goJson),
  split: fn(['string', 'string'], (s: string, sep: string) => (sep === '' ? [...s] : s.split(sep))),
  join: fn(['strings', 'string'], (list: string[], sep: string) => list.join(sep)),
  title: fn(['string'], title),
  lower: fn(['string'], (s: string) => s.toLowerCase()),
  upper: fn(['string'], (s: string) => s.toUpperCase()),
  pad: fn(['string', 'int', 'int'], (s: string, prefix: number, suffix: number) => {
    if (prefix < 0 || suffix < 0) throw new CallError('error calling pad: negative repeat count');
    return s === '' ? s : ' '.repeat(prefix) + s + ' '.repeat(suffix);
  }),
  truncate: fn(['string', 'int'], (s: string, n: number) => {
    if (n < 0) throw new CallError(`error calling truncate: slice bounds out of range [:${n}]`);
    return s.length < n ? s : s.slice(0, n);
  }),
};

/**
 * docker's header functions: for a `table` format's header row, the functions that would change
 * a column's title leave it as it is (docker/cli templates.HeaderFunctions); `pad` stays, to keep
 * the header aligned with its column.
 */
export const HEADER_FUNCTIONS: Record<string, TemplateFunction> = {
  json: fn(['any'], (v: unknown) => v),
  split: fn(['any', 'any'], (v: unknown) => v),
  join: fn(['any', 'any'], (v: unknown) => v),
  title: fn(['any'], (v: unknown) => v),
  lower: fn(['any'], (v: unknown) => v),
  upper: fn(['any'], (v: unknown) => v),
  truncate: fn(['any', 'any'], (v: unknown) => v),
};

/** Converts an argument to a parameter's type, failing as Go's reflection-based call does. */
export function convert(name: string, param: Param, v: unknown): unknown {
  const wrong = (want: string) =>
    new CallError(
      v === undefined || v === null
        ? `invalid value; expected ${want} for ${name}`
        : `wrong type for value; expected ${want}; got ${goType(v)} for ${name}`,
    );
  switch (param) {
    case 'any':
      return v;
    case 'string':
      if (typeof v !== 'string') throw wrong('string');
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrong('int');
      return v;
    case 'strings':
      if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) throw wrong('[]string');
      return v;
  }
}
