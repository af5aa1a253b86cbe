import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { exitCodeFor } from './errors.js';
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

test("a wrong number of arguments: docker 28's words for each bound, and its status 1 even for run", () => {
  const shape = (minArgs?: number, maxArgs?: number): CommandSpec => ({
    path: 'x',
    usage: 'x [OPTIONS] A',
    summary: '',
    flags: [],
    ...(minArgs !== undefined ? { minArgs } : {}),
    ...(maxArgs !== undefined ? { maxArgs } : {}),
  });
  const cases: [CommandSpec, string[], string][] = [
    [shape(1), [], 'requires at least 1 argument'],
    [shape(2), ['a'], 'requires at least 2 arguments'],
    [shape(1, 1), ['a', 'b'], 'requires 1 argument'],
    [shape(2, 2), ['a'], 'requires 2 arguments'],
    [shape(1, 2), ['a', 'b', 'c'], 'requires at least 1 and at most 2 arguments'],
    [shape(undefined, 1), ['a', 'b'], 'requires at most 1 argument'],
    [shape(undefined, 0), ['a'], 'accepts no arguments'],
  ];
  for (const [spec, argv, wanted] of cases) {
    assert.throws(
      () => parseFlags(spec, argv),
      (e: unknown) => {
        assert.ok(e instanceof DenError);
        assert.equal(e.message, `den: 'den x' ${wanted}`);
        assert.equal(e.hint, "\nUsage:  den x [OPTIONS] A\n\nSee 'den x --help' for more information");
        assert.equal(exitCodeFor(e, 125), 1, 'not the command status: docker exits 1 for it');
        return true;
      },
      wanted,
    );
  }
  assert.doesNotThrow(() => parseFlags(shape(1, 2), ['a', '--help', 'b', 'c']), '--help skips the count');
});

test('exit statuses: flag errors 125 whatever the command, else the command status (1 unless it says)', () => {
  const flagError = (() => {
    try {
      parseFlags(run, ['--nope', 'img']);
    } catch (e) {
      return e;
    }
    return assert.fail('no error');
  })();
  assert.equal(exitCodeFor(flagError), 125);
  assert.equal(exitCodeFor(flagError, 1), 125);
  const daemonError = new DenError('NotFound', 'DEN0702', 'no such object: x');
  assert.equal(exitCodeFor(daemonError), 1);
  assert.equal(exitCodeFor(daemonError, 125), 125);
  assert.equal(exitCodeFor(new Error('internal')), 1);
});
