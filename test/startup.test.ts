/**
 * What a den process loads before it does its work (scripts/build.mjs): the entry, and at most the
 * one bundle its command needs, compiled from its code cache; Node's modules only when used.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, denBin } from './harness.js';

/**
 * Loaded with --require before den: at exit, prints the files of dist/ den read, the modules of
 * Node's that were loaded after this one, and the programs den started.
 */
const RECORDER = `
const fs = require('node:fs');
const read = fs.readFileSync;
const files = [];
fs.readFileSync = function (file, ...rest) {
  if (typeof file === 'string' && file.includes('/dist/')) files.push(file.slice(file.indexOf('/dist/') + 6));
  return read.call(this, file, ...rest);
};
const spawned = [];
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  const m = load.call(this, request, ...rest);
  if ((request === 'node:child_process' || request === 'child_process') && !m.denRecorded) {
    m.denRecorded = true;
    for (const f of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
      const real = m[f];
      m[f] = function (file, ...args) {
        spawned.push(file);
        return real.call(this, file, ...args);
      };
    }
  }
  return m;
};
const before = new Set(process.moduleLoadList);
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));
  process.stderr.write('den-loads ' + JSON.stringify({ files, builtins, spawned }) + '\\n');
});
`;

describe('start-up: a den process loads the entry and at most its command bundle', () => {
  let env: DenEnv;
  let recorder: string;
  before(() => {
    env = new DenEnv();
    recorder = join(env.root, 'recorder.cjs');
    writeFileSync(recorder, RECORDER, { mode: 0o644 });
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
  });
  after(() => env.cleanup());

  function loads(args: string[]): {
    status: number;
    stdout: string;
    files: string[];
    builtins: string[];
    spawned: string[];
  } {
    const r = env.exec([process.execPath, '--require', recorder, '--', denBin(), ...args]);
    const line = r.stderr.split('\n').find((l) => l.startsWith('den-loads '));
    assert.ok(line, `den ${args.join(' ')} printed no record: ${r.stderr}`);
    return {
      status: r.status,
      stdout: r.stdout,
      ...(JSON.parse(line.slice(10)) as { files: string[]; builtins: string[]; spawned: string[] }),
    };
  }

  test('den --version reads only the entry, and loads none of the modules of Node a command may need', () => {
    const r = loads(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^den version \S+\n$/);
    assert.deepEqual(r.files, ['den.cjs']);
    // (node:net may be: it is how Node writes to a piped stdout.)
    for (const m of ['child_process', 'crypto', 'vm', 'os']) assert.ok(!r.builtins.includes(m), `${m} is not loaded`);
  });

  test('den ps -a reads its own bundle and that bundle code cache, and starts no process: no node:child_process', () => {
    const r = loads(['ps', '-a']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^CONTAINER ID/);
    assert.deepEqual(r.files, ['den.cjs', 'load-bundle.cjs', 'commands/ps.cjs', 'commands/ps.cjs.cache']);
    assert.ok(!r.builtins.includes('child_process'), r.builtins.join(' '));
  });

  test('den run --rm reads the run bundle only, and starts one program, the one that becomes the runtime', () => {
    // The first run makes the session and asks crun its version (den remembers it): then, only
    // the program that mounts and becomes the runtime; its poststop hook unmounts and removes.
    assert.equal(env.den(['run', '--rm', 'busybox', 'true']).status, 0);
    const r = loads(['run', '--rm', 'busybox', 'echo', 'ran']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'ran\n');
    assert.deepEqual(r.spawned, ['nsenter']);
    assert.deepEqual(env.containerDirs(), []);
    assert.deepEqual(
      r.files.filter((f) => f.endsWith('.cjs')),
      ['den.cjs', 'load-bundle.cjs', 'commands/run.cjs'],
    );
  });

  test('every command den --help lists has its bundle', () => {
    const help = env.den(['--help']).stdout;
    const names = help
      .slice(help.indexOf('Commands:'))
      .split('\n')
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim().split(/\s{2,}/)[0]!);
    assert.ok(names.length > 10, help);
    for (const name of names) {
      const r = env.den([...name.split(' '), '--help']);
      assert.equal(r.status, 0, `den ${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage:\\s+den ${name}`), name);
    }
  });

  test('this Node accepts the code cache of every bundle', () => {
    const dist = join(dirname(dirname(denBin())), 'dist');
    const loader = createRequire(import.meta.url)(join(dist, 'load-bundle.cjs')) as {
      cacheAccepted(name: string): boolean;
    };
    const bundles: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.cjs') && e.name !== 'den.cjs' && e.name !== 'load-bundle.cjs')
          bundles.push(relative(dist, join(dir, e.name)));
      }
    };
    walk(dist);
    assert.ok(bundles.includes('commands/ps.cjs') && bundles.includes('internal-unpack.cjs'), bundles.join(' '));
    for (const name of bundles) assert.ok(loader.cacheAccepted(name), name);
  });
});
