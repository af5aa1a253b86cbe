import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDenError } from '../../common/errors.js';
import {
  checkCpusetAvailable,
  controllersFor,
  cpuList,
  ociResources,
  ociRlimits,
  parseInt64,
  parseMemoryBytes,
  parseMemorySwap,
  parseNanoCpus,
  parseUlimit,
  resolveLimits,
} from './limits.js';

/** [input, value or docker's error message] */
type Case<T> = [string, T | Error];

function table<T>(name: string, parse: (v: string) => T, cases: Case<T>[]): void {
  describe(name, () => {
    for (const [input, want] of cases) {
      test(JSON.stringify(input), () => {
        if (want instanceof Error) {
          assert.throws(
            () => parse(input),
            (e: unknown) => isDenError(e) && e.message === want.message,
            `wanted: ${want.message}`,
          );
        } else {
          assert.deepEqual(parse(input), want);
        }
      });
    }
  });
}

const err = (message: string) => new Error(message);
const MiB = 1024 * 1024;

// Expected values and messages are what docker 28.2's CLI (go-units 0.5.0, Go's strconv and big.Rat) gives.
table('parseMemoryBytes (go-units RAMInBytes)', parseMemoryBytes, [
  ['64m', 64 * MiB],
  ['64M', 64 * MiB],
  ['64mb', 64 * MiB],
  ['64MiB', 64 * MiB],
  ['64 m', 64 * MiB],
  ['1.5g', 1.5 * 1024 * MiB],
  ['1g', 1024 * MiB],
  ['2t', 2 * 1024 ** 4],
  ['1024', 1024],
  ['1024b', 1024],
  ['7k', 7168],
  ['0.5k', 512],
  ['1e3', 1000],
  ['abc', err("invalid size: 'abc'")],
  ['m', err("invalid size: 'm'")],
  ['', err("invalid size: ''")],
  ['-1', err("invalid size: '-1'")],
  ['10x', err("invalid suffix: 'x'")],
  ['10mbb', err("invalid suffix: 'mbb'")],
  ['10bytes', err("invalid suffix: 'bytes'")],
  ['10mx', err("invalid suffix: 'mx'")],
  ['10KB', 10240],
  ['1.2.3m', err('strconv.ParseFloat: parsing "1.2.3": invalid syntax')],
  ['1e400', err('strconv.ParseFloat: parsing "1e400": value out of range')],
]);

table('parseMemorySwap', parseMemorySwap, [
  ['-1', -1],
  ['128m', 128 * MiB],
  ['-2', err("invalid size: '-2'")],
]);

table('parseNanoCpus (big.Rat, billionths)', parseNanoCpus, [
  ['1.5', 1_500_000_000],
  ['2', 2_000_000_000],
  ['.5', 500_000_000],
  ['0.000000001', 1],
  ['1e-1', 100_000_000],
  ['3/2', 1_500_000_000],
  ['-1', -1_000_000_000],
  ['0', 0],
  ['0.0000000001', err('value is too precise')],
  ['1/3', err('value is too precise')],
  ['abc', err('failed to parse abc as a rational number')],
  ['1/0', err('failed to parse 1/0 as a rational number')],
  ['', err('failed to parse  as a rational number')],
  ['1.5cpu', err('failed to parse 1.5cpu as a rational number')],
]);

table('parseInt64 (strconv.ParseInt base 0)', parseInt64, [
  ['512', 512],
  ['-1', -1],
  ['+7', 7],
  ['0x10', 16],
  ['010', 8],
  ['0b11', 3],
  ['0o17', 15],
  ['1_000', err('strconv.ParseInt: parsing "1_000": invalid syntax')],
  ['0x1_0', 16],
  ['09', err('strconv.ParseInt: parsing "09": invalid syntax')],
  ['x', err('strconv.ParseInt: parsing "x": invalid syntax')],
  ['1.5', err('strconv.ParseInt: parsing "1.5": invalid syntax')],
  ['', err('strconv.ParseInt: parsing "": invalid syntax')],
  ['9223372036854775808', err('strconv.ParseInt: parsing "9223372036854775808": value out of range')],
]);

table('parseUlimit (go-units ParseUlimit)', parseUlimit, [
  ['nofile=1024', { name: 'nofile', soft: 1024, hard: 1024 }],
  ['nofile=1024:2048', { name: 'nofile', soft: 1024, hard: 2048 }],
  ['core=-1', { name: 'core', soft: -1, hard: -1 }],
  ['nofile=100:-1', { name: 'nofile', soft: 100, hard: -1 }],
  ['nofile', err('invalid ulimit argument: nofile')],
  ['as=1', err('invalid ulimit type: as')],
  ['nofiles=1', err('invalid ulimit type: nofiles')],
  ['nofile=1:2:3', err('too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`')],
  ['nofile=2048:1024', err('ulimit soft limit must be less than or equal to hard limit: 2048 > 1024')],
  [
    'nofile=-1:1024',
    err('ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 1024'),
  ],
  ['nofile=x', err('strconv.ParseInt: parsing "x": invalid syntax')],
  ['nofile=0x10', err('strconv.ParseInt: parsing "0x10": invalid syntax')],
]);

describe('cpuList (the kernel list form, as docker parses it)', () => {
  test('ranges and single CPUs', () => assert.deepEqual(cpuList('0-2,5', 8192), [0, 1, 2, 5]));
  test('malformed', () => {
    for (const bad of ['0-x', '3-1', '-1', 'a', '0,,1']) assert.throws(() => cpuList(bad, 8192), /invalid format/, bad);
  });
  test('beyond the maximum', () => assert.throws(() => cpuList('0-9000', 8192), /value of out range, maximum is 8192/));
});

describe('checkCpusetAvailable', () => {
  test('CPUs the cgroup has pass', () => checkCpusetAvailable('0,1', '0-1'));
  test('others are refused in docker words', () => {
    assert.throws(
      () => checkCpusetAvailable('1-3', '0-1'),
      (e: unknown) => isDenError(e) && e.message === 'Requested CPUs are not available - requested 1-3, available: 0-1',
    );
    assert.throws(
      () => checkCpusetAvailable('0-x', '0-1'),
      (e: unknown) => isDenError(e) && e.message === 'Invalid value 0-x for cpuset cpus: invalid format: 0-x',
    );
  });
});

describe("resolveLimits (docker's daemon rules)", () => {
  const refused = (asked: Parameters<typeof resolveLimits>[0], message: string) =>
    assert.throws(
      () => resolveLimits(asked, 2),
      (e: unknown) => isDenError(e) && e.code === 'DEN0691' && e.message === message,
      message,
    );

  test('swap is twice the memory unless given; -1 is unlimited', () => {
    assert.deepEqual(resolveLimits({ memory: 64 * MiB }, 2), { memory: 64 * MiB, memorySwap: 128 * MiB });
    assert.deepEqual(resolveLimits({ memory: 64 * MiB, memorySwap: -1 }, 2), { memory: 64 * MiB, memorySwap: -1 });
    assert.deepEqual(resolveLimits({ memory: 64 * MiB, memorySwap: 64 * MiB }, 2), {
      memory: 64 * MiB,
      memorySwap: 64 * MiB,
    });
  });

  test('zeros are no limit, and a pids limit of 0 or less is unlimited', () => {
    assert.equal(resolveLimits({ memory: 0, nanoCpus: 0, cpuShares: 0, pidsLimit: -1 }, 2), undefined);
    assert.equal(resolveLimits(undefined, 2), undefined);
    assert.deepEqual(resolveLimits({ pidsLimit: 50 }, 2), { pidsLimit: 50 });
  });

  test('ulimits: one per name, the last one given, sorted', () => {
    const limits = resolveLimits(
      {
        ulimits: [
          { name: 'nproc', soft: 10, hard: 10 },
          { name: 'nofile', soft: 1, hard: 2 },
          { name: 'nproc', soft: 20, hard: 30 },
        ],
      },
      2,
    );
    assert.deepEqual(limits?.ulimits, [
      { name: 'nofile', soft: 1, hard: 2 },
      { name: 'nproc', soft: 20, hard: 30 },
    ]);
  });

  test('what docker refuses, in its words', () => {
    refused({ memory: 4 * MiB }, 'Minimum memory limit allowed is 6MB');
    refused(
      { memory: 64 * MiB, memorySwap: 32 * MiB },
      'Minimum memoryswap limit should be larger than memory limit, see usage',
    );
    refused({ memorySwap: 64 * MiB }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
    refused({ memoryReservation: MiB }, 'Minimum memory reservation allowed is 6MB');
    refused(
      { memory: 64 * MiB, memoryReservation: 128 * MiB },
      'Minimum memory limit can not be less than memory reservation limit, see usage',
    );
    refused({ nanoCpus: 3e9 }, 'range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    refused({ nanoCpus: -1e9 }, 'range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    refused({ cpuShares: -5 }, 'invalid CPU shares (-5): value must be a positive integer');
  });
});

test("ociResources: docker's OCI resources (quota of a 100 ms period, swap only when limited)", () => {
  assert.deepEqual(
    ociResources({
      memory: 64 * MiB,
      memorySwap: 128 * MiB,
      memoryReservation: 32 * MiB,
      nanoCpus: 1_500_000_000,
      cpuShares: 512,
      cpusetCpus: '0',
      pidsLimit: 50,
    }),
    {
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB },
      cpu: { shares: 512, quota: 150_000, period: 100_000, cpus: '0' },
      pids: { limit: 50 },
    },
  );
  assert.deepEqual(ociResources({ memory: 64 * MiB, memorySwap: -1 }), { memory: { limit: 64 * MiB } });
  assert.equal(ociResources({ ulimits: [{ name: 'nofile', soft: 1, hard: 1 }] }), undefined);
});

test('ociRlimits: unsigned 64-bit values, -1 as RLIM_INFINITY', () => {
  assert.deepEqual(ociRlimits({ ulimits: [{ name: 'nofile', soft: 1024, hard: -1 }] }), [
    { type: 'RLIMIT_NOFILE', soft: 1024n, hard: 2n ** 64n - 1n },
  ]);
});

test('controllersFor: ulimits need none', () => {
  assert.deepEqual(controllersFor({ ulimits: [{ name: 'nofile', soft: 1, hard: 1 }] }), []);
  assert.deepEqual(controllersFor({ memory: 1, nanoCpus: 1, cpusetCpus: '0', pidsLimit: 1 }), [
    'memory',
    'cpu',
    'cpuset',
    'pids',
  ]);
  assert.deepEqual(controllersFor({ memorySwap: -1 }), []);
});
