import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, denCommand, DenEnv } from './harness.js';
import {
  buildLayout,
  RegistryHarness,
  TEST_USER,
  tinyTar,
  type LayoutImage,
  type TestRegistry,
} from './registry-server.js';

/**
 * `den pull`, `den push`, `den run --pull` as the unprivileged test user against real registries
 * (Debian's docker-registry) on 127.0.0.1: plain http, https with basic auth, and a throttling
 * proxy in front that counts blob requests (one download per layer across den processes, resumed
 * downloads after SIGKILL).
 */
describe('pull and push against a local registry, rootless', () => {
  let env: DenEnv;
  let harness: RegistryHarness;
  let plain: TestRegistry;
  let image: LayoutImage;
  before(async () => {
    env = new DenEnv();
    harness = new RegistryHarness();
    // The test user reads the CA certificate from the harness's directory.
    chmodSync(harness.dir, 0o755);
    plain = await harness.start();
    image = buildLayout(join(harness.dir, 'layout'), { extraLayers: [tinyTar('etc/pulled', 'yes\n')] });
    await harness.skopeoCopy(`oci:${image.dir}:${image.tag}`, `docker://${plain.name}/busybox:latest`, plain);
  });
  after(async () => {
    env.cleanup();
    await harness.cleanup();
  });

  test('pull: layers unpacked, the image runs, its id is the config digest; a second pull fetches nothing', async () => {
    const r = await env.denAsync(['pull', `${plain.name}/busybox`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Pull complete/);
    assert.match(r.stdout, new RegExp(`Digest: ${image.digest}`));
    assert.match(r.stdout, new RegExp(`${plain.name}/busybox:latest\\n$`));
    const id = env.den(['inspect', '--format', '{{.Id}}', `${plain.name}/busybox`]);
    assert.equal(id.stdout.trim(), image.manifests[0]!.config);
    const run = await env.denAsync(['run', '--rm', `${plain.name}/busybox`, 'cat', '/etc/pulled']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'yes\n');
    const again = await env.denAsync(['pull', `${plain.name}/busybox`]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Already exists/);
    assert.match(again.stdout, /Status: Image is up to date/);
    assert.doesNotMatch(again.stdout, /Pull complete/);
  });

  test('run pulls what is missing (--pull=missing), never with --pull=never', async () => {
    await harness.skopeoCopy(`oci:${image.dir}:${image.tag}`, `docker://${plain.name}/other:1`, plain);
    const never = await env.denAsync(['run', '--rm', '--pull=never', `${plain.name}/other:1`, 'true']);
    assert.equal(never.status, 125);
    assert.match(never.stderr, /unable to find image/);
    const r = await env.denAsync(['run', '--rm', `${plain.name}/other:1`, 'cat', '/etc/pulled']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Unable to find image '${plain.name}/other:1' locally`));
    assert.equal(r.stdout, 'yes\n', 'only the container writes to stdout');
    const bad = await env.denAsync(['run', '--rm', '--pull=sometimes', `${plain.name}/other:1`, 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid --pull "sometimes"/);
  });

  test('push: skopeo reads what den pushed, with the same digest; den pulls it back by digest', async () => {
    const pushed = await env.denAsync(['push', `${plain.name}/busybox`, `${plain.name}/copy:v2`]);
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.match(pushed.stdout, new RegExp(`digest: ${image.digest}`));
    const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${plain.name}/copy:v2`], {
      encoding: 'utf8',
    });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as { Digest: string }).Digest, image.digest);
    const byDigest = await env.denAsync(['pull', `${plain.name}/copy@${image.digest}`]);
    assert.equal(byDigest.status, 0, byDigest.stderr);
  });

  test("push records the repository digest, as docker's RepoDigests: inspect and images --digests show it", async () => {
    assert.equal(env.den(['import', busyboxTarball(), 'local/imported:1']).status, 0);
    const digestsOf = (ref: string) =>
      JSON.parse(env.den(['inspect', '-f', '{{json .RepoDigests}}', ref]).stdout) as string[];
    assert.deepEqual(digestsOf('local/imported:1'), [], 'an imported image comes from no repository');
    const pushed = await env.denAsync(['push', 'local/imported:1', `${plain.name}/imported:1`]);
    assert.equal(pushed.status, 0, pushed.stderr);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    assert.ok(digest, pushed.stdout);
    assert.deepEqual(digestsOf('local/imported:1'), [`${plain.name}/imported@${digest}`]);
    // Another tag of the same repository: the same manifest, one repository digest still.
    assert.equal((await env.denAsync(['push', 'local/imported:1', `${plain.name}/imported:2`])).status, 0);
    // Another repository: a second one.
    assert.equal((await env.denAsync(['push', 'local/imported:1', `${plain.name}/elsewhere:1`])).status, 0);
    assert.deepEqual(digestsOf('local/imported:1').sort(), [
      `${plain.name}/elsewhere@${digest}`,
      `${plain.name}/imported@${digest}`,
    ]);
    const listed = env.den(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}', `${plain.name}/*`]);
    assert.match(listed.stdout, new RegExp(`^${plain.name.replace(/\./g, '\\.')}/elsewhere ${digest}$`, 'm'));
    // The digest names the image: run and rmi take it, as after a pull.
    const byDigest = env.den(['inspect', '-f', '{{.Id}}', `${plain.name}/imported@${digest}`]);
    assert.equal(byDigest.stdout.trim(), env.den(['inspect', '-f', '{{.Id}}', 'local/imported:1']).stdout.trim());
    assert.equal(env.den(['rmi', 'local/imported:1']).status, 0);
  });

  test('push gzips the layers den keeps plain (an import), as docker does: the registry serves gzip of the same layer', async () => {
    assert.equal(env.den(['import', busyboxTarball(), 'local/plain:1']).status, 0);
    const localLayers = JSON.parse(
      env.den(['inspect', '-f', '{{json .RootFS.Layers}}', 'local/plain:1']).stdout,
    ) as string[];
    for (const [decoder, repo] of [
      ['igzip', 'gz-igzip'],
      ['zlib', 'gz-zlib'],
    ] as const) {
      const pushed = await env.denAsync(['push', 'local/plain:1', `${plain.name}/${repo}:1`], {
        env: { DEN_GZIP: decoder },
      });
      assert.equal(pushed.status, 0, pushed.stderr);
      const raw = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain.name}/${repo}:1`], {
        encoding: 'utf8',
      });
      assert.equal(raw.status, 0, raw.stderr);
      const manifest = JSON.parse(raw.stdout) as { layers: Array<{ mediaType: string; digest: string; size: number }> };
      assert.match(manifest.layers[0]!.mediaType, /(\+gzip|\.tar\.gzip)$/, `${decoder}: ${raw.stdout}`);
      const blob = await fetch(`http://${plain.name}/v2/${repo}/blobs/${manifest.layers[0]!.digest}`);
      const bytes = Buffer.from(await blob.arrayBuffer());
      assert.equal(bytes.length, manifest.layers[0]!.size);
      assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], `${decoder}: the registry has a gzip stream`);
      assert.ok(bytes.length < statSync(busyboxTarball()).size / 1.5, `${decoder}: compressed, ${bytes.length} bytes`);
      // It inflates to the layer itself: its diff id.
      const diffId = `sha256:${createHash('sha256').update(gunzipSync(bytes)).digest('hex')}`;
      assert.deepEqual([diffId], localLayers, `${decoder}: the gzipped layer is the layer`);
    }
  });

  test('a multi-platform index: den picks this host platform, or the one asked for', async () => {
    const multi = buildLayout(join(harness.dir, 'multi'), {
      tag: 'multi',
      platforms: ['linux/arm64/v8', 'linux/amd64', 'linux/s390x'],
      extraLayers: [tinyTar('etc/pulled', 'multi\n')],
    });
    await harness.skopeoCopy(`oci:${multi.dir}:multi`, `docker://${plain.name}/multi:1`, plain, ['--all']);
    const m = await env.denAsync(['pull', `${plain.name}/multi:1`]);
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, new RegExp(`Digest: ${multi.digest}`), 'the digest the tag names: the index');
    const host = process.arch === 'arm64' ? 'linux/arm64/v8' : 'linux/amd64';
    const id = env.den(['inspect', '--format', '{{.Id}}', `${plain.name}/multi:1`]).stdout.trim();
    assert.equal(id, multi.manifests.find((x) => x.platform === host)!.config, 'the manifest for this host');
    const other = await env.denAsync(['pull', '--platform', 'linux/s390x', `${plain.name}/multi:1`]);
    assert.equal(other.status, 0, other.stderr);
    const s390 = env.den(['inspect', '--format', '{{.Id}}', `${plain.name}/multi:1`]).stdout.trim();
    assert.equal(s390, multi.manifests.find((x) => x.platform === 'linux/s390x')!.config);
    const none = await env.denAsync(['pull', '--platform', 'linux/mips64', `${plain.name}/multi:1`]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /linux\/mips64/);
  });

  test('a single-platform image asked for with another --platform is refused with docker words, not pulled', async () => {
    const host = process.arch === 'arm64' ? 'linux/arm64/v8' : 'linux/amd64';
    const foreign = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const name = `${plain.name}/busybox:platform`;
    await harness.skopeoCopy(`oci:${image.dir}:${image.tag}`, `docker://${name}`, plain);
    const refused = await env.denAsync(['pull', '--platform', foreign, name]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `image with reference ${name.replace(/[.]/g, '\\.')} was found but does not match the specified platform: wanted ${foreign}, actual: linux/(amd64|arm64)`,
      ),
    );
    assert.notEqual(env.den(['inspect', name]).status, 0, 'nothing was recorded');
    const same = await env.denAsync(['pull', '--platform', host, name]);
    assert.equal(same.status, 0, same.stderr);
    assert.equal(env.den(['inspect', name]).status, 0);
  });

  test('a zstd layer: den pulls it, inflates it in a zstd child and runs the image', async () => {
    const dir = join(harness.dir, 'zstd-layout');
    zstdLayout(dir, busyboxTarball());
    await harness.skopeoCopy(`oci:${dir}:z`, `docker://${plain.name}/zstd:1`, plain);
    const raw = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${plain.name}/zstd:1`], {
      encoding: 'utf8',
    });
    assert.match(raw.stdout, /tar\+zstd/, 'the registry serves a zstd layer');
    const r = await env.denAsync(['pull', `${plain.name}/zstd:1`]);
    assert.equal(r.status, 0, r.stderr);
    const run = await env.denAsync(['run', '--rm', `${plain.name}/zstd:1`, 'busybox', 'true']);
    assert.equal(run.status, 0, run.stderr);
  });

  test('a layer of gzipped zeros from a registry (a decompression bomb) is refused as it unpacks, and the pull leaves nothing', async () => {
    // A tar of one 128 MB file of zeros, gzipped by buildLayout to about 125 kB.
    const zeros = Buffer.alloc(128_000_000 + 1024);
    zeros.set(tinyTar('zeros', '').subarray(0, 512));
    zeros.write(`${(128_000_000).toString(8).padStart(11, '0')}\0`, 124);
    let sum = 0;
    zeros.fill(0x20, 148, 156);
    for (let i = 0; i < 512; i++) sum += zeros[i]!;
    zeros.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const bomb = buildLayout(join(harness.dir, 'bomb'), { tag: 'bomb', extraLayers: [zeros] });
    await harness.skopeoCopy(`oci:${bomb.dir}:bomb`, `docker://${plain.name}/bomb:1`, plain);
    const r = await env.denAsync(['pull', '-q', `${plain.name}/bomb:1`]);
    assert.equal(r.status, 1, r.stderr);
    const layer = bomb.manifests[0]!.layers[1]!.digest;
    assert.match(
      r.stderr,
      new RegExp(
        `^Error: layer ${layer}: unpacks to more than 100 times its compressed size \\([0-9.]+MB from [0-9.]+kB so far\\): refused as a decompression bomb\\n`,
      ),
    );
    assert.deepEqual(leftovers(env), [], 'no temporary, and no partial download: the blob is not wanted again');
    assert.equal(env.den(['images', '-q', `${plain.name}/bomb`]).stdout, '');
    assert.equal((await env.denAsync(['system', 'check', '--store'])).status, 0);
  });

  test('round trip: pull, save (oci-archive), rmi, load, push, pull again: the digest and the id hold', async () => {
    const source = `${plain.name}/busybox:latest`;
    assert.equal((await env.denAsync(['pull', '-q', source])).status, 0);
    const archive = join(env.home, 'rt.tar');
    const saved = await env.denAsync(['save', '--format', 'oci-archive', '-o', archive, source]);
    assert.equal(saved.status, 0, saved.stderr);
    const removed = env.den(['rmi', source]);
    assert.equal(removed.status, 0, removed.stderr);
    const loaded = await env.denAsync(['load', '-i', archive]);
    assert.equal(loaded.status, 0, loaded.stderr);
    const target = `${plain.name}/round-trip:1`;
    const pushed = await env.denAsync(['push', source, target]);
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.match(pushed.stdout, new RegExp(`digest: ${image.digest} `), 'the manifest kept its bytes all the way');
    assert.equal(env.den(['rmi', source]).status, 0);
    const again = await env.denAsync(['pull', target]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Digest: ${image.digest}`));
    assert.equal(env.den(['inspect', '--format', '{{.Id}}', target]).stdout.trim(), image.manifests[0]!.config);
  });

  test('errors: unknown repository, unknown tag, unreachable registry, malformed reference', async () => {
    const cases: [string, RegExp][] = [
      [`${plain.name}/nothing-here`, /repository does not exist|manifest unknown|not found/i],
      [`${plain.name}/busybox:nope`, /manifest unknown|not found/i],
      ['127.0.0.1:1/busybox', /cannot connect/],
      ['UPPER/case', /invalid reference/],
    ];
    for (const [ref, message] of cases) {
      const r = await env.denAsync(['pull', ref]);
      assert.equal(r.status, 1, `${ref}: ${r.stderr}`);
      assert.match(r.stderr, message, ref);
    }
    assert.deepEqual(leftovers(env), []);
  });

  test('https with basic auth: the CA and credentials are needed, and the password never shows', async () => {
    const secure = await harness.start({ tls: true, auth: 'htpasswd', storage: plain.storage });
    const ref = `${secure.name}/busybox`;
    const caDir = harness.certificates().caDir;
    const creds = `${TEST_USER.username}:${TEST_USER.password}`;
    // Loopback registries are trusted without verification by default, as docker does: ask for it.
    const noCa = await env.denAsync(['pull', '--tls-verify', '--creds', creds, ref]);
    assert.equal(noCa.status, 1);
    assert.match(noCa.stderr, /TLS/);
    const wrong = await env.denAsync([
      'pull',
      '--tls-verify',
      '--cert-dir',
      caDir,
      '--creds',
      `${TEST_USER.username}:wrong-pass`,
      ref,
    ]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /unauthorized|authentication required|401/i);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /wrong-pass/);
    const login = await env.denAsync(
      ['login', '--tls-verify', '--cert-dir', caDir, '--username', TEST_USER.username, '--password-stdin', secure.name],
      { input: `${TEST_USER.password}\n` },
    );
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assert.doesNotMatch(login.stdout + login.stderr, new RegExp(TEST_USER.password.replace(/[/]/g, '\\/')));
    const pulled = await env.denAsync(['pull', '--tls-verify', '--cert-dir', caDir, ref]);
    assert.equal(pulled.status, 0, pulled.stderr);
    const logout = await env.denAsync(['logout', secure.name]);
    assert.match(logout.stdout, new RegExp(`Removing login credentials for ${secure.name}`));
    const after = await env.denAsync(['pull', '--tls-verify', '--cert-dir', caDir, ref]);
    assert.equal(after.status, 1, 'logged out, the pull is refused');
  });

  test('two den processes pulling one image fetch each layer once; SIGKILL at several points, then the pull succeeds', async () => {
    // An image of its own, with a big incompressible layer the store does not have yet.
    const big = buildLayout(join(harness.dir, 'big'), {
      tag: 'big',
      extraLayers: [tinyTar('big', randomBytes(1_500_000).toString('base64')), tinyTar('etc/pulled', 'yes\n')],
    });
    await harness.skopeoCopy(`oci:${big.dir}:big`, `docker://${plain.name}/big:latest`, plain);
    const proxy = await throttlingProxy(harness, plain);
    const ref = `127.0.0.1:${proxy.port}/big`;
    // Kill the first pull while the big layer is streaming; what it fetched stays for the next.
    const killed = env.spawnDen(['pull', '-q', ref]);
    killed.stdin.end();
    const deadline = Date.now() + 20_000;
    while (proxy.bytesSent() < 256 * 1024 && Date.now() < deadline) await sleep(20);
    assert.ok(proxy.bytesSent() >= 256 * 1024, 'the pull to kill got under way');
    const exited = new Promise((resolve) => killed.on('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    proxy.requests.length = 0;
    const [a, b] = await Promise.all([env.denAsync(['pull', ref]), env.denAsync(['pull', ref])]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    const blobGets = proxy.requests.filter((r) => r.url.includes('/blobs/') && r.method === 'GET');
    const perDigest = new Map<string, number>();
    for (const r of blobGets) perDigest.set(r.url, (perDigest.get(r.url) ?? 0) + 1);
    const layers = big.manifests[0]!.layers.map((l) => l.digest);
    for (const digest of layers) {
      const url = [...perDigest.keys()].find((u) => u.endsWith(digest));
      if (url) assert.equal(perDigest.get(url), 1, `layer ${digest} fetched more than once`);
    }
    assert.ok(
      blobGets.some((r) => r.range?.startsWith('bytes=') && !r.range.startsWith('bytes=0-')),
      `the interrupted download resumed with a Range request: ${JSON.stringify(blobGets)}`,
    );
    assert.deepEqual(leftovers(env), []);
    const check = await env.denAsync(['system', 'check', '--store']);
    assert.equal(check.status, 0, check.stdout);
    assert.doesNotMatch(check.stdout, /FAIL/);
    const run = await env.denAsync(['run', '--rm', ref, 'cat', '/etc/pulled']);
    assert.equal(run.stdout, 'yes\n', run.stderr);

    // SIGKILL at other points: before any layer byte, early in the big layer, near its end. Each
    // time the next pull succeeds and the store checks out clean.
    // The big layer's size: after rmi it is fetched again for sure, the busybox layer only when no
    // other image keeps it (waiting for 90% of all layers then ran into the 20 s deadline).
    const size = big.manifests[0]!.layers[1]!.size;
    for (const [point, bytes] of [
      ['before the layers', 0],
      ['early in a layer', 32 * 1024],
      ['near the end', Math.floor(size * 0.9)],
    ] as const) {
      assert.equal(env.den(['rmi', ref]).status, 0, `${point}: rmi`);
      const start = proxy.bytesSent();
      const victim = env.spawnDen(['pull', '-q', ref]);
      victim.stdin.end();
      const gone = new Promise((resolve) => victim.on('exit', resolve));
      const until = Date.now() + 20_000;
      if (bytes === 0) await sleep(60 + Math.floor(Math.random() * 60));
      else while (proxy.bytesSent() - start < bytes && Date.now() < until) await sleep(5);
      // igzip inflates the layer in a process of its own: it must not outlive the den that ran it.
      // Early in the layer, den is given the time to start it (the bytes may still be in transit).
      const expectIgzip = point === 'early in a layer' && existsSync('/usr/bin/igzip');
      let inflaters = childrenNamed(victim.pid!, 'igzip');
      while (expectIgzip && inflaters.length === 0 && Date.now() < until) {
        await sleep(5);
        inflaters = childrenNamed(victim.pid!, 'igzip');
      }
      if (expectIgzip) assert.notDeepEqual(inflaters, [], `${point}: igzip inflates the layer as it streams`);
      victim.kill('SIGKILL');
      await gone;
      for (let i = 0; i < 100 && inflaters.some(alive); i++) await sleep(50);
      assert.deepEqual(inflaters.filter(alive), [], `${point}: igzip outlived the den killed mid-pipeline`);
      const again = await env.denAsync(['pull', '-q', ref]);
      assert.equal(again.status, 0, `${point}: ${again.stderr}`);
      const clean = await env.denAsync(['system', 'check', '--store']);
      assert.equal(clean.status, 0, `${point}: ${clean.stdout}`);
      assert.deepEqual(leftovers(env), [], point);
    }
  });

  test('SIGTERM or Ctrl-C mid-pull: den removes its temporaries and exits 143 or 130; check --store is clean at once', async () => {
    // A layer that takes seconds through the slow proxy, so the signal lands mid-layer.
    const slow = buildLayout(join(harness.dir, 'stopped'), {
      tag: 'stopped',
      extraLayers: [tinyTar('noise', randomBytes(4_000_000).toString('base64'))],
    });
    await harness.skopeoCopy(`oci:${slow.dir}:stopped`, `docker://${plain.name}/stopped:latest`, plain);
    const proxy = await throttlingProxy(harness, plain);
    const ref = `127.0.0.1:${proxy.port}/stopped`;
    const noiseLayer = slow.manifests[0]!.layers[1]!.digest;
    for (const [sig, status, group] of [
      ['SIGTERM', 143, false],
      ['SIGINT', 130, true],
    ] as const) {
      const what = `${sig}${group ? ' to the process group' : ''}`;
      const start = proxy.bytesSent();
      // As a terminal's Ctrl-C, SIGINT goes to den's whole process group: its unpacker gets it too.
      const [cmd, ...rest] = env.wrap([...denCommand(), 'pull', '-q', ref]);
      const victim = spawn(cmd!, rest, { cwd: env.root, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
      let stderr = '';
      victim.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      victim.stdout.resume();
      const exited = new Promise<number | null>((resolve) => victim.on('exit', (code) => resolve(code)));
      const until = Date.now() + 20_000;
      while (proxy.bytesSent() - start < 512 * 1024 && Date.now() < until) await sleep(10);
      assert.ok(proxy.bytesSent() - start >= 512 * 1024, `${what}: the pull got under way`);
      // Its temporaries, lock and lease are a live den's: another den's check finds nothing wrong.
      const live = await env.denAsync(['system', 'check', '--store', '--format', 'json']);
      const results = JSON.parse(live.stdout) as { id: string; status: string; detail: string }[];
      assert.deepEqual(
        results.filter((x) => x.status !== 'ok'),
        [],
        `${what}: check --store while the pull runs`,
      );
      assert.notDeepEqual(leftovers(env), [], `${what}: the pull had temporaries when it was stopped`);
      if (group) process.kill(-victim.pid!, sig);
      else victim.kill(sig);
      assert.equal(await exited, status, `${what}: ${stderr}`);
      assert.equal(stderr, '', what);
      const check = await env.denAsync(['system', 'check', '--store']);
      assert.equal(check.status, 0, `${what}: ${check.stdout}`);
      assert.doesNotMatch(check.stdout, /FAIL/, what);
      // What was downloaded stays, to be resumed: the one thing left, and no failure.
      const left = leftovers(env);
      assert.deepEqual(
        left.filter((n) => !n.endsWith('.partial')),
        [],
        `${what}: left ${left.join(' ')}`,
      );
      assert.deepEqual(left, [`${noiseLayer.slice('sha256:'.length)}.partial`], what);
      assert.deepEqual(strayStoreFiles(env), [], what);
      assert.equal(env.den(['images', '-q', ref]).stdout, '', `${what}: no image recorded`);
    }
    proxy.requests.length = 0;
    const again = await env.denAsync(['pull', '-q', ref]);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(
      proxy.requests.some(
        (r) => r.url.endsWith(noiseLayer) && r.range !== undefined && !r.range.startsWith('bytes=0-'),
      ),
      'the stopped download resumed where it was',
    );
    assert.deepEqual(leftovers(env), []);
    assert.equal((await env.denAsync(['system', 'check', '--store'])).status, 0);
  });

  test("SIGKILL between renaming a layer into place and recording it: check --store lists it as a dead den's, prune removes it", async () => {
    const tar = tinyTar('etc/window', 'window\n');
    const chainHex = createHash('sha256').update(tar).digest('hex'); // one layer: its diff id
    const layout = buildLayout(join(harness.dir, 'window'), { tag: 'w', noBusybox: true, extraLayers: [tar] });
    await harness.skopeoCopy(`oci:${layout.dir}:w`, `docker://${plain.name}/window:1`, plain);
    const ref = `${plain.name}/window:1`;
    // Holding the state database's write lock stops the pull right after the rename: it waits to
    // record the layer (busy_timeout), the lock file still its own.
    assert.equal(env.den(['images', '-q']).status, 0, 'the state database exists');
    const [file, ...args] = env.wrap(['sqlite3', join(env.dataDir, 'den.db')]);
    const holder = spawn(file!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const holderExited = new Promise((resolve) => holder.on('exit', resolve));
    holder.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
    await Promise.race([new Promise((resolve) => holder.stdout.once('data', resolve)), holderExited]);
    assert.equal(holder.exitCode, null, 'sqlite3 holds the write lock');
    const victim = env.spawnDen(['pull', '-q', ref]);
    victim.stdin.end();
    const gone = new Promise((resolve) => victim.on('exit', resolve));
    const layerDir = join(env.dataDir, 'layers', chainHex);
    const deadline = Date.now() + 20_000;
    while (!existsSync(layerDir) && Date.now() < deadline) await sleep(10);
    victim.kill('SIGKILL');
    await gone;
    holder.stdin.end('COMMIT;\n');
    await holderExited;
    assert.ok(existsSync(layerDir), 'the pull renamed the layer into place');

    const check = await env.denAsync(['system', 'check', '--store', '--format', 'json']);
    const results = JSON.parse(check.stdout) as { id: string; status: string; detail: string }[];
    assert.deepEqual(
      results.filter((r) => r.status !== 'ok').map((r) => r.id),
      ['temporaries'],
      `only the dead den's leftovers: ${check.stdout}`,
    );
    const items = results.find((r) => r.id === 'temporaries')!.detail.split('; ');
    assert.ok(items.includes(`layers/${chainHex} of a den that is gone`), items.join('\n'));
    for (const item of items) assert.match(item, DEAD_DENS_LEFTOVER);
    // What check --store's fix says: prune removes it all.
    const prune = await env.denAsync(['image', 'prune', '-f']);
    assert.equal(prune.status, 0, prune.stderr);
    assert.ok(!existsSync(layerDir), "the unrecorded layer went with its dead owner's lock");
    const clean = await env.denAsync(['system', 'check', '--store']);
    assert.equal(clean.status, 0, clean.stdout);
    const again = await env.denAsync(['pull', '-q', ref]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((await env.denAsync(['system', 'check', '--store'])).status, 0);
    assert.deepEqual([...leftovers(env), ...strayStoreFiles(env)], []);
  });

  test("a den killed before it wrote its tag into a lease or a lock's temporary: the empty file is known by its name, and swept", async () => {
    // The window is one write call wide: a kill finds it now and then (the chosen points above did),
    // so the files are made here as such a den leaves them.
    assert.equal(env.den(['images', '-q']).status, 0, 'the store exists');
    const dead = '999999999.1';
    const lock = `layers/.locks/${'e'.repeat(64)}.${dead}-5eed`;
    const lease = `layers/.leases/${dead}-5eed`;
    const made = env.exec(['sh', '-c', `mkdir -p layers/.locks layers/.leases && : > ${lock} && : > ${lease}`], {
      cwd: env.dataDir,
    });
    assert.equal(made.status, 0, made.stderr);
    const check = await env.denAsync(['system', 'check', '--store']);
    assert.equal(check.status, 1, check.stdout);
    assert.match(check.stdout, new RegExp(`${lock.replace(/\./g, '\\.')} of a den that is gone`));
    assert.match(check.stdout, new RegExp(`${lease.replace(/\./g, '\\.')} of a den that is gone`));
    const pull = await env.denAsync(['pull', '-q', `${plain.name}/busybox`]);
    assert.equal(pull.status, 0, pull.stderr);
    assert.ok(!existsSync(join(env.dataDir, lock)) && !existsSync(join(env.dataDir, lease)), 'swept');
    assert.equal((await env.denAsync(['system', 'check', '--store'])).status, 0);
  });

  test('SIGKILL while the unpacker starts: it makes nothing once its den is gone, or removes what it made', async () => {
    // One layer, slow through the proxy: the unpacker is caught starting, before it reads a byte.
    const layout = buildLayout(join(harness.dir, 'orphan'), {
      tag: 'o',
      noBusybox: true,
      extraLayers: [tinyTar('noise', randomBytes(1_000_000).toString('base64'))],
    });
    await harness.skopeoCopy(`oci:${layout.dir}:o`, `docker://${plain.name}/orphan:1`, plain);
    const proxy = await throttlingProxy(harness, plain);
    const layers = join(env.dataDir, 'layers');
    const unpackers = () =>
      spawnSync('pgrep', ['-f', `__unpack ${layers}/`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
    const ref = `127.0.0.1:${proxy.port}/orphan:1`;
    const victim = env.spawnDen(['pull', '-q', ref]);
    victim.stdin.end();
    const gone = new Promise((resolve) => victim.on('exit', resolve));
    let deadline = Date.now() + 20_000;
    while (unpackers().length === 0 && Date.now() < deadline) await sleep(2);
    victim.kill('SIGKILL');
    await gone;
    deadline = Date.now() + 20_000;
    while (unpackers().length > 0 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(unpackers(), [], 'the orphaned unpacker exits');
    assert.deepEqual(
      readdirSync(layers).filter((n) => n.startsWith('.tmp-')),
      [],
      'no temporary directory: one made after the next den swept would stay',
    );
    const again = await env.denAsync(['pull', '-q', ref]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(leftovers(env), [], 'the next pull finished the download the killed one began');
  });

  test("SIGKILL at random points of a pull (seeded): check --store finds only a dead den's leftovers, the next pull succeeds and leaves the store clean", async (t) => {
    // DEN_TEST_SEED=<n> replays a run: the same choices, each kill at the same fraction of a pull.
    const seed = process.env.DEN_TEST_SEED !== undefined ? Number(process.env.DEN_TEST_SEED) : randomInt(2 ** 31);
    const random = prng(seed);
    const replay = `seed ${seed} (DEN_TEST_SEED=${seed} replays it)`;
    t.diagnostic(replay);
    const chaos = buildLayout(join(harness.dir, 'chaos'), {
      tag: 'chaos',
      extraLayers: [
        tinyTar('noise', randomBytes(1_500_000).toString('base64')),
        tinyTar('etc/pulled', 'chaos\n'),
        tinyTar('etc/more', randomBytes(100_000).toString('hex')),
      ],
    });
    await harness.skopeoCopy(`oci:${chaos.dir}:chaos`, `docker://${plain.name}/chaos:latest`, plain);
    const proxy = await throttlingProxy(harness, plain);
    const ref = `127.0.0.1:${proxy.port}/chaos`;
    const log: string[] = [];
    const say = (line: string) => `${replay}\n${[...log, line].join('\n')}`;

    // How long one whole pull takes here, den's start-up included: the kills fall within it.
    const started = Date.now();
    const first = await env.denAsync(['pull', '-q', ref]);
    const duration = Date.now() - started;
    assert.equal(first.status, 0, say(`the measuring pull: ${first.stderr}`));
    log.push(`one pull takes ${duration} ms`);
    t.diagnostic(`one pull takes ${duration} ms`);

    // Starts a pull and kills it after `delay` ms unless it is done by then (it must have succeeded).
    const pullKilledAfter = async (delay: number): Promise<string> => {
      const victim = env.spawnDen(['pull', '-q', ref]);
      victim.stdin.end();
      let stderr = '';
      victim.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => victim.on('exit', (code) => resolve(code)));
      const done = await Promise.race([exited.then(() => true), sleep(delay).then(() => false)]);
      if (!done) victim.kill('SIGKILL');
      const code = await exited;
      if (!done) return `killed after ${delay} ms`;
      assert.equal(code, 0, say(`a pull not killed (delay ${delay} ms) failed: ${stderr}`));
      return `done before its kill at ${delay} ms`;
    };
    // Right after a kill the store may hold what the dead den left half-done, which the next den
    // sweeps (check --store lists them under temporaries), and nothing else: every blob matches its
    // digest, every image is complete, layer records and directories agree.
    const checkAfterKill = async (what: string) => {
      const r = await env.denAsync(['system', 'check', '--store', '--format', 'json']);
      const results = JSON.parse(r.stdout) as { id: string; status: string; detail: string }[];
      assert.deepEqual(
        results.map((x) => x.id),
        ['blobs', 'images', 'layers', 'temporaries', 'modes', 'network', 'volumes'],
        say(what),
      );
      for (const x of results.filter((x) => x.status !== 'ok')) {
        assert.equal(x.id, 'temporaries', say(`${what}: check --store found ${x.id}: ${x.detail}`));
        assert.equal(x.status, 'fail', say(what));
        for (const item of x.detail.split('; ')) assert.match(item, DEAD_DENS_LEFTOVER, say(`${what}: ${item}`));
      }
      const failed = results.some((x) => x.status === 'fail');
      assert.equal(r.status, failed ? 1 : 0, say(`${what}: ${r.stderr}`));
      const kinds = results
        .filter((x) => x.status === 'fail')
        .flatMap((x) => x.detail.split('; '))
        .map((item) =>
          item
            .replace(/^(layers\/\.tmp|layers\/\.locks|layers\/\.leases|content\/ingest)[-/].*$/, '$1')
            .replace(/^layers\/[0-9a-f]{64} .*$/, 'layers/<chain id>'),
        );
      return kinds.length > 0 ? `left ${[...new Set(kinds)].join(' ')}` : 'clean';
    };

    const rounds = 10;
    for (let round = 1; round <= rounds; round++) {
      const steps: string[] = [];
      // Mostly from nothing, so the kill can land in the manifest, the config, the layers, the
      // commits or the image record; sometimes with the image there (a pull that finds it all).
      if (random() < 0.75) {
        const rmi = env.den(['rmi', ref]);
        assert.equal(rmi.status, 0, say(`round ${round}: rmi: ${rmi.stderr}`));
        steps.push('rmi');
      }
      steps.push(await pullKilledAfter(Math.floor(random() * duration)));
      steps.push(await checkAfterKill(`round ${round}: ${steps.join(', ')}`));
      if (random() < 0.35) {
        // A second den killed on top of what the first left (it sweeps, resumes, takes over locks).
        steps.push(await pullKilledAfter(Math.floor(random() * duration)));
        steps.push(await checkAfterKill(`round ${round}: ${steps.join(', ')}`));
      }
      if (random() < 0.25) {
        // What check --store's fix says: prune sweeps what the dead left, and the store checks clean.
        const prune = await env.denAsync(['image', 'prune', '-f']);
        assert.equal(prune.status, 0, say(`round ${round}: ${steps.join(', ')}; prune: ${prune.stderr}`));
        steps.push(`prune, ${await checkAfterKill(`round ${round}: ${steps.join(', ')}, prune`)}`);
        assert.equal(steps.at(-1), 'prune, clean', say(`round ${round}: ${steps.join(', ')}`));
      }
      const what = `round ${round}: ${steps.join(', ')}`;
      log.push(what);
      const again = await env.denAsync(['pull', '-q', ref]);
      assert.equal(again.status, 0, say(`${what}; the next pull: ${again.stderr}`));
      const clean = await env.denAsync(['system', 'check', '--store']);
      assert.equal(clean.status, 0, say(`${what}; check --store after the next pull:\n${clean.stdout}`));
      assert.doesNotMatch(clean.stdout, /FAIL|warn/, say(`${what}; check --store after the next pull`));
      const left = [...leftovers(env), ...strayStoreFiles(env)];
      assert.deepEqual(left, [], say(`${what}; left after the next pull: ${left.join(' ')}`));
      const run = await env.denAsync(['run', '--rm', ref, 'cat', '/etc/pulled']);
      assert.equal(run.stdout, 'chaos\n', say(`${what}; den run: ${run.stderr}`));
    }
    t.diagnostic(log.join('; '));
  });
});

describe('store maintenance: prune, df, check --store', () => {
  let env: DenEnv;
  before(() => {
    env = new DenEnv();
    assert.equal(env.den(['import', busyboxTarball(), 'kept']).status, 0);
  });
  after(() => env.cleanup());

  test('prune removes what nothing uses, keeps what images use; check --store finds a corrupt blob', () => {
    const blobs = join(env.dataDir, 'content', 'blobs', 'sha256');
    const junk = Buffer.from('nothing refers to this');
    const hex = createHash('sha256').update(junk).digest('hex');
    writeFileSync(join(blobs, hex), junk);
    const grace = { DEN_GC_GRACE_SECONDS: '0' };
    const noTty = env.den(['image', 'prune']);
    assert.equal(noTty.status, 1);
    assert.match(noTty.stderr, /add -f/);
    const young = env.den(['image', 'prune', '-f']);
    assert.equal(young.status, 0, young.stderr);
    assert.ok(existsSync(join(blobs, hex)), 'a blob written moments ago is left alone (an import may be under way)');
    const pruned = env.den(['image', 'prune', '-f'], { env: grace });
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /Total reclaimed space: 22B \(0 layers, 1 blobs\)/);
    assert.ok(!existsSync(join(blobs, hex)));
    assert.equal(env.den(['run', '--rm', 'kept', 'true']).status, 0, 'the image still runs');
    const df = env.den(['system', 'df']);
    assert.match(df.stdout, /^Images\s+1\s+0\s+\S+/m);
    const ok = env.den(['system', 'check', '--store']);
    assert.equal(ok.status, 0, ok.stdout);
    const [victim] = readdirSync(blobs).filter((n) => statSync(join(blobs, n)).size > 100000);
    const original = readFileSync(join(blobs, victim!));
    writeFileSync(join(blobs, victim!), Buffer.concat([original, Buffer.from('x')]));
    try {
      const bad = env.den(['system', 'check', '--store']);
      assert.equal(bad.status, 1);
      assert.match(bad.stdout, new RegExp(`FAIL  blobs .*blob ${victim!.slice(0, 12)} hashes to`));
    } finally {
      writeFileSync(join(blobs, victim!), original);
    }
    const before = Number(env.exec(['du', '-sb', '--apparent-size', env.dataDir]).stdout.split('\t')[0]);
    const all = env.den(['image', 'prune', '-a', '-f'], { env: grace });
    assert.match(all.stdout, /deleted: sha256:/);
    // What the removed image freed counts: its layer unpacked and its blobs (it once said 0B).
    const reclaimed = /Total reclaimed space: ([0-9.]+)MB/.exec(all.stdout);
    assert.ok(reclaimed, all.stdout);
    const after = Number(env.exec(['du', '-sb', '--apparent-size', env.dataDir]).stdout.split('\t')[0]);
    assert.ok(Number(reclaimed[1]) > 1, `reclaimed ${reclaimed[1]} MB`);
    assert.ok(
      Math.abs(Number(reclaimed[1]) * 1e6 - (before - after)) < 0.35 * (before - after),
      `${reclaimed[1]} MB vs du ${before - after}`,
    );
    assert.equal(env.den(['images', '-q']).stdout, '');
    assert.deepEqual(readdirSync(blobs), [], 'every blob went with the last image');
  });
});

/** An OCI layout of one image whose single layer is the tarball, zstd-compressed by zstd(1). */
function zstdLayout(dir: string, tarball: string): void {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const tar = readFileSync(tarball);
  const z = spawnSync('zstd', ['-q', '-c', tarball], { maxBuffer: 1 << 30 });
  assert.equal(z.status, 0, String(z.stderr));
  const layer = put(z.stdout);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = put(
    Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } })),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', ...layer }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'z' },
        },
      ],
    }),
  );
}

/**
 * What check --store may list right after a den was killed: its temporary layer directory, ingest
 * file, lock (or the temporary and break files of taking one), lease, and a layer it renamed into
 * place but did not record. The next den sweeps them.
 */
const DEAD_DENS_LEFTOVER = new RegExp(
  '^(' +
    [
      'layers/\\.tmp-[0-9]+\\.[0-9]+-[0-9a-f]+',
      'layers/[0-9a-f]{64}',
      'content/ingest/[0-9]+\\.[0-9]+-[0-9a-f]+',
      'layers/\\.locks/[0-9a-f]{64}(\\.break)?(\\.[0-9]+\\.[0-9]+-[0-9a-f]+)?',
      'layers/\\.leases/[0-9]+\\.[0-9]+-[0-9a-f]+',
    ].join('|') +
    ') of a den that is gone$',
);

/** A small seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Files in the content store and layers directory that are none of den's: strays of a killed den. */
function strayStoreFiles(env: DenEnv): string[] {
  const content = join(env.dataDir, 'content');
  const known = new Set(['blobs', 'ingest', 'oci-layout', 'index.json']);
  const layers = join(env.dataDir, 'layers');
  return [
    ...(existsSync(content) ? readdirSync(content) : []).filter((n) => !known.has(n)).map((n) => `content/${n}`),
    ...(existsSync(layers) ? readdirSync(layers) : [])
      .filter((n) => n.startsWith('.') && !['.locks', '.leases'].includes(n))
      .map((n) => `layers/${n}`),
    ...(existsSync(join(layers, '.leases')) ? readdirSync(join(layers, '.leases')) : []).map(
      (n) => `layers/.leases/${n}`,
    ),
  ];
}

/** What a failed or killed pull must not leave: temporary layers, ingest files, locks of the dead. */
function leftovers(env: DenEnv): string[] {
  const data = env.dataDir;
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  return [
    ...list(join(data, 'layers')).filter((n) => n.startsWith('.tmp-')),
    ...list(join(data, 'layers', '.locks')),
    ...list(join(data, 'content', 'ingest')),
  ];
}

interface ProxiedRequest {
  method: string;
  url: string;
  range?: string;
}

/**
 * A proxy in front of a registry that records every request and sends blob bodies slowly (16 KiB
 * every 10 ms), so a pull can be caught mid-layer.
 */
async function throttlingProxy(harness: RegistryHarness, registry: TestRegistry) {
  const requests: ProxiedRequest[] = [];
  let sent = 0;
  const { port } = await harness.httpServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers.range ? { range: req.headers.range } : {}),
    });
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: registry.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: registry.name },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!(req.url ?? '').includes('/blobs/')) {
          up.pipe(res);
          return;
        }
        const throttle = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            let off = 0;
            const step = () => {
              if (off >= chunk.length) return cb();
              const piece = chunk.subarray(off, off + 16384);
              off += piece.length;
              sent += piece.length;
              this.push(piece);
              setTimeout(step, 10);
            };
            step();
          },
        });
        res.on('close', () => throttle.destroy());
        up.pipe(throttle).pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return { port, requests, bytesSent: () => sent };
}

/** The running children of `pid` whose command is `name`. */
function childrenNamed(pid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.comm === name && stat.ppid === pid && stat.state !== 'Z') found.push(Number(entry));
  }
  return found;
}

/** Whether a process found by childrenNamed still runs (not reaped, not a zombie). */
function alive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { comm, state: state!, ppid: Number(ppid) };
}
