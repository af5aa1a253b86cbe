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

test("a docker flag den lacks is named as docker's; one docker lacks too keeps docker's words", () => {
  const message = (argv: string[]) => {
    try {
      parseFlags(run, argv);
    } catch (e) {
      assert.ok(e instanceof DenError);
      assert.equal(e.reason, 'usage');
      return e.message;
    }
    return assert.fail('no error');
  };
  assert.equal(
    message(['--restart=always', 'x']),
    "unknown flag: --restart: docker's --restart is not supported by den yet",
  );
  assert.equal(
    message(['-p', '80', 'x']),
    "unknown shorthand flag: 'p' in -p: docker's -p (--publish) is not supported by den yet",
  );
  assert.equal(message(['--cpus', '2', 'x']), "unknown flag: --cpus: docker's --cpus is not supported by den yet");
  assert.equal(message(['--nosuch', 'x']), 'unknown flag: --nosuch');
  assert.equal(message(['-Z', 'x']), "unknown shorthand flag: 'Z' in -Z");
});
