import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canRaiseHardLimits, hardLimits, ociRlimit, RLIM_INFINITY, rlimitsAboveOwn } from './rlimits.js';

/** /proc/self/limits of a den started as root on the development hosts. */
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max stack size            8388608              unlimited            bytes
Max processes             96367                96367                processes
Max open files            20000                20000                files
Max pending signals       96367                96367                signals
`;

test('hardLimits reads /proc/PID/limits by docker names', () => {
  const hard = hardLimits(LIMITS);
  assert.equal(hard.get('nofile'), 20000n);
  assert.equal(hard.get('nproc'), 96367n);
  assert.equal(hard.get('stack'), RLIM_INFINITY);
  assert.equal(hard.get('cpu'), RLIM_INFINITY);
  assert.equal(hard.get('sigpending'), 96367n);
  assert.equal(hard.has('core'), false);
});

test('rlimitsAboveOwn: only hard limits above den own (a lower or equal one, or any soft, is fine)', () => {
  const own = hardLimits(LIMITS);
  const asked = [ociRlimit('nofile', 1024, 20000), ociRlimit('nproc', 10, 20), ociRlimit('stack', -1, -1)];
  assert.deepEqual(rlimitsAboveOwn(asked, own), []);
  const above = rlimitsAboveOwn([ociRlimit('nofile', 1024, 30000), ociRlimit('nproc', 1, -1)], own);
  assert.deepEqual(
    above.map((a) => [a.name, a.own]),
    [
      ['nofile', 20000n],
      ['nproc', 96367n],
    ],
  );
});

test('canRaiseHardLimits: CAP_SYS_RESOURCE, in the initial user namespace only', () => {
  const all = 'CapEff:\t000001ffffffffff\n';
  const withoutSysResource = 'CapEff:\t000001fffeffffff\n';
  assert.equal(canRaiseHardLimits(all, '         0          0 4294967295\n'), true);
  assert.equal(canRaiseHardLimits(withoutSysResource, '         0          0 4294967295\n'), false);
  assert.equal(canRaiseHardLimits(all, '         0       1000          1\n'), false, 'a user namespace');
  assert.equal(canRaiseHardLimits('CapEff:\t0000000000000000\n', '         0          0 4294967295\n'), false);
});
