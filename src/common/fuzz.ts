/**
 * A tiny fuzzing harness for den's parsers of hostile input (tar headers, manifests, references,
 * WWW-Authenticate, subuid lines). A target makes one input from a seeded generator, most often by
 * mutating a valid one, feeds it to its parser and checks properties: the parser returns or
 * refuses with a DenError (never a TypeError, a RangeError or a hang), what it accepts keeps the
 * parser's documented limits, and what a writer wrote parses back to what was written.
 *
 * The unit suite runs every target for a few hundred cases with a fixed seed (`*.fuzz.test.ts`);
 * `npm run bench -- fuzz` runs them for longer with a seed of its own, and prints the seed. Every
 * case has a seed of its own (caseSeed), which a failure prints, so that one case replays alone:
 * `DEN_FUZZ_CASE=<seed> npm run bench -- fuzz <target>`.
 *
 * Test support only: nothing in den's commands imports this.
 */
import { isDenError } from './errors.js';
import { caseSeed, SeededRandom } from './seeded-random.js';

export interface FuzzTarget {
  /** Short and unique, for `npm run bench -- fuzz NAME`. */
  readonly name: string;
  /** How many cases the unit suite runs: a few hundred or thousand, under about 2 s. */
  readonly cases: number;
  /** More cases than this only repeat themselves (a small input space): longer runs stop here. */
  readonly maxCases?: number;
  /** One case: makes an input from `rand` and checks the properties; throws when one fails. */
  one(rand: SeededRandom): void | Promise<void>;
}

export interface FuzzOptions {
  seed: number;
  iterations: number;
  /** Runs only the case with this seed (a failure's replay). */
  only?: number;
  /**
   * A case that takes longer fails (default 5 s, generous for a loaded machine): the inputs are
   * small, so a slow case is a parser doing super-linear work (a backtracking regular expression,
   * a quadratic loop) that an attacker could use, or hanging.
   */
  maxCaseMs?: number;
}

export interface FuzzResult {
  cases: number;
  ms: number;
  slowestMs: number;
}

/** A property that did not hold, with the input that broke it (whole; the message has a summary). */
export class PropertyFailure extends Error {
  override name = 'PropertyFailure';

  constructor(
    message: string,
    readonly input?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Runs `target` for `iterations` cases; a failure names the target, the case's seed and how to replay it. */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzResult> {
  const maxCaseMs = options.maxCaseMs ?? 5000;
  const seeds =
    options.only !== undefined
      ? [options.only]
      : Array.from({ length: options.iterations }, (_, i) => caseSeed(options.seed, i));
  const started = performance.now();
  let slowestMs = 0;
  for (const [i, s] of seeds.entries()) {
    const where = `fuzz ${target.name}: case ${i} (seed ${options.seed}, case seed ${s}; replay: DEN_FUZZ_CASE=${s} npm run bench -- fuzz ${target.name})`;
    const t0 = performance.now();
    try {
      await target.one(new SeededRandom(s));
    } catch (e) {
      const input = e instanceof PropertyFailure ? e.input : undefined;
      throw new PropertyFailure(`${where}: ${(e as Error).message}`, input, { cause: e });
    }
    const ms = performance.now() - t0;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > maxCaseMs) throw new PropertyFailure(`${where}: took ${ms.toFixed(0)} ms, more than ${maxCaseMs} ms`);
  }
  return { cases: seeds.length, ms: performance.now() - started, slowestMs };
}

/**
 * The result of `parse` on hostile input, or undefined when the parser refused it with a DenError.
 * Anything else thrown is a failed property: the parser crashed instead of explaining.
 */
export function acceptOrRefuse<T>(parse: () => T, input: unknown): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (isDenError(e)) return undefined;
    throw crash(e, input);
  }
}

/** acceptOrRefuse for an asynchronous parser. */
export async function acceptOrRefuseAsync<T>(parse: () => Promise<T>, input: unknown): Promise<T | undefined> {
  try {
    return await parse();
  } catch (e) {
    if (isDenError(e)) return undefined;
    throw crash(e, input);
  }
}

function crash(e: unknown, input: unknown): PropertyFailure {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new PropertyFailure(`threw ${what} instead of a DenError\ninput: ${describe(input)}`, input, { cause: e });
}

/** Fails with `message` and the input unless `ok`. */
export function property(ok: boolean, message: string, input: unknown): asserts ok {
  if (!ok) throw new PropertyFailure(`${message}\ninput: ${describe(input)}`, input);
}

/** An input, short enough for a test report: strings as JSON, bytes as base64 (replay gives the rest). */
export function describe(input: unknown): string {
  const text = Buffer.isBuffer(input)
    ? `${input.length} bytes, base64 ${input.toString('base64')}`
    : typeof input === 'string'
      ? JSON.stringify(input)
      : JSON.stringify(input, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return text.length > 2000 ? `${text.slice(0, 2000)}... (${text.length} characters)` : text;
}

/** Bytes that parsers treat specially: terminators, separators, digit edges, the sign and high bits. */
const INTERESTING_BYTES = [
  0x00, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2f, 0x30, 0x37, 0x38, 0x39, 0x3a, 0x3d, 0x40, 0x5c, 0x7f, 0x80, 0xff,
];
/** Numbers at the edges: zero, 2^31, 2^32, 2^53 and beyond, negative, and a long run of digits. */
const INTERESTING_NUMBERS = [
  '0',
  '-1',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '1e3',
  '0x10',
  '9'.repeat(40),
  '077777777777',
];

/**
 * A mutation of `input`: one to four edits chosen at random among flipping a bit, writing a
 * special byte, a huge number or invalid UTF-8, truncating, deleting, duplicating a slice, and
 * splicing in part of `other` (another valid input, so that the result is locally well-formed).
 */
export function mutateBytes(rand: SeededRandom, input: Buffer, other?: Buffer): Buffer {
  let b = Buffer.from(input);
  const edits = rand.int(1, 4);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : rand.int(0, b.length - 1);
    switch (rand.int(0, 8)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rand.int(0, 7));
        break;
      case 1:
        if (b.length > 0) b[at] = rand.pick(INTERESTING_BYTES);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rand.pick(INTERESTING_NUMBERS)), b.subarray(at)]);
        break;
      case 3:
        b = b.subarray(0, rand.int(0, b.length));
        break;
      case 4: {
        const end = Math.min(b.length, at + rand.int(1, 64));
        b = Buffer.concat([b.subarray(0, at), b.subarray(end)]);
        break;
      }
      case 5: {
        const end = Math.min(b.length, at + rand.int(1, 64));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 6: {
        // Invalid UTF-8: a lone continuation byte, an overlong NUL, a truncated sequence.
        const bad = rand.pick([[0x80], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8]]);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]);
        break;
      }
      case 7:
        if (other !== undefined && other.length > 0) {
          const from = rand.int(0, other.length - 1);
          const piece = other.subarray(from, Math.min(other.length, from + rand.int(1, 1024)));
          b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at + rand.int(0, piece.length))]);
        }
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), rand.bytes(rand.int(1, 16)), b.subarray(at)]);
    }
  }
  return b;
}

/** mutateBytes for text: the result is a string again, possibly with lone surrogates and NULs. */
export function mutateString(rand: SeededRandom, input: string, alphabet: string): string {
  let s = input;
  const edits = rand.int(1, 4);
  for (let e = 0; e < edits; e++) {
    const at = rand.int(0, s.length);
    switch (rand.int(0, 5)) {
      case 0:
        s = s.slice(0, at) + rand.string(rand.int(1, 3), alphabet) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + rand.int(1, 8));
        break;
      case 2:
        s = s.slice(0, at) + rand.pick(INTERESTING_NUMBERS) + s.slice(at);
        break;
      case 3:
        s =
          s.slice(0, at) +
          rand.pick(['\0', '\n', '\r', '\t', ' ', '\ud800', '\u00e9', '\u{1f600}', '\u2028']) +
          s.slice(at);
        break;
      case 4: {
        const from = rand.int(0, s.length);
        s = s.slice(0, at) + s.slice(from, from + rand.int(1, 32)) + s.slice(at);
        break;
      }
      default:
        s = s.slice(0, at);
    }
  }
  return s;
}
