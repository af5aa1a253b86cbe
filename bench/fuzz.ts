/**
 * `npm run bench -- fuzz [TARGET...]`: den's fuzz targets (the *.fuzz.ts files under src/, see
 * src/common/fuzz.ts) for longer than the unit suite runs them, with a fresh seed each time unless
 * one is given.
 *
 *   DEN_FUZZ_ITERATIONS  cases per target (default 20000; fewer for a target whose inputs are few)
 *   DEN_FUZZ_SEED        the run's seed (default: random, printed first so that the run replays)
 *   DEN_FUZZ_CASE        one case's seed, from a failure's message: replays that case alone
 *
 * A failure prints the property, the case's replay line, and writes the whole input to a file.
 * Needs neither root nor the test user.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz, PropertyFailure, type FuzzTarget } from '../src/common/fuzz.js';
import { SUBID_TARGETS } from '../src/idmap/subid.fuzz.js';
import { MANIFEST_TARGETS } from '../src/images/manifest.fuzz.js';
import { REFERENCE_TARGETS } from '../src/images/reference.fuzz.js';
import { WWW_AUTHENTICATE_TARGETS } from '../src/registry/www-authenticate.fuzz.js';
import { TAR_TARGETS } from '../src/unpack/tar-reader.fuzz.js';

export const FUZZ_TARGETS: FuzzTarget[] = [
  ...TAR_TARGETS,
  ...MANIFEST_TARGETS,
  ...REFERENCE_TARGETS,
  ...WWW_AUTHENTICATE_TARGETS,
  ...SUBID_TARGETS,
];

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^[0-9]+$/.test(text)) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Runs the targets named (all when none); the exit status is 1 when one failed. */
export async function benchFuzz(names: string[]): Promise<void> {
  for (const name of names) {
    if (!FUZZ_TARGETS.some((t) => t.name === name)) {
      throw new Error(`no fuzz target ${name}: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`);
    }
  }
  const targets = names.length === 0 ? FUZZ_TARGETS : FUZZ_TARGETS.filter((t) => names.includes(t.name));
  const seed = envInteger('DEN_FUZZ_SEED') ?? randomInt(2 ** 32 - 1);
  const iterations = envInteger('DEN_FUZZ_ITERATIONS') ?? 20000;
  const only = envInteger('DEN_FUZZ_CASE');
  console.log(
    only !== undefined
      ? `fuzz: replaying case seed ${only}`
      : `fuzz: seed ${seed}, ${iterations} cases per target (DEN_FUZZ_SEED=${seed} replays this run)`,
  );
  let failed = 0;
  for (const target of targets) {
    try {
      const cases = Math.min(iterations, target.maxCases ?? Infinity);
      const r = await fuzz(target, { seed, iterations: cases, ...(only !== undefined ? { only } : {}) });
      console.log(
        `  ${target.name.padEnd(28)} ${String(r.cases).padStart(7)} cases ${(r.ms / 1000).toFixed(1).padStart(6)} s   slowest case ${r.slowestMs.toFixed(1)} ms`,
      );
    } catch (e) {
      failed++;
      console.log(`  ${target.name.padEnd(28)} FAILED\n${(e as Error).message}`);
      let cause: unknown = e;
      while (cause instanceof Error && !(cause instanceof PropertyFailure && cause.input !== undefined)) {
        cause = cause.cause;
      }
      if (cause instanceof PropertyFailure) {
        const file = join(tmpdir(), `den-fuzz-${target.name}-${Date.now()}.input`);
        const input = cause.input;
        writeFileSync(file, Buffer.isBuffer(input) ? input : typeof input === 'string' ? input : JSON.stringify(input));
        console.log(`  the whole input: ${file}`);
      }
    }
  }
  if (failed > 0) process.exitCode = 1;
}
