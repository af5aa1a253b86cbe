/**
 * A signal in the middle of a command that writes the store (import, load): den stops, removes
 * what it had half-made, exits 128 + the signal's number, and `den system check --store` finds
 * nothing to report, at once, not only after a later den swept a killed one's leftovers. (The pull
 * case is in pull.test.ts, behind a slow registry.)
 *
 * The command reads its archive from a pipe that the test fills half-way and then holds open, so
 * the signal arrives while den is certainly mid-archive, with its temporaries on disk.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { busyboxTarball, denCommand, DenEnv } from './harness.js';

/** What a command in progress keeps in the store: temporary layers, ingest files, locks, leases. */
function temporaries(env: DenEnv): string[] {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const layers = join(env.dataDir, 'layers');
  return [
    ...list(layers).filter((n) => n.startsWith('.tmp-')),
    ...list(join(layers, '.locks')).map((n) => `.locks/${n}`),
    ...list(join(layers, '.leases')).map((n) => `.leases/${n}`),
    ...list(join(env.dataDir, 'content', 'ingest')).map((n) => `ingest/${n}`),
  ];
}

describe('a signal mid-import or mid-load: den cleans up and check --store is clean', () => {
  let env: DenEnv;
  let bigTar: string;
  let bigArchive: string;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
    // A root file system of 24 MB that does not compress: it takes a while to arrive.
    const dir = join(env.root, 'bigroot');
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, 'noise'), randomBytes(24 << 20));
    bigTar = join(env.root, 'big.tar');
    const tar = spawn('tar', ['-cf', bigTar, '-C', dir, '.']);
    return new Promise<void>((resolve) => tar.on('exit', () => resolve())).then(() => {
      chmodSync(bigTar, 0o644);
      assert.equal(env.den(['import', bigTar, 'local/big:1']).status, 0);
      bigArchive = join(env.home, 'big-archive.tar');
      const save = env.den(['save', '-o', bigArchive, 'local/big:1']);
      assert.equal(save.status, 0, save.stderr);
      chmodSync(bigArchive, 0o644);
      assert.equal(env.den(['rmi', 'local/big:1']).status, 0);
    });
  });
  after(() => env.cleanup());

  /**
   * Runs `den ARGS` with the first half of `file` on its stdin, the pipe held open; once den has
   * temporaries on disk, sends `sig` (to den alone, or to its process group as a terminal's Ctrl-C
   * does: then its unpacker gets it too) and returns den's exit status and stderr.
   */
  const interrupted = async (args: string[], file: string, sig: NodeJS.Signals, group: boolean) => {
    const [cmd, ...rest] = env.wrap([...denCommand(), ...args]);
    const child = spawn(cmd!, rest, { cwd: env.root, stdio: ['pipe', 'pipe', 'pipe'], detached: group });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // den stops reading when it stops: what it never read fails to be written, as intended.
    child.stdin.on('error', () => {});
    const bytes = readFileSync(file);
    child.stdin.write(bytes.subarray(0, bytes.length >> 1));
    const deadline = Date.now() + 20_000;
    while (temporaries(env).length === 0 && Date.now() < deadline) await sleep(20);
    const during = temporaries(env);
    assert.notDeepEqual(during, [], `den ${args.join(' ')} got under way: ${stderr}`);
    // Meanwhile another den's check finds nothing wrong: the temporaries are a live den's.
    const live = env.den(['system', 'check', '--store']);
    assert.equal(live.status, 0, `a live ${args[0]}'s temporaries are no failure: ${live.stdout}`);
    if (group) process.kill(-child.pid!, sig);
    else child.kill(sig);
    const status = await exited;
    child.stdin.destroy();
    return { status, stderr, during };
  };

  for (const [sig, status, group] of [
    ['SIGTERM', 143, false],
    ['SIGINT', 130, true],
  ] as const) {
    test(`import from stdin, ${sig}${group ? ' to its process group (Ctrl-C)' : ''}: exit ${status}, nothing left`, async () => {
      const r = await interrupted(['import', '-', 'local/stopped:1'], bigTar, sig, group);
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stderr, '', 'stopped by a signal, den says nothing more than a killed program');
      assert.deepEqual(temporaries(env), [], `left of ${r.during.join(' ')}`);
      const check = env.den(['system', 'check', '--store']);
      assert.equal(check.status, 0, check.stdout);
      assert.doesNotMatch(check.stdout, /FAIL/);
      assert.equal(env.den(['images', '-q', 'local/stopped']).stdout, '');
    });

    test(`load from stdin, ${sig}${group ? ' to its process group (Ctrl-C)' : ''}: exit ${status}, nothing left`, async () => {
      const layerDirs = () =>
        readdirSync(join(env.dataDir, 'layers'))
          .filter((n) => !n.startsWith('.'))
          .sort();
      const layers = layerDirs();
      const r = await interrupted(['load'], bigArchive, sig, group);
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(temporaries(env), [], `left of ${r.during.join(' ')}`);
      const check = env.den(['system', 'check', '--store']);
      assert.equal(check.status, 0, check.stdout);
      assert.doesNotMatch(check.stdout, /FAIL/);
      assert.equal(env.den(['images', '-q', 'local/big']).stdout, '');
      assert.deepEqual(layerDirs(), layers, 'no layer of the half archive kept');
    });
  }

  test('after the signals, the same archives load and import whole', () => {
    const load = env.den(['load', '-i', bigArchive]);
    assert.equal(load.status, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: local\/big:1/);
    const imp = env.den(['import', bigTar, 'local/stopped:1']);
    assert.equal(imp.status, 0, imp.stderr);
    const check = env.den(['system', 'check', '--store']);
    assert.equal(check.status, 0, check.stdout);
  });
});
