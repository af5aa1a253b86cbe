/**
 * den's test runner: `npm test` (both phases), `npm run test:unit`, `npm run test:e2e`, or
 * `node --import tsx test/run.ts [unit] [e2e] [FILE...]`.
 *
 * Unit tests (the *.test.ts files under src/) are independent of each other and mostly wait on child processes
 * (zstd, setpriv, a user's session), so their files run in parallel. End-to-end tests
 * (test/*.test.ts) run real containers as one test user with timing assertions, so their files run
 * one at a time, after the unit tests. One spec reporter prints both phases, and the run ends with
 * node's own summary lines (tests, suites, pass, fail, cancelled, skipped, todo, duration_ms)
 * counting the whole run, which CI reads; the exit status is 1 when anything failed.
 *
 * Every file of the run shares one scratch directory (test/run-dir.ts), so the busybox fixture is
 * built once per run, and everything the tests leave in /tmp is removed when the run ends, whether
 * they passed, failed, or the run was interrupted.
 *
 * DEN_TEST_CONCURRENCY sets how many unit files run at once.
 */
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from 'node:test';
import { spec, type TestEvent } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { createRunDir, removeRunDir, RUN_DIR_ENV } from './run-dir.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Node's default is availableParallelism() - 1, which is 1 on the 2-core machines den is developed
 * on: no parallelism at all. The unit files spend much of their time waiting on child processes,
 * so one file per core plus one keeps both cores busy (the measurements are in the log message
 * of the commit that made the runner).
 */
const UNIT_CONCURRENCY = concurrency(process.env.DEN_TEST_CONCURRENCY) ?? availableParallelism() + 1;

function concurrency(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new Error(`DEN_TEST_CONCURRENCY must be a positive integer, not ${text}`);
  return Number(text);
}

/** The summary counters node prints at the end of a run, in its order. */
const COUNTERS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
type Counter = (typeof COUNTERS)[number];
const SUMMARY = new RegExp(`^(${COUNTERS.join('|')}|duration_ms) ([0-9.]+)$`);

interface Phase {
  name: string;
  files: string[];
  concurrency: number;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) out.push(p);
    }
  };
  walk(join(REPO, dir));
  return out.sort();
}

/** The phases the arguments ask for: `unit`, `e2e`, and files (each goes to the phase of its directory). */
function phasesOf(args: string[]): Phase[] {
  const unit: Phase = { name: 'unit', files: [], concurrency: UNIT_CONCURRENCY };
  const e2e: Phase = { name: 'e2e', files: [], concurrency: 1 };
  for (const arg of args.length === 0 ? ['unit', 'e2e'] : args) {
    if (arg === 'unit') unit.files.push(...testFiles('src'));
    else if (arg === 'e2e') e2e.files.push(...testFiles('test'));
    else {
      const file = resolve(arg);
      (relative(REPO, file).startsWith('test/') ? e2e : unit).files.push(file);
    }
  }
  return [unit, e2e].filter((p) => p.files.length > 0);
}

/**
 * The events of every phase in turn, with each phase's closing summary held back and added up; the
 * sums follow as one summary of the whole run, in node's words, so the reporter prints them last.
 */
async function* runPhases(
  phases: Phase[],
  signal: AbortSignal,
  totals: Record<Counter, number>,
): AsyncGenerator<TestEvent> {
  const started = performance.now();
  for (const phase of phases) {
    if (signal.aborted) break;
    // A summary diagnostic is held until the next event shows it was not the closing summary.
    let held: TestEvent[] = [];
    for await (const event of run({
      files: phase.files,
      concurrency: phase.concurrency,
      signal,
    }) as AsyncIterable<TestEvent>) {
      const m = event.type === 'test:diagnostic' && event.data.nesting === 0 ? SUMMARY.exec(event.data.message) : null;
      if (m) {
        held.push(event);
        continue;
      }
      yield* held;
      held = [];
      yield event;
    }
    for (const event of held) {
      const [, key, value] = SUMMARY.exec((event as { data: { message: string } }).data.message)!;
      if (key !== 'duration_ms') totals[key as Counter] += Number(value);
    }
    if (held.length === 0) totals.fail++; // a phase that ends without its summary did not finish
  }
  const base = { nesting: 0, file: undefined, line: undefined, column: undefined } as const;
  for (const key of COUNTERS) yield { type: 'test:diagnostic', data: { ...base, message: `${key} ${totals[key]}` } };
  yield { type: 'test:diagnostic', data: { ...base, message: `duration_ms ${performance.now() - started}` } };
}

async function main(): Promise<number> {
  const phases = phasesOf(process.argv.slice(2));
  const dir = createRunDir();
  process.env[RUN_DIR_ENV] = dir;
  const abort = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const totals = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Record<Counter, number>;
  try {
    await pipeline(Readable.from(runPhases(phases, abort.signal, totals)), new spec(), process.stdout, {
      end: false,
    });
  } finally {
    const r = removeRunDir(dir);
    if (r.killed > 0 || r.unmounted > 0 || r.left.length > 0) {
      console.log(
        `test run clean-up: killed ${r.killed} leftover processes, unmounted ${r.unmounted} file systems under ${dir}`,
      );
    }
    for (const left of r.left) console.log(`test run clean-up: could not remove ${left}`);
  }
  if (interrupted) return 130;
  return totals.fail > 0 || totals.cancelled > 0 ? 1 : 0;
}

process.exitCode = await main();
