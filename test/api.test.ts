import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER, type Result } from './harness.js';
import { RegistryHarness, type TestRegistry } from './registry-server.js';

/**
 * `den system service`: the Docker Engine API on a unix socket, driven by the real docker CLI (a
 * client of API 1.41 or newer, which negotiates down to den's 1.41) as the unprivileged test user,
 * and by plain HTTP for what the CLI hides (statuses, JSON errors, version prefixes), rootless and
 * as root. Nothing is mocked: containers run through the engine, the pull comes from a registry on 127.0.0.1.
 *
 * The docker CLI is DEN_TEST_DOCKER, else `docker` on PATH (scripts/setup-host.sh installs the
 * client alone); without one the CLI tests are skipped, with the reason, and the HTTP tests run.
 */
const DOCKER = process.env.DEN_TEST_DOCKER || findDocker();

function findDocker(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on the service's socket (the suite runs as root, which may connect to the user's 0600 socket). */
function http(socketPath: string, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

for (const user of [TEST_USER, 'root'])
  describe(`den system service as ${user}`, () => {
    let env: DenEnv;
    let harness: RegistryHarness;
    let registry: TestRegistry;
    let socket: string;
    let service: ChildProcess;
    let serviceLog = '';
    const docker = (args: string[], input?: string): Result =>
      env.exec([DOCKER!, ...args], { env: { DOCKER_HOST: `unix://${socket}` }, ...(input ? { input } : {}) });
    const ok = (args: string[], input?: string): string => {
      const r = docker(args, input);
      assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}\nservice: ${serviceLog}`);
      return r.stdout;
    };
    const noCli = DOCKER ? false : 'no docker CLI (set DEN_TEST_DOCKER or run scripts/setup-host.sh)';

    before(async () => {
      env = new DenEnv(user);
      assert.equal(env.den(['import', busyboxTarball(), 'busybox']).status, 0);
      harness = new RegistryHarness();
      chmodSync(harness.dir, 0o755);
      registry = await harness.start();
      socket = join(env.runtimeBase, 'api.sock');
      service = env.spawnDen(['system', 'service', '--time', '0', `unix://${socket}`]);
      service.stdout!.on('data', (d: Buffer) => (serviceLog += d.toString()));
      service.stderr!.on('data', (d: Buffer) => (serviceLog += d.toString()));
      await waitFor('the socket', () => existsSync(socket));
    });
    after(async () => {
      service?.kill('SIGTERM');
      if (service && service.exitCode === null) await new Promise((r) => service.once('exit', r));
      env.den(['rm', '-f', ...env.den(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
      env.cleanup();
      await harness?.cleanup();
    });

    test("the socket is the user's alone; _ping answers with the API headers, GET and HEAD", async () => {
      const st = statSync(socket);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.uid, env.user.uid);
      for (const method of ['GET', 'HEAD']) {
        const r = await http(socket, method, '/_ping');
        assert.equal(r.status, 200);
        assert.equal(r.headers['api-version'], '1.41');
        assert.equal(r.headers['ostype'], 'linux');
        assert.equal(r.body, method === 'GET' ? 'OK' : '');
      }
    });

    test("versions: /v1.xx prefixes down to 1.24; older and newer are refused with docker's 400", async () => {
      assert.equal((await http(socket, 'GET', '/v1.24/version')).status, 200);
      const version = JSON.parse((await http(socket, 'GET', '/v1.41/version')).body) as Record<string, unknown>;
      assert.equal(version.ApiVersion, '1.41');
      assert.equal(version.MinAPIVersion, '1.24');
      const old = await http(socket, 'GET', '/v1.12/containers/json');
      assert.equal(old.status, 400);
      assert.match(
        JSON.parse(old.body).message,
        /client version 1\.12 is too old\. Minimum supported API version is 1\.24/,
      );
      const newer = await http(socket, 'GET', '/v1.99/containers/json');
      assert.equal(newer.status, 400);
      assert.match(JSON.parse(newer.body).message, /Maximum supported API version is 1\.41/);
    });

    test("errors: docker's statuses and JSON messages", async () => {
      const missing = await http(socket, 'GET', '/v1.41/containers/nosuch/json');
      assert.equal(missing.status, 404);
      assert.deepEqual(JSON.parse(missing.body), { message: 'No such container: nosuch' });
      const unknown = await http(socket, 'GET', '/v1.41/swarm');
      assert.equal(unknown.status, 404);
      assert.match(JSON.parse(unknown.body).message, /GET \/swarm is not an endpoint/);
      const method = await http(socket, 'PUT', '/v1.41/containers/json');
      assert.equal(method.status, 405);
      const volume = await http(socket, 'GET', '/v1.41/volumes/nosuchvolume');
      assert.equal(volume.status, 404);
      assert.match(JSON.parse(volume.body).message, /No such volume: nosuchvolume/);
      assert.equal((await http(socket, 'POST', '/v1.41/build')).status, 501);
      const badJson = await http(socket, 'POST', '/v1.41/containers/create', undefined);
      assert.equal(badJson.status, 400, 'an empty body names no image');
      const sysctls = await http(socket, 'POST', '/v1.41/containers/create', {
        Image: 'busybox',
        HostConfig: { Sysctls: { 'net.ipv4.ip_forward': '1' }, Memory: 0, Links: null },
      });
      assert.equal(sysctls.status, 400);
      assert.match(JSON.parse(sysctls.body).message, /HostConfig\.Sysctls .* den does not support it yet/);
      const noImage = await http(socket, 'POST', '/v1.41/containers/create', { Image: 'nosuchimage' });
      assert.equal(noImage.status, 404, 'the status on which docker clients pull');
      assert.equal(JSON.parse(noImage.body).message, 'No such image: nosuchimage');
      const filters = await http(socket, 'GET', '/v1.41/containers/json?filters=notjson');
      assert.equal(filters.status, 400);
      assert.equal(env.den(['ps', '-aq']).stdout, '', 'no refused create left a container behind');
    });

    test("create with docker's fields, then start, wait and inspect over HTTP", async () => {
      const created = await http(socket, 'POST', '/v1.41/containers/create?name=viahttp', {
        Image: 'busybox',
        Cmd: ['sh', '-c', 'echo "$GREETING"; exit 7'],
        Env: ['GREETING=hello from http'],
        Labels: { tier: 'api' },
        WorkingDir: '/tmp',
        HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, CapDrop: ['NET_RAW'] },
      });
      assert.equal(created.status, 201, created.body);
      const id = (JSON.parse(created.body) as { Id: string }).Id;
      assert.equal((await http(socket, 'POST', `/v1.41/containers/${id}/start`)).status, 204);
      const waited = await http(socket, 'POST', `/v1.41/containers/${id}/wait`);
      assert.deepEqual(JSON.parse(waited.body), { StatusCode: 7, Error: null });
      const inspect = JSON.parse((await http(socket, 'GET', `/v1.41/containers/viahttp/json`)).body);
      assert.equal(inspect.State.ExitCode, 7);
      assert.equal(inspect.Config.Labels.tier, 'api');
      assert.equal(inspect.Config.WorkingDir, '/tmp');
      const logs = await http(socket, 'GET', `/v1.41/containers/${id}/logs?stdout=1&stderr=1`);
      // docker's multiplexed framing: stream 1, three zeros, the length, then the bytes.
      const frame = Buffer.from(logs.body, 'latin1');
      assert.equal(frame[0], 1);
      assert.equal(frame.readUInt32BE(4), 'hello from http\n'.length);
      assert.equal(frame.subarray(8).toString(), 'hello from http\n');
      assert.equal((await http(socket, 'DELETE', `/v1.41/containers/${id}`)).status, 204);
      assert.equal((await http(socket, 'DELETE', `/v1.41/containers/${id}`)).status, 404);
    });

    test('docker CLI: run -d, ps, logs, exec, inspect --format, stop, rm', { skip: noCli }, () => {
      const id = ok([
        'run',
        '-d',
        '--name',
        'web',
        '-e',
        'A=1',
        'busybox',
        'sh',
        '-c',
        'echo ready; echo oops >&2; sleep 300',
      ]).trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.match(ok(['ps']), /web/);
      assert.equal(ok(['ps', '-q', '--no-trunc']).trim(), id);
      const logs = docker(['logs', 'web']);
      assert.equal(logs.stdout, 'ready\n');
      assert.equal(logs.stderr, 'oops\n', 'stderr stays apart through the framing');
      const exec = docker(['exec', 'web', 'sh', '-c', 'echo $A; echo err >&2; exit 4']);
      assert.deepEqual([exec.status, exec.stdout, exec.stderr], [4, '1\n', 'err\n']);
      assert.equal(ok(['exec', '-i', 'web', 'cat'], 'through stdin\n'), 'through stdin\n');
      assert.equal(docker(['exec', 'web', 'nosuchcommand']).status, 127);
      assert.match(
        ok(['inspect', '--format', '{{.State.Status}} {{.Name}} {{.Config.Image}}', 'web']),
        /^running \/web busybox/,
      );
      ok(['stop', '-t', '1', 'web']);
      assert.match(ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /web Exited \(137\)/);
      ok(['rm', 'web']);
      assert.equal(env.den(['ps', '-aq']).stdout, '');
    });

    test('docker CLI: run attached (--rm), its output and exit status; cp both ways', { skip: noCli }, () => {
      const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual([r.status, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
      assert.equal(env.den(['ps', '-aq']).stdout, '', '--rm removed it');
      // run -i: stdin reaches the container, and its end closes the container's stdin (StdinOnce).
      assert.equal(
        ok(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo after-eof'], 'piped in\n'),
        'piped in\nafter-eof\n',
      );
      // run -it under a pseudo-terminal (script(1) gives the client one): the container gets a terminal.
      const tty = env.exec(['script', '-qec', `${DOCKER} run -it --rm busybox sh -c 'tty; exit 5'`, '/dev/null'], {
        env: { DOCKER_HOST: `unix://${socket}` },
      });
      assert.equal(tty.status, 5, tty.stderr);
      assert.match(tty.stdout, /\/dev\/pts\/[0-9]+\r\n/);
      ok(['run', '-d', '--name', 'files', 'busybox', 'sleep', '300']);
      const local = join(env.root, 'local.txt');
      writeFileSync(local, 'from the host\n');
      chmodSync(local, 0o644);
      ok(['cp', local, 'files:/tmp/']);
      assert.equal(ok(['exec', 'files', 'cat', '/tmp/local.txt']), 'from the host\n');
      ok(['exec', 'files', 'sh', '-c', 'echo from the container > /tmp/back.txt']);
      const back = join(env.home, 'back.txt');
      ok(['cp', 'files:/tmp/back.txt', back]);
      assert.equal(readFileSync(back, 'utf8'), 'from the container\n');
      const missing = docker(['cp', 'files:/nonexistent', back]);
      assert.notEqual(missing.status, 0);
      ok(['rm', '-f', 'files']);
    });

    test(
      'docker CLI: pull from the local registry, images, tag, push, and run of an image it must pull',
      { skip: noCli },
      () => {
        assert.equal(env.den(['tag', 'busybox', `${registry.name}/seed:1`]).status, 0);
        const pushed = env.den(['push', `${registry.name}/seed:1`]);
        assert.equal(pushed.status, 0, pushed.stderr);
        assert.equal(env.den(['rmi', `${registry.name}/seed:1`]).status, 0);
        const pull = ok(['pull', `${registry.name}/seed:1`]);
        assert.match(pull, /Digest: sha256:/);
        assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(`${registry.name}/seed:1`));
        ok(['tag', `${registry.name}/seed:1`, `${registry.name}/copy:2`]);
        assert.match(ok(['push', `${registry.name}/copy:2`]), /digest: sha256:[0-9a-f]{64}/);
        ok(['rmi', `${registry.name}/copy:2`, `${registry.name}/seed:1`]);
        // run pulls on create's 404, then creates again.
        const run = docker(['run', '--rm', `${registry.name}/copy:2`, 'echo', 'pulled and ran']);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.split('\n').filter(Boolean).at(-1), 'pulled and ran');
        assert.match(run.stderr, /Unable to find image/);
      },
    );

    test('docker CLI: network create, connect, inspect, rm', { skip: noCli }, () => {
      ok(['network', 'create', 'apinet']);
      assert.match(ok(['network', 'ls', '--format', '{{.Name}}']), /apinet/);
      ok(['create', '--name', 'member', 'busybox', 'true']);
      ok(['network', 'connect', 'apinet', 'member']);
      assert.match(ok(['network', 'inspect', 'apinet', '--format', '{{range .Containers}}{{.Name}}{{end}}']), /member/);
      ok(['network', 'disconnect', 'apinet', 'member']);
      ok(['rm', 'member']);
      ok(['network', 'rm', 'apinet']);
      const gone = docker(['network', 'inspect', 'apinet']);
      assert.notEqual(gone.status, 0);
    });

    test(
      'docker CLI: volumes, -v NAME and anonymous, --mount, --tmpfs, rm -v, volume rm and prune',
      { skip: noCli },
      () => {
        assert.equal(ok(['volume', 'create', '--label', 'k=v', 'apivol']), 'apivol\n');
        assert.match(
          ok(['volume', 'ls', '--filter', 'label=k=v', '--format', '{{.Name}} {{.Driver}}']),
          /^apivol local$/m,
        );
        assert.equal(ok(['run', '--rm', '-v', 'apivol:/x', 'busybox', 'sh', '-c', 'echo kept > /x/f']), '');
        const read = ok([
          'run',
          '--rm',
          '--mount',
          'type=volume,source=apivol,target=/y,readonly',
          '--tmpfs',
          '/t:size=1m',
          'busybox',
          'sh',
          '-c',
          'cat /y/f; touch /y/z 2>/dev/null || echo ro; grep -c " /t tmpfs" /proc/mounts',
        ]);
        assert.equal(read, 'kept\nro\n1\n');
        ok(['create', '--name', 'anonv', '-v', '/data', 'busybox', 'true']);
        const anon = ok(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'anonv']).trim();
        assert.match(anon, /^[0-9a-f]{64}$/, 'the CLI sends -v /data as Config.Volumes: an anonymous volume');
        ok(['rm', '-v', 'anonv']);
        assert.doesNotMatch(ok(['volume', 'ls', '-q']), new RegExp(anon), 'rm -v removed it');
        ok(['create', '--name', 'holder', '-v', 'apivol:/x', 'busybox', 'true']);
        const inUse = docker(['volume', 'rm', 'apivol']);
        assert.notEqual(inUse.status, 0);
        assert.match(inUse.stderr, /volume apivol is in use/);
        ok(['rm', 'holder']);
        assert.match(ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'apivol']), /volumes\/apivol\/_data/);
        assert.match(ok(['volume', 'prune', '-f']), /apivol/, "API 1.41's prune takes every unused volume");
        const gone = docker(['volume', 'inspect', 'apivol']);
        assert.notEqual(gone.status, 0);
        assert.match(gone.stderr, /No such volume: apivol/);
      },
    );

    test("docker CLI: errors keep docker's words and statuses", { skip: noCli }, () => {
      const rm = docker(['rm', 'nosuch']);
      assert.equal(rm.status, 1);
      assert.match(rm.stderr, /No such container: nosuch/);
      const inspect = docker(['image', 'inspect', 'nosuchimage']);
      assert.equal(inspect.status, 1);
      assert.match(inspect.stderr, /No such image: nosuchimage/);
    });

    test('the service exits once idle for --time seconds, and removes its socket', async () => {
      const idleSocket = join(env.runtimeBase, 'idle.sock');
      const idle = env.spawnDen(['system', 'service', '--time', '1', `unix://${idleSocket}`]);
      await waitFor('the idle socket', () => existsSync(idleSocket));
      const started = Date.now();
      assert.equal((await http(idleSocket, 'GET', '/_ping')).status, 200);
      const code = await new Promise<number | null>((resolve) => idle.once('exit', resolve));
      assert.equal(code, 0);
      const waited = Date.now() - started;
      assert.ok(waited >= 900 && waited < 5000, `exited after ${waited} ms idle`);
      assert.ok(!existsSync(idleSocket));
    });

    test('a live stream keeps the service: events while another client acts', async () => {
      const eventsSocket = join(env.runtimeBase, 'events.sock');
      const svc = env.spawnDen(['system', 'service', '--time', '1', `unix://${eventsSocket}`]);
      await waitFor('the events socket', () => existsSync(eventsSocket));
      let text = '';
      const streamed = new Promise<void>((resolve, reject) => {
        const req = request(
          { socketPath: eventsSocket, path: '/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D' },
          (res) => {
            res.on('data', (d: Buffer) => {
              text += d.toString();
              if (text.includes('"destroy"')) {
                req.destroy();
                resolve();
              }
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
      await sleep(1500); // past --time: the open stream holds the service
      assert.equal(svc.exitCode, null);
      const run = await env.denAsync(['run', '--rm', '--network', 'none', 'busybox', 'true']);
      assert.equal(run.status, 0, run.stderr);
      await streamed;
      const actions = text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { Action: string }).Action);
      assert.deepEqual(
        actions.filter((a) => ['create', 'start', 'destroy'].includes(a)),
        ['create', 'start', 'destroy'],
      );
      await new Promise((resolve) => svc.once('exit', resolve));
    });
  });
