import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DenEnv } from './harness.js';
import { buildLayout, RegistryHarness, tinyTar, type LayoutImage, type TestRegistry } from './registry-server.js';

/**
 * `den inspect` in docker's shape (golden files, ids and times normalised), images pulled by digest
 * (named, listed, run, inspected and removed by REPO@DIGEST), and `den images` with its filters,
 * through the built CLI as the unprivileged test user against a real registry on 127.0.0.1.
 */
const GOLDEN_DIR = new URL('./testdata/', import.meta.url);

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it. */
function assertGolden(name: string, value: unknown): void {
  const file = new URL(name, GOLDEN_DIR);
  const text = JSON.stringify(value, null, 4) + '\n';
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'), `${name} (UPDATE_GOLDEN=1 rewrites it)`);
}

describe('inspect, digest references and images listing, rootless', () => {
  let env: DenEnv;
  let harness: RegistryHarness;
  let plain: TestRegistry;
  let image: LayoutImage;
  let repo: string;
  let byDigest: string;
  /** Replaces what differs between runs with placeholders. */
  let normalise: (text: string, extra?: [string, string][]) => unknown;
  before(async () => {
    env = new DenEnv();
    harness = new RegistryHarness();
    plain = await harness.start();
    image = buildLayout(join(harness.dir, 'inspected'), {
      created: '2024-05-06T07:08:09Z',
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo default'],
        Env: ['PATH=/bin'],
        Labels: { 'org.example.team': 'core', 'org.example.tier': 'web' },
        Volumes: { '/data': {} },
        WorkingDir: '/tmp',
      },
      extraLayers: [tinyTar('etc/inspected', 'yes\n')],
    });
    repo = `${plain.name}/inspected`;
    byDigest = `${repo}@${image.digest}`;
    await harness.skopeoCopy(`oci:${image.dir}:${image.tag}`, `docker://${repo}:1`, plain);
    const cfg = image.manifests[0]!.config;
    normalise = (text, extra = []) => {
      let t = text;
      for (const [from, to] of [
        [env.home, '<home>'],
        [plain.name, '<registry>'],
        [image.digest, '<manifest-digest>'],
        [cfg, '<image-id>'],
        ...extra,
      ] as [string, string][])
        t = t.split(from).join(to);
      // Layers: the busybox fixture is built on this host.
      return JSON.parse(t.replace(/\b[a-f0-9]{64}\b/g, '<hex>'));
    };
  });
  after(async () => {
    env.cleanup();
    await harness.cleanup();
  });

  test('pull REPO@DIGEST: listed as REPO <none>, run, inspected and removed by the same reference', async () => {
    const pulled = await env.denAsync(['pull', byDigest]);
    assert.equal(pulled.status, 0, pulled.stderr);
    const listed = env.den(['images', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}']);
    assert.equal(listed.stdout, `${repo} <none> ${image.digest}\n`);
    const table = env.den(['images', '--digests']);
    assert.match(table.stdout, /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE\n/);
    assert.match(
      table.stdout,
      new RegExp(`\\n${repo} +<none> +${image.digest} +${image.manifests[0]!.config.slice(7, 19)} `),
    );
    const run = await env.denAsync(['run', '--rm', '--pull', 'never', byDigest, 'cat /etc/inspected']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'yes\n');
    const digests = env.den(['inspect', '--format', '{{json .RepoDigests}} {{json .RepoTags}}', byDigest]);
    assert.equal(digests.status, 0, digests.stderr);
    assert.equal(digests.stdout, `["${byDigest}"] []\n`);
    // The tag too: it names the same manifest, and the repository remembers the digest once.
    assert.equal((await env.denAsync(['pull', '-q', `${repo}:1`])).status, 0);
    const both = env.den(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}']);
    assert.equal(both.stdout, `${repo} 1 ${image.digest}\n`);
    assert.equal(env.den(['images', '--format', '{{.Tag}} {{.Digest}}']).stdout, '1 <none>\n');
    const removed = env.den(['rmi', byDigest]);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`Untagged: ${byDigest.replace(/\./g, '\\.')}\\n`));
    assert.doesNotMatch(removed.stdout, /Deleted/, 'the tag still names it');
    assert.equal(env.den(['images', '--digests', '--format', '{{.Tag}} {{.Digest}}']).stdout, '1 <none>\n');
    assert.equal((await env.denAsync(['pull', '-q', byDigest])).status, 0);
    const gone = env.den(['rmi', `${repo}:1`]);
    assert.equal(gone.status, 0, gone.stderr);
    assert.match(gone.stdout, /Untagged: .*inspected:1\n/);
    assert.match(gone.stdout, /Untagged: .*inspected@sha256:/, "the tag's repository digest goes with it");
    assert.match(gone.stdout, /Deleted: sha256:/);
    assert.equal(env.den(['images', '-q']).stdout, '');
  });

  test('inspect of an image: docker 1.41 ImageInspect (golden)', async () => {
    assert.equal((await env.denAsync(['pull', '-q', `${repo}:1`])).status, 0);
    const r = env.den(['inspect', '--type', 'image', byDigest]);
    assert.equal(r.status, 0, r.stderr);
    const [inspected] = normalise(r.stdout) as Record<string, unknown>[];
    assertGolden('inspect-image.golden.json', inspected);
  });

  test('inspect of a container: Entrypoint and Cmd apart, Labels, Volumes, NetworkSettings, HostConfig (golden)', async () => {
    const created = env.den([
      'create',
      '--name',
      'shape',
      '-e',
      'A=1',
      '--ulimit',
      'nofile=512:1024',
      `${repo}:1`,
      'echo mine',
    ]);
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    const r = env.den(['inspect', 'shape']);
    assert.equal(r.status, 0, r.stderr);
    const [c] = normalise(r.stdout, [
      [id, '<container-id>'],
      [id.slice(0, 12), '<short-id>'],
    ]) as Record<string, Record<string, unknown>>[];
    assert.deepEqual(c!.Config!.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(c!.Config!.Cmd, ['echo mine']);
    assert.equal(c!.Path, '/bin/sh');
    assert.deepEqual(c!.Args, ['-c', 'echo mine']);
    // What varies with the host and the moment, kept to its type.
    assert.match(c!.Created as unknown as string, /^\d{4}-\d\d-\d\dT/);
    c!.Created = '<time>' as never;
    const host = c!.HostConfig!;
    if (host.IDMappings !== null) host.IDMappings = '<maps>';
    assertGolden('inspect-container.golden.json', c);
  });

  test('State.Pid is the container init (not den), and a container whose den died reads Exited (255)', async () => {
    const den = env.spawnDen(['run', '--name', 'live', `${repo}:1`, 'exec sleep 60']);
    let pid = 0;
    for (let i = 0; i < 200 && pid === 0; i++) {
      await sleep(100);
      const r = env.den(['inspect', '--format', '{{.State.Pid}}', 'live']);
      if (r.status === 0) pid = Number(r.stdout.trim());
    }
    assert.ok(pid > 0, 'inspect reports a pid while the container runs');
    assert.notEqual(pid, den.pid, "not den's own process");
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], 'sleep', 'the container init');
    // 'exit', not 'close': the container holds den's stdout until it is killed.
    const exited = new Promise((resolve) => den.on('exit', resolve));
    process.kill(den.pid!, 'SIGKILL');
    await exited;
    const state = JSON.parse(env.den(['inspect', '--format', '{{json .State}}', 'live']).stdout) as {
      Status: string;
      Pid: number;
      ExitCode: number;
      Running: boolean;
    };
    assert.deepEqual([state.Status, state.Running, state.Pid, state.ExitCode], ['exited', false, 0, 255]);
    assert.match(
      env.den(['ps', '-a', '--filter', 'name=live']).stdout + env.den(['ps', '-a']).stdout,
      /Exited \(255\)/,
    );
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await sleep(100);
    assert.ok(!existsSync(`/proc/${pid}`), 'the orphaned container was killed');
    assert.equal(env.den(['rm', 'live']).status, 0);
  });

  test('images REPO with a registry port, --filter and -a', async () => {
    const other = buildLayout(join(harness.dir, 'other'), {
      created: '2024-06-01T00:00:00Z',
      config: { Cmd: ['sh'], Labels: { 'org.example.team': 'web' } },
      extraLayers: [tinyTar('etc/other', 'o\n')],
    });
    await harness.skopeoCopy(`oci:${other.dir}:${other.tag}`, `docker://${plain.name}/other:2`, plain);
    assert.equal((await env.denAsync(['pull', '-q', `${plain.name}/other:2`])).status, 0);
    assert.equal((await env.denAsync(['pull', '-q', `${repo}:1`])).status, 0);
    const names = (args: string[]) => {
      const r = env.den(['images', ...args, '--format', '{{.Repository}}:{{.Tag}}']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').filter(Boolean).sort();
    };
    assert.deepEqual(names([repo]), [`${repo}:1`], 'a registry with a port');
    assert.deepEqual(names([`${repo}:1`]), [`${repo}:1`]);
    assert.deepEqual(names([`${repo}:2`]), []);
    assert.deepEqual(names([`${plain.name}/*`]), [`${repo}:1`, `${plain.name}/other:2`]);
    assert.deepEqual(names(['-a']), [`${repo}:1`, `${plain.name}/other:2`]);
    assert.deepEqual(names(['--filter', 'label=org.example.team=web']), [`${plain.name}/other:2`]);
    assert.deepEqual(names(['--filter', 'label=org.example.tier']), [`${repo}:1`]);
    assert.deepEqual(names(['--filter', `since=${repo}:1`]), [`${plain.name}/other:2`]);
    assert.deepEqual(names(['--filter', `before=${plain.name}/other:2`]), [`${repo}:1`]);
    assert.deepEqual(names(['--filter', 'dangling=true']), []);
    assert.deepEqual(names(['-f', 'dangling=false', '-f', `reference=*/other`]), [`${plain.name}/other:2`]);
    const bad = env.den(['images', '--filter', 'dangling=maybe']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid filter "dangling=maybe"/);
    const unknown = env.den(['images', '--filter', 'colour=red']);
    assert.equal(unknown.status, 125);
    assert.match(unknown.stderr, /invalid filter "colour"/);
  });
});
