import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DenError } from '../../common/errors.js';
import type { ImageConfig, ImageHealthcheck } from '../../images/index.js';
import { applyChanges } from '../images/image-changes.js';
import { healthcheckOf, type HealthFlags } from './create-spec.js';

/**
 * A container's health check as docker makes it from the --health-* flags (docker/cli's
 * parse of run's flags) and the image's HEALTHCHECK (the daemon's merge, field by field), and an
 * image's HEALTHCHECK as `import --change` writes it (a Dockerfile's instruction).
 */
const IMAGE: ImageHealthcheck = {
  Test: ['CMD', '/check', '--quick'],
  Interval: 10e9,
  Timeout: 5e9,
  StartPeriod: 60e9,
  Retries: 5,
};

describe('healthcheckOf: the --health-* flags over the image HEALTHCHECK', () => {
  const none = { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, retries: 0 };
  // [what, flags, image, the container's check]
  const table: [string, Partial<HealthFlags>, ImageHealthcheck | undefined, unknown][] = [
    ['no flags, no HEALTHCHECK: none', {}, undefined, undefined],
    [
      "no flags: the image's, as it is",
      {},
      IMAGE,
      { test: IMAGE.Test, interval: 10e9, timeout: 5e9, startPeriod: 60e9, retries: 5 },
    ],
    [
      '--health-cmd is a shell command',
      { cmd: 'curl -f http://localhost/ || exit 1' },
      undefined,
      {
        test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
        interval: 0,
        timeout: 0,
        startPeriod: 0,
        retries: 0,
      },
    ],
    [
      "--health-cmd replaces the image's test and keeps its other fields",
      { cmd: 'true' },
      IMAGE,
      { test: ['CMD-SHELL', 'true'], interval: 10e9, timeout: 5e9, startPeriod: 60e9, retries: 5 },
    ],
    [
      "a field given replaces the image's; zeros take the image's",
      { interval: '1s', retries: 0, timeout: '0s' },
      IMAGE,
      { test: IMAGE.Test, interval: 1e9, timeout: 5e9, startPeriod: 60e9, retries: 5 },
    ],
    [
      'every flag, in Go durations',
      { cmd: 'x', interval: '1m30s', timeout: '500ms', startPeriod: '2h', retries: 7 },
      IMAGE,
      { test: ['CMD-SHELL', 'x'], interval: 90e9, timeout: 5e8, startPeriod: 7200e9, retries: 7 },
    ],
    [
      'an empty --health-cmd is none given',
      { cmd: '' },
      IMAGE,
      { test: IMAGE.Test, interval: 10e9, timeout: 5e9, startPeriod: 60e9, retries: 5 },
    ],
    [
      'fields without a test anywhere: kept, but nothing runs',
      { interval: '5s' },
      undefined,
      { test: [], interval: 5e9, timeout: 0, startPeriod: 0, retries: 0 },
    ],
    ['--no-healthcheck disables the image HEALTHCHECK', { none: true }, IMAGE, none],
    ['--no-healthcheck with zero fields is no conflict', { none: true, interval: '0s', retries: 0 }, IMAGE, none],
    ['HEALTHCHECK NONE in the image stays none under flags', { interval: '5s' }, { Test: ['NONE'] }, none],
  ];
  for (const [what, flags, image, expected] of table) {
    test(what, () => assert.deepEqual(healthcheckOf({ none: false, ...flags }, image), expected));
  }

  // [flags, docker's words]
  const refused: [Partial<HealthFlags>, RegExp][] = [
    [{ none: true, cmd: 'true' }, /--no-healthcheck conflicts with --health-\* options/],
    [{ none: true, interval: '1s' }, /--no-healthcheck conflicts with --health-\* options/],
    [{ none: true, retries: 2 }, /--no-healthcheck conflicts with --health-\* options/],
    [{ interval: '-1s' }, /--health-interval cannot be negative/],
    [{ timeout: '500us' }, /--health-timeout cannot be less than 1ms/],
    [{ startPeriod: 'soon' }, /--health-start-period: invalid duration "soon"/],
    [{ retries: -1 }, /--health-retries cannot be negative/],
  ];
  for (const [flags, message] of refused) {
    test(`refused: ${JSON.stringify(flags)}`, () =>
      assert.throws(
        () => healthcheckOf({ none: false, ...flags }, IMAGE),
        (e) => e instanceof DenError && e.code === 'DEN1106' && message.test(e.message),
      ));
  }
});

describe('import --change HEALTHCHECK, as a Dockerfile has it', () => {
  const changed = (change: string) => {
    const image = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } as ImageConfig;
    applyChanges(image, [change]);
    return image.config?.Healthcheck;
  };
  const table: [string, ImageHealthcheck][] = [
    [
      'HEALTHCHECK CMD curl -f http://localhost/ || exit 1',
      { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] },
    ],
    ['HEALTHCHECK CMD ["/bin/check", "-q"]', { Test: ['CMD', '/bin/check', '-q'] }],
    [
      'HEALTHCHECK --interval=1s --timeout=2s --start-period=1m --retries=2 CMD true',
      { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 2e9, StartPeriod: 60e9, Retries: 2 },
    ],
    ['healthcheck none', { Test: ['NONE'] }],
  ];
  for (const [change, expected] of table) test(change, () => assert.deepEqual(changed(change), expected));

  const refused: [string, RegExp][] = [
    ['HEALTHCHECK NONE now', /HEALTHCHECK NONE takes no arguments/],
    ['HEALTHCHECK --interval=1s NONE', /HEALTHCHECK NONE takes no arguments/],
    ['HEALTHCHECK CMD', /unknown type|missing command/],
    ['HEALTHCHECK RUN true', /unknown type "RUN" in HEALTHCHECK \(try CMD\)/],
    ['HEALTHCHECK --retries=-1 CMD true', /--retries cannot be negative \(-1\)/],
    ['HEALTHCHECK --interval=10us CMD true', /--interval cannot be less than 1ms/],
    ['HEALTHCHECK --every=1s CMD true', /unknown flag --every/],
  ];
  for (const [change, message] of refused) {
    test(`refused: ${change}`, () =>
      assert.throws(
        () => changed(change),
        (e) => e instanceof DenError && message.test(e.message),
      ));
  }
});
