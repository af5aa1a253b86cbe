import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, TEST_USER } from './harness.js';
import {
  connectContainer,
  createNetwork,
  disconnectContainer,
  EngineContext,
  engineConfigFromEnv,
  networkDeps,
} from '../src/engine/index.js';

/**
 * User-defined networks with real packets: netavark's bridges, aardvark-dns answering container
 * names and aliases, one network not reaching another, an internal network with no way out, and
 * nothing left behind (bridge, veth, shared namespace, pasta, aardvark-dns) once the containers go.
 * As the unprivileged user the bridges live in the shared network namespace of den's session (pasta
 * its way out); as root on the host.
 *
 * The containers run with --network none and join networks with `den network connect`, which
 * connects a running container at once (the library's connectContainer on its init's namespace).
 */

/** The host's own address on its default route: what "a way out" of a network reaches here. */
function hostAddress(): string {
  const out = spawnSync('ip', ['-o', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' }).stdout;
  const m = / src ([0-9.]+)/.exec(out);
  assert.ok(m, `no default route: ${out}`);
  return m[1]!;
}

/** Live processes of `uid` whose command line matches `pattern` (pgrep -f). */
function processesNamed(pattern: string, uid: number): number[] {
  const out = spawnSync('pgrep', ['-u', String(uid), '-f', pattern], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => {
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
      } catch {
        return false;
      }
    });
}

/** Interfaces whose names start with `prefix`, on the host (root) or in the session's network namespaces. */
function hostLinks(prefix: string): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

for (const user of [TEST_USER, 'root'])
  describe(`user networks as ${user === 'root' ? 'root' : 'an unprivileged user'}`, () => {
    let env: DenEnv;
    let server: ChildProcess;
    const host = hostAddress();
    // Subnets of their own per user: as root the bridges share the host with other suites.
    const net = user === 'root' ? '10.231' : '10.232';
    const port = user === 'root' ? 18431 : 18432;

    before(async () => {
      env = new DenEnv(user);
      const r = env.den(['import', busyboxTarball(), 'busybox']);
      assert.equal(r.status, 0, r.stderr);
      const www = join(env.root, 'www');
      mkdirSync(www);
      writeFileSync(join(www, 'index.html'), 'from the host\n');
      chmodSync(www, 0o755);
      server = spawn('busybox', ['httpd', '-f', '-p', `${host}:${port}`, '-h', www], { stdio: 'ignore' });
      await sleep(200);
      const up = spawnSync('sh', ['-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 ${host} ${port}`], {
        encoding: 'utf8',
      });
      assert.match(up.stdout, /from the host/, `the test's server on the host: ${up.stderr}`);
    });

    after(() => {
      server?.kill();
      for (const c of ['a', 'b', 'c', 'i']) env.den(['rm', '-f', c]);
      for (const n of ['neta', 'netb', 'neti']) env.den(['network', 'rm', '-f', n]);
      env.cleanup();
    });

    /** The bridges of the networks made here (den + 10 hex digits of the id). */
    const bridges: string[] = [];
    const den = (...args: string[]) => {
      const r = env.den(args);
      if (args[0] === 'network' && args[1] === 'create' && r.status === 0) bridges.push(`den${r.stdout.slice(0, 10)}`);
      return r;
    };
    /** An HTTP GET from inside a container (busybox nc: its wget crashes on this machine). */
    const get = (container: string, address: string, port: number, path: string) =>
      env.den([
        'exec',
        container,
        'sh',
        '-c',
        `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc -w 3 ${address} ${port}`,
      ]);
    const ok = (...args: string[]) => {
      const r = den(...args);
      assert.equal(r.status, 0, `den ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    test('create, ls, inspect, rm and prune, and their errors', () => {
      const id = ok('network', 'create', '--subnet', `${net}.9.0/24`, '--label', 'team=x', 'verbs').trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      let r = den('network', 'create', 'verbs');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /network with name verbs already exists/);
      r = den('network', 'create', '--subnet', `${net}.9.128/25`, 'other');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /overlaps with network verbs/);
      r = den('network', 'create', '--subnet', `${net}.9.1/24`, 'other');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /invalid subnet .*: it should be/);
      r = den('network', 'create', '--subnet', `${net}.10.0/24`, '--gateway', `${net}.11.1`, 'other');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /gateway .* is not a host address/);
      r = den('network', 'create', 'host');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /network mode/);
      r = den('network', 'create', '-d', 'macvlan', 'other');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /driver macvlan is not supported/);

      assert.deepEqual(ok('network', 'ls', '--format', '{{.Name}}').split('\n').filter(Boolean), ['den', 'verbs']);
      assert.equal(ok('network', 'ls', '-q', '--filter', 'label=team=x').trim(), id.slice(0, 12));
      assert.equal(ok('network', 'ls', '-q', '--filter', 'type=builtin', '--filter', 'name=verbs'), '');
      assert.match(ok('network', 'ls'), /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
      r = den('network', 'ls', '--filter', 'color=red');
      assert.equal(r.status, 1);

      const [inspected] = JSON.parse(ok('network', 'inspect', 'verbs')) as {
        Id: string;
        Driver: string;
        IPAM: { Config: { Subnet: string; Gateway: string }[] };
        Labels: Record<string, string>;
        Internal: boolean;
      }[];
      assert.equal(inspected!.Id, id);
      assert.equal(inspected!.Driver, 'bridge');
      assert.deepEqual(inspected!.IPAM.Config, [{ Subnet: `${net}.9.0/24`, Gateway: `${net}.9.1` }]);
      assert.deepEqual(inspected!.Labels, { team: 'x' });
      assert.equal(ok('network', 'inspect', '--format', '{{.Name}} {{.Internal}}', id.slice(0, 8)), 'verbs false\n');
      r = den('network', 'inspect', 'nosuch');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /network nosuch not found/);

      r = den('network', 'rm', 'den');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /den is a pre-defined network and cannot be removed/);
      r = den('network', 'prune');
      assert.equal(r.status, 1, 'prune without -f and no terminal to ask on');
      assert.equal(ok('network', 'prune', '-f'), 'Deleted Networks:\nverbs\n');
      assert.equal(ok('network', 'ls', '-q').split('\n').filter(Boolean).length, 1);
      assert.equal(den('network', 'rm', 'verbs').status, 1);
      assert.equal(den('network', 'rm', '-f', 'verbs').status, 0);
    });

    test('connect and disconnect of a stopped container are records; rm forgets them', () => {
      ok('network', 'create', '--subnet', `${net}.8.0/24`, 'recs');
      ok('create', '--network', 'none', '--name', 'rec', 'busybox', 'true');
      ok('create', '--network', 'host', '--name', 'onhost', 'busybox', 'true');
      ok('network', 'connect', '--alias', 'r1', '--ip', `${net}.8.9`, 'recs', 'rec');
      const members = () =>
        Object.values(
          (
            JSON.parse(ok('network', 'inspect', 'recs')) as {
              Containers: Record<string, { Name: string; IPv4Address: string }>;
            }[]
          )[0]!.Containers,
        );
      assert.deepEqual(members(), [
        { Name: 'rec', IPv4Address: `${net}.8.9/24`, EndpointID: '', MacAddress: '', IPv6Address: '' },
      ]);
      let r = den('network', 'connect', 'recs', 'onhost');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /sharing network namespace with another container or host cannot be connected/);
      r = den('network', 'connect', 'nosuch', 'rec');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /network nosuch not found/);
      r = den('network', 'connect', 'recs', 'nosuch');
      assert.equal(r.status, 1);
      ok('network', 'disconnect', 'recs', 'rec');
      assert.deepEqual(members(), []);
      ok('network', 'connect', 'recs', 'rec');
      assert.equal(members().length, 1);
      ok('rm', 'rec', 'onhost');
      assert.deepEqual(members(), [], 'rm forgets the attachment');
      ok('network', 'rm', 'recs');
    });

    test('containers reach each other by name and alias, not across networks; internal has no way out', () => {
      ok('network', 'create', '--subnet', `${net}.1.0/24`, 'neta');
      ok('network', 'create', '--subnet', `${net}.2.0/24`, 'netb');
      ok('network', 'create', '--subnet', `${net}.3.0/24`, '--internal', 'neti');
      for (const [name, cmd] of [
        ['a', ['sleep', '600']],
        ['b', ['httpd', '-f', '-p', '8080', '-h', '/etc']],
        ['c', ['sleep', '600']],
        ['i', ['sleep', '600']],
      ] as const) {
        ok('run', '-d', '--network', 'none', '--name', name, 'busybox', ...cmd);
      }
      ok('network', 'connect', 'neta', 'a');
      ok('network', 'connect', '--alias', 'web', '--ip', `${net}.1.50`, 'neta', 'b');
      ok('network', 'connect', 'netb', 'c');
      ok('network', 'connect', 'neti', 'i');

      const r = den('network', 'connect', 'neta', 'a');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /already exists in network neta/);

      const [inspected] = JSON.parse(ok('network', 'inspect', 'neta')) as {
        Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string }>;
      }[];
      const byName = Object.fromEntries(Object.values(inspected!.Containers).map((c) => [c.Name, c]));
      assert.equal(byName.b?.IPv4Address, `${net}.1.50/24`);
      assert.match(byName.a?.IPv4Address ?? '', new RegExp(`^${net.replace('.', '\\.')}\\.1\\.2/24$`));
      assert.match(byName.a?.MacAddress ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

      // By name and by alias, through aardvark-dns on the network's gateway.
      for (const name of ['b', 'web']) {
        const out = ok('exec', 'a', 'nslookup', name, `${net}.1.1`);
        assert.match(out, new RegExp(`Address: ${net}\\.1\\.50`), `${name}: ${out}`);
      }
      // And a real connection to it.
      const got = get('a', `${net}.1.50`, 8080, '/hostname');
      assert.match(got.stdout, /^HTTP\/1\.[01] 200 OK/, got.stderr);

      // Another network knows neither the name nor a way to the address.
      assert.notEqual(den('exec', 'c', 'nslookup', 'b', `${net}.2.1`).status, 0);
      assert.doesNotMatch(get('c', `${net}.1.50`, 8080, '/hostname').stdout, /200 OK/);

      // A way out (the host's address, as any address outside), but not from an internal network.
      assert.match(get('a', host, port, '/').stdout, /from the host/);
      assert.doesNotMatch(get('i', host, port, '/').stdout, /from the host/);

      // The network is in use: docker's message, exit 1.
      const rm = den('network', 'rm', 'neta');
      assert.equal(rm.status, 1);
      assert.match(rm.stderr, /network neta id [0-9a-f]{64} has active endpoints/);

      // disconnect tears the running container's interface down.
      ok('network', 'disconnect', 'neta', 'b');
      assert.notEqual(den('exec', 'a', 'nslookup', 'b', `${net}.1.1`).status, 0);
      assert.doesNotMatch(get('a', `${net}.1.50`, 8080, '/hostname').stdout, /200 OK/);
      const again = den('network', 'disconnect', 'neta', 'b');
      assert.equal(again.status, 1);
      assert.match(again.stderr, /container b is not connected to network neta/);
      assert.equal(den('network', 'disconnect', '-f', 'neta', 'b').status, 0);
    });

    test('two dens connecting at once give two addresses', async () => {
      ok('network', 'create', '--subnet', `${net}.4.0/24`, 'par');
      for (const name of ['p1', 'p2']) ok('run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '600');
      const results = await Promise.all(['p1', 'p2'].map((c) => env.denAsync(['network', 'connect', 'par', c])));
      for (const r of results) assert.equal(r.status, 0, r.stderr);
      const addresses = ['p1', 'p2'].map(
        (c) => /inet ([0-9.]+)\/24/.exec(ok('exec', c, 'ip', '-4', 'addr', 'show', 'eth0'))?.[1],
      );
      assert.deepEqual(addresses.sort(), [`${net}.4.2`, `${net}.4.3`]);
      assert.match(ok('exec', 'p1', 'nslookup', 'p2', `${net}.4.1`), new RegExp(`Address: ${net}\\.4\\.`));
      ok('rm', '-f', 'p1', 'p2');
      ok('network', 'rm', 'par');
    });

    test('a den killed (SIGKILL) while it connects leaves nothing once the container is removed', async () => {
      ok('network', 'create', '--subnet', `${net}.5.0/24`, 'killed');
      // At several points: before the record, around netavark, after it.
      for (const [i, delay] of [0, 150, 300, 450, 700].entries()) {
        ok('run', '-d', '--network', 'none', '--name', `k${i}`, 'busybox', 'sleep', '600');
        const child = env.spawnDen(['network', 'connect', 'killed', `k${i}`]);
        const closed = new Promise((resolve) => child.on('close', resolve));
        await sleep(delay);
        child.kill('SIGKILL'); // or it ended already
        await closed;
        await sleep(500); // what den started (netavark) finishes on its own
        const r = den('rm', '-f', `k${i}`);
        assert.equal(r.status, 0, r.stderr);
      }
      ok('network', 'rm', 'killed');
    });

    test('nothing is left once the containers are removed', async () => {
      ok('rm', '-f', 'a', 'b', 'c', 'i');
      for (const n of ['neta', 'netb', 'neti']) ok('network', 'rm', n);
      const uid = env.user.uid;
      await sleep(300);
      assert.deepEqual(processesNamed(`aardvark-dns --config ${env.runtimeDir}`, uid), [], 'aardvark-dns');
      if (env.rootless) {
        assert.deepEqual(processesNamed(`pasta .*${env.runtimeDir}`, uid), [], 'pasta');
        assert.deepEqual(
          env.mountsUnderRoot().filter((m) => m.includes('networks')),
          [],
          'the shared namespace is unmounted',
        );
        assert.deepEqual(
          readdirSync(join(env.runtimeDir, 'networks')).filter((f) => f.startsWith('netns') || f.startsWith('gone')),
          [],
        );
      } else {
        assert.deepEqual(
          hostLinks('den').filter((b) => bridges.includes(b)),
          [],
          'no bridge of these networks is left on the host',
        );
      }
      assert.deepEqual(env.strayProcesses(), []);
    });
  });

/**
 * The library the container start path calls, on network namespaces made with unshare (bind-mounted
 * nsfs files, as a container's namespace kept apart from its init would be), no container needed.
 * As root: the test process is the engine here, and only root's den runs netavark in its own process tree.
 */
describe('connectContainer and disconnectContainer on namespaces made with unshare, as root', () => {
  let env: DenEnv;
  let ctx: EngineContext;
  const files: string[] = [];
  const nsenter = (file: string, ...argv: string[]) =>
    spawnSync('nsenter', [`--net=${file}`, ...argv], { encoding: 'utf8' });
  const netns = (name: string) => {
    const file = join(env.root, name);
    writeFileSync(file, '');
    assert.equal(spawnSync('unshare', [`--net=${file}`, 'true']).status, 0);
    files.push(file);
    return file;
  };
  const drop = (file: string) => {
    spawnSync('umount', [file]);
    spawnSync('rm', ['-f', file]);
  };

  before(() => {
    env = new DenEnv('root');
    ctx = new EngineContext(engineConfigFromEnv(env.env(), { node: process.execPath, script: undefined }));
  });
  after(() => {
    // A failed test must not leave its bridge and rules on the host for the next run.
    for (const id of ['c', 'd']) {
      try {
        disconnectContainer(networkDeps(ctx), { containerId: id.repeat(64), name: id, netnsPath: '/nonexistent' });
      } catch {
        // reported by the test itself
      }
    }
    for (const f of files) drop(f);
    env.cleanup();
  });

  test('two namespaces on one network reach each other by name and alias; disconnect, even of a gone namespace, leaves nothing', () => {
    const network = createNetwork(ctx, {
      name: 'lib',
      driver: 'bridge',
      subnet: '10.233.1.0/24',
      internal: false,
      labels: {},
      options: {},
    });
    const deps = networkDeps(ctx);
    const one = netns('one');
    const two = netns('two');
    const [info] = connectContainer(deps, {
      containerId: 'c'.repeat(64),
      name: 'one',
      netnsPath: one,
      networks: [{ name: 'lib', aliases: ['uno'] }],
    });
    assert.deepEqual(
      {
        ip: info?.ip,
        prefix: info?.prefixLength,
        gateway: info?.gateway,
        iface: info?.interface,
        dns: info?.dnsServers,
      },
      { ip: '10.233.1.2', prefix: 24, gateway: '10.233.1.1', iface: 'eth0', dns: ['10.233.1.1'] },
    );
    assert.match(info?.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    // A published port: netavark's DNAT on the host, as root.
    connectContainer(deps, {
      containerId: 'd'.repeat(64),
      name: 'two',
      netnsPath: two,
      networks: [{ name: 'lib' }],
      ports: [{ hostIp: '', hostPort: 18533, containerPort: 8080, protocol: 'tcp', range: 1 }],
    });
    const httpd = spawn('nsenter', [`--net=${two}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'], {
      stdio: 'ignore',
    });
    try {
      let got = '';
      for (let i = 0; i < 20 && !/200 OK/.test(got); i++) {
        got = spawnSync(
          'sh',
          ['-c', `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 ${hostAddress()} 18533`],
          {
            encoding: 'utf8',
          },
        ).stdout;
        if (!/200 OK/.test(got)) spawnSync('sleep', ['0.1']);
      }
      assert.match(got, /^HTTP\/1\.[01] 200 OK/, 'the host port reaches the namespace');
    } finally {
      httpd.kill();
    }

    for (const name of ['one', 'uno']) {
      const r = nsenter(two, 'busybox', 'nslookup', name, '10.233.1.1');
      assert.match(r.stdout, /Address: 10\.233\.1\.2/, `${name}: ${r.stdout}${r.stderr}`);
    }
    assert.equal(nsenter(two, 'busybox', 'ping', '-c', '1', '-W', '3', '10.233.1.2').status, 0);
    const bridge = `den${network.id.slice(0, 10)}`;
    assert.equal(spawnSync('ip', ['link', 'show', bridge]).status, 0, 'the bridge is on the host');

    disconnectContainer(deps, { containerId: 'c'.repeat(64), name: 'one', netnsPath: one });
    assert.doesNotMatch(nsenter(one, 'ip', '-o', 'link').stdout, /eth0/);
    disconnectContainer(deps, { containerId: 'c'.repeat(64), name: 'one', netnsPath: one });

    // The other namespace is gone before its disconnect, as a crashed container's.
    drop(two);
    disconnectContainer(deps, {
      containerId: 'd'.repeat(64),
      name: 'two',
      netnsPath: two,
      ports: [{ hostIp: '', hostPort: 18533, containerPort: 8080, protocol: 'tcp', range: 1 }],
    });
    assert.doesNotMatch(spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout, /18533/);
    assert.notEqual(spawnSync('ip', ['link', 'show', bridge]).status, 0, 'the bridge went with the last namespace');
    assert.doesNotMatch(spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout, /10\.233\.1\./);
    assert.deepEqual(processesNamed(`aardvark-dns --config ${env.runtimeDir}`, 0), []);
  });
});
