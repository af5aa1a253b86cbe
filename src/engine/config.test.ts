import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { engineConfigFromEnv } from './config.js';

const self = { node: process.execPath, script: undefined };
const config = (env: Record<string, string>) => engineConfigFromEnv({ HOME: '/home/x', ...env }, self, 1000, 1000);

test('DEN_MAX_LAYER_RATIO: the decompression-bomb bound, 100 unless set; 0 lifts it; anything else is refused', () => {
  assert.equal(config({}).maxLayerRatio, 100);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '' }).maxLayerRatio, 100);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '2000' }).maxLayerRatio, 2000);
  assert.equal(config({ DEN_MAX_LAYER_RATIO: '0' }).maxLayerRatio, 0);
  for (const bad of ['-1', '1.5', 'lots']) {
    assert.throws(
      () => config({ DEN_MAX_LAYER_RATIO: bad }),
      (e: unknown) => e instanceof DenError && e.code === 'DEN0105' && e.message.includes(`DEN_MAX_LAYER_RATIO=${bad}`),
    );
  }
});
