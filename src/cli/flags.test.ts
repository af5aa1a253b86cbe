import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { list, parseFlags, str, bool, type CommandSpec } from './flags.js';

const run: CommandSpec = {
  path: 'run',
  usage: 'run',
  summary: '',
  stopAtPositional: true,
  minArgs: 1,
  flags: [
    { long: 'interactive', short: 'i', type: 'bool', help: '' },
    { long: 'tty', short: 't', type: 'bool', help: '' },
    { long: 'env', short: 'e', type: 'list', help: '' },
    { long: 'name', type: 'string', help: '' },
    { long: 'workdir', short: 'w', type: 'string', help: '' },
  ],
};

test('docker-style flags parse, and the command after the image is left alone', () => {
  const p = parseFlags(run, [
    '-it',
    '-e',
    'A=1',
    '-eB=2',
    '--env=C=3',
    '--name',
    'x',
    '-w/tmp',
    'img',
    'sh',
    '-c',
    'echo -e',
  ]);
  assert.equal(bool(p, 'interactive'), true);
  assert.equal(bool(p, 'tty'), true);
  assert.deepEqual(list(p, 'env'), ['A=1', 'B=2', 'C=3']);
  assert.equal(str(p, 'name'), 'x');
  assert.equal(str(p, 'workdir'), '/tmp');
  assert.deepEqual(p.args, ['img', 'sh', '-c', 'echo -e']);
});

test('bad flags are usage errors naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--nope', 'img'], /unknown flag: --nope/],
    [['-z', 'img'], /unknown shorthand flag: 'z'/],
    [['--name'], /flag needs an argument: --name/],
    [['-i'], /requires at least 1 argument/],
    [['--tty=maybe', 'img'], /invalid argument "maybe"/],
  ];
  for (const [argv, why] of cases) {
    assert.throws(
      () => parseFlags(run, argv),
      (e: unknown) => e instanceof DenError && e.kind === 'InvalidArgument' && why.test(e.message),
      argv.join(' '),
    );
  }
});
