import { test } from 'node:test';
import { fuzz } from '../common/fuzz.js';
import { SUBID_TARGETS } from './subid.fuzz.js';

// A fixed seed, so every run checks the same cases; DEN_PROPERTY_SEED picks others, and
// `npm run bench -- fuzz` runs many more.
const SEED = Number(process.env.DEN_PROPERTY_SEED ?? 20261207);

for (const target of SUBID_TARGETS) {
  test(`fuzz ${target.name}: seed ${SEED}, ${target.cases} cases`, async () => {
    await fuzz(target, { seed: SEED, iterations: target.cases });
  });
}
