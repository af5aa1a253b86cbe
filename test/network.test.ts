import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { get } from 'node:http';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { busyboxTarball, DenEnv, type Result } from './harness.js';

/**
 * Container networks with real packets, all on this host's loopback and its own address: pasta
 * (the default) and slirp4netns, published ports reached from the host, the host reached from a
 * container by name, `container:NAME`, the generated /etc files, and no helper, namespace or
 * mount left behind after rm, a failed start or den killed half-way. As the unprivileged user and
 * as root.
 *
 * The test image's busybox has no UDP server (its nc lacks -u): the UDP test runs the host's iperf3
 * in the container, with the host's /usr and /lib bound in read-only. (busybox wget's -T crashes
 * it: timeouts are busybox's `timeout`.)
 */
for (const user of ['dentest', 'root'] as const)
  describe(`container networks (${user === 'root' ? 'root' : 'rootless'})`, () => {
    let env: DenEnv;
    const ok = (r: Result) => {
      assert.equal(r.status, 0, `status ${r.status}: ${r.stderr}`);
      return r.stdout;
    };
    /** Network helpers (pasta, slirp4netns) of this environment, found by the namespace file they name. */
    const helpers = () =>
      spawnSync('pgrep', ['-af', `(pasta|slirp4netns) .*${env.root}`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l && !l.includes('pgrep'));
    const until = async (what: string, cond: () => boolean, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
        await sleep(100);
      }
    };
    const fetchText = (url: string) =>
      new Promise<string>((resolve, reject) => {
        const req = get(url, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.setTimeout(5_000, () => req.destroy(new Error(`timeout: ${url}`)));
      });
    /** A container port's host port, from `den port`. */
    const hostPort = (name: string, port: string) => {
      const line = ok(env.den(['port', name, port])).split('\n')[0]!;
      return Number(line.slice(line.lastIndexOf(':') + 1));
    };
    const noLeaks = async () => {
      await until('the network helpers are gone', () => helpers().length === 0);
      assert.deepEqual(env.mountsUnderRoot(), [], 'no mount (overlay or namespace file) is left');
    };

    before(() => {
      env = new DenEnv(user);
      ok(env.den(['import', busyboxTarball(), 'busybox']));
    });
    after(() => env.cleanup());

    for (const network of ['default', 'slirp4netns'] as const) {
      test(`${network}: a web server in the container answers at its published port on 127.0.0.1`, async () => {
        const flags = network === 'default' ? [] : ['--network', network];
        // Port 80 inside: any port may be bound in the container's namespace, with any user namespace.
        ok(
          env.den([
            'run',
            '-d',
            '--name',
            'web',
            ...flags,
            '-p',
            '127.0.0.1::80',
            'busybox',
            'httpd',
            '-f',
            '-p',
            '80',
            '-h',
            '/etc',
          ]),
        );
        const port = hostPort('web', '80');
        assert.ok(port > 0);
        const expected = network === 'default' ? 'pasta' : 'slirp4netns';
        assert.equal(
          ok(env.den(['inspect', '-f', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}}', 'web'])).trim(),
          `${expected} 10.0.2.100`,
        );
        assert.match(
          ok(env.den(['ps', '--format', '{{.Ports}}'])),
          new RegExp(`^127\\.0\\.0\\.1:${port}->80/tcp$`, 'm'),
        );
        const id = ok(env.den(['inspect', '-f', '{{.Config.Hostname}}', 'web'])).trim();
        let body = '';
        for (let i = 0; i < 50 && body === ''; i++) {
          body = await fetchText(`http://127.0.0.1:${port}/hostname`).catch(() => '');
          if (body === '') await sleep(100);
        }
        assert.equal(body.trim(), id);
        assert.equal(helpers().length, 1, 'one helper runs for the container');
        ok(env.den(['rm', '-f', 'web']));
        await noLeaks();
      });
    }

    test("UDP through a published port: an iperf3 server in the container receives the host's datagrams", async () => {
      // One port free for TCP (iperf3's control connection) and UDP (its data) alike.
      let port = 0;
      for (let tries = 0; tries < 20 && port === 0; tries++) {
        const candidate = 20000 + Math.floor(Math.random() * 20000);
        const tcp = createServer();
        const free = await new Promise<boolean>((resolve) => {
          tcp.once('error', () => resolve(false));
          tcp.listen(candidate, () => tcp.close(() => resolve(true)));
        });
        if (free) port = candidate;
      }
      // Sent to the host's own address: both helpers of Debian 12 (passt 2023-03, slirp4netns 1.2)
      // lose the replies to a UDP client on the host's loopback (docs/networking.md).
      const hostIp = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      assert.ok(hostIp);
      const bins = ['-v', '/usr:/usr:ro', '-v', '/lib:/lib:ro', '-v', '/lib64:/lib64:ro'];
      ok(
        env.den([
          'run',
          '-d',
          '--name',
          'udp',
          '-p',
          `${port}:5201`,
          '-p',
          `${port}:5201/udp`,
          ...bins,
          'busybox',
          '/usr/bin/iperf3',
          '-s',
        ]),
      );
      assert.match(ok(env.den(['port', 'udp', '5201/udp'])), new RegExp(`^0\\.0\\.0\\.0:${port}$`, 'm'));
      let report: { end?: { sum?: { packets?: number; lost_percent?: number } } } = {};
      for (let i = 0; i < 10 && !report.end?.sum?.packets; i++) {
        const r = spawnSync('iperf3', ['-c', hostIp!, '-p', String(port), '-u', '-b', '10M', '-t', '1', '-J'], {
          encoding: 'utf8',
          timeout: 10_000,
        });
        try {
          report = JSON.parse(r.stdout) as typeof report;
        } catch {
          report = {};
        }
        if (!report.end?.sum?.packets) await sleep(300);
      }
      assert.ok((report.end?.sum?.packets ?? 0) > 0, 'datagrams were sent and counted by the server');
      assert.ok(
        (report.end?.sum?.lost_percent ?? 100) < 50,
        `the server received them: ${JSON.stringify(report.end?.sum)}`,
      );
      ok(env.den(['rm', '-f', 'udp']));
      await noLeaks();
    });

    test('a port in use, or (rootless) below the unprivileged start, fails the run before anything starts', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const busy = (server.address() as { port: number }).port;
      try {
        const r = env.den(['run', '-d', '--name', 'clash', '-p', `127.0.0.1:${busy}:80`, 'busybox', 'sleep', '100']);
        assert.equal(r.status, 125, r.stderr);
        assert.match(r.stderr, new RegExp(`cannot publish 127\\.0\\.0\\.1:${busy}/tcp: address already in use`));
        assert.match(ok(env.den(['ps', '-a', '--format', '{{.Names}} {{.State}}'])), /^clash created$/m);
        ok(env.den(['rm', 'clash']));
        await noLeaks();
      } finally {
        server.close();
      }
      if (env.rootless) {
        const low = env.den(['run', '--rm', '-p', '80:80', 'busybox', 'true']);
        assert.equal(low.status, 125);
        assert.match(low.stderr, /ports below 1024 need privileges/);
      }
      const bad = env.den(['run', '--rm', '-p', '80:80/icmp', 'busybox', 'true']);
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /invalid port specification "80:80\/icmp"/);
    });

    test("-P publishes the exposed ports to free ones; container:NAME shares the other's namespace", async () => {
      ok(
        env.den([
          'run',
          '-d',
          '--name',
          'web2',
          '--expose',
          '80',
          '-P',
          'busybox',
          'httpd',
          '-f',
          '-p',
          '80',
          '-h',
          '/etc',
        ]),
      );
      const port = hostPort('web2', '80/tcp');
      let body = '';
      for (let i = 0; i < 50 && body === ''; i++) {
        body = await fetchText(`http://127.0.0.1:${port}/hostname`).catch(() => '');
        if (body === '') await sleep(100);
      }
      assert.ok(body.trim().length > 0);
      // The same server through the other container's loopback.
      const inside = ok(
        env.den([
          'run',
          '--rm',
          '--network',
          'container:web2',
          'busybox',
          'wget',
          '-q',
          '-O',
          '-',
          'http://127.0.0.1:80/hostname',
        ]),
      );
      assert.equal(inside, body);
      const withPorts = env.den(['run', '--rm', '--network', 'container:web2', '-p', '81:81', 'busybox', 'true']);
      assert.equal(withPorts.status, 125);
      assert.match(withPorts.stderr, /conflicting options: port publishing and the container network mode/);
      ok(env.den(['rm', '-f', 'web2']));
      const stopped = env.den(['create', '--name', 'lonely', 'busybox', 'sleep', '1']);
      ok(stopped);
      const joinStopped = env.den(['run', '--rm', '--network', 'container:lonely', 'busybox', 'true']);
      assert.equal(joinStopped.status, 125);
      assert.match(joinStopped.stderr, /cannot join the network of lonely: it is not running/);
      ok(env.den(['rm', 'lonely']));
      await noLeaks();
    });

    test("the host by name: services on the host's address are reached, its loopback is not unless asked", async () => {
      const hostIp = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      assert.ok(hostIp, 'this host has an address that is not loopback');
      const serve = (host: string) =>
        new Promise<Server>((resolve) => {
          const s = createServer((_, res) => res.end(`hello from ${host}\n`));
          s.listen(0, host, () => resolve(s));
        });
      const open = await serve('0.0.0.0');
      const loopbackOnly = await serve('127.0.0.1');
      const openPort = (open.address() as { port: number }).port;
      const loPort = (loopbackOnly.address() as { port: number }).port;
      /** `den run --rm FLAGS busybox wget URL`, without blocking this process's servers. */
      const wgetIn = (flags: string[], url: string) =>
        env.denAsync(['run', '--rm', ...flags, 'busybox', 'timeout', '5', 'wget', '-q', '-O', '-', url]);
      try {
        const hosts = ok(
          env.den([
            'run',
            '--rm',
            '--add-host',
            'db:10.9.9.9',
            '--add-host',
            'gw:host-gateway',
            '--dns',
            '192.0.2.53',
            '--dns-search',
            'example.test',
            '--hostname',
            'box',
            'busybox',
            'sh',
            '-c',
            'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname',
          ]),
        );
        const [hostsFile, resolv, hostname] = hosts.split('---\n');
        assert.match(hostsFile!, /^10\.0\.2\.100\tbox$/m);
        assert.match(
          hostsFile!,
          new RegExp(`^${hostIp!.replace(/\./g, '\\.')}\\thost\\.containers\\.internal host\\.docker\\.internal$`, 'm'),
        );
        assert.match(hostsFile!, /^10\.9\.9\.9\tdb$/m);
        assert.match(hostsFile!, new RegExp(`^${hostIp!.replace(/\./g, '\\.')}\\tgw$`, 'm'));
        assert.equal(resolv, 'search example.test\nnameserver 192.0.2.53\n');
        assert.equal(hostname!.trim(), 'box');
        // Services listening on all addresses: through host.containers.internal.
        const reached = ok(await wgetIn([], `http://host.containers.internal:${openPort}/`));
        assert.equal(reached, 'hello from 0.0.0.0\n');
        // The host's loopback is not the container's, nor behind the gateway, unless asked.
        for (const url of [`http://127.0.0.1:${loPort}/`, `http://10.0.2.2:${loPort}/`]) {
          // Under sh (not exec'd by it): busybox's timeout cannot kill the container's init.
          const r = await env.denAsync([
            'run',
            '--rm',
            'busybox',
            'sh',
            '-c',
            `timeout -s KILL 2 wget -q -O - ${url} || exit 1`,
          ]);
          assert.notEqual(r.status, 0, `${url} must not be reachable: ${r.stdout}`);
        }
        const asked = ok(
          await wgetIn(['--network', 'slirp4netns:allow_host_loopback=true'], `http://10.0.2.2:${loPort}/`),
        );
        assert.equal(asked, 'hello from 127.0.0.1\n');
        const hostNet = ok(await wgetIn(['--network', 'host'], `http://127.0.0.1:${loPort}/`));
        assert.equal(hostNet, 'hello from 127.0.0.1\n');
        const none = ok(env.den(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']));
        assert.equal(none, 'lo\n');
      } finally {
        open.close();
        loopbackOnly.close();
      }
      await noLeaks();
    });

    test('--network NAME: containers reach each other by name and alias, not from another network; inspect shows the address', async () => {
      ok(env.den(['network', 'create', 'backend']));
      ok(env.den(['network', 'create', 'elsewhere']));
      ok(
        env.den([
          'run',
          '-d',
          '--name',
          'db',
          '--network',
          'backend',
          '--network-alias',
          'database',
          'busybox',
          'httpd',
          '-f',
          '-p',
          '80',
          '-h',
          '/etc',
        ]),
      );
      const [ip, gateway, onBackend] = ok(
        env.den([
          'inspect',
          '-f',
          '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.Networks.backend.IPAddress}}',
          'db',
        ]),
      )
        .trim()
        .split(' ');
      assert.match(ip!, /^10\.89\.\d+\.\d+$/);
      assert.equal(onBackend, ip);
      const id12 = ok(env.den(['inspect', '-f', '{{.Config.Hostname}}', 'db'])).trim();
      // busybox wget crashes here; nc speaks HTTP/1.0 well enough.
      const get = (host: string) =>
        `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | timeout -s KILL 5 nc ${host} 80 | tail -1`;
      const client = ok(
        env.den([
          'run',
          '--rm',
          '--network',
          'backend',
          'busybox',
          'sh',
          '-c',
          `cat /etc/resolv.conf; ${get('db')}; ${get('database')}`,
        ]),
      );
      assert.match(client, new RegExp(`^nameserver ${gateway!.replace(/\./g, '\\.')}$`, 'm'));
      assert.equal(client.split('\n').filter((l) => l === id12).length, 2, `by name and by alias: ${client}`);
      const stranger = env.den(['run', '--rm', '--network', 'elsewhere', 'busybox', 'sh', '-c', get('db')]);
      assert.doesNotMatch(stranger.stdout, new RegExp(id12), 'another network neither resolves nor reaches it');
      const unknown = env.den(['run', '--rm', '--network', 'nowhere', 'busybox', 'true']);
      assert.equal(unknown.status, 125);
      assert.match(unknown.stderr, /network nowhere not found/);
      ok(env.den(['rm', '-f', 'db']));
      ok(env.den(['network', 'rm', 'backend', 'elsewhere']));
      await noLeaks();
    });

    test('a monitor killed with SIGKILL: check --store names the helper and namespace left, the next command releases them', async () => {
      const id = ok(env.den(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '100'])).trim();
      const init = Number(ok(env.den(['inspect', '-f', '{{.State.Pid}}', 'orphan'])).trim());
      const conmon = spawnSync('pgrep', ['-f', `conmon .*${id}`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      assert.equal(conmon.length, 1, 'one monitor');
      process.kill(conmon[0]!, 'SIGKILL');
      process.kill(init, 'SIGKILL');
      await sleep(300);
      const check = env.den(['system', 'check', '--store']);
      assert.match(
        check.stdout,
        new RegExp(`network .*container ${id.slice(0, 12)}: its network helper \\(pid \\d+\\) outlived it`),
      );
      assert.match(check.stdout, /its network namespace is still mounted/);
      assert.match(ok(env.den(['ps', '-a', '--format', '{{.Names}} {{.State}}'])), /^orphan exited$/m);
      assert.match(env.den(['system', 'check', '--store']).stdout, /^ok +network +none$/m);
      ok(env.den(['rm', 'orphan']));
      await noLeaks();
    });

    test('den killed at any point of a start leaves nothing that rm -f and the next command do not clean', async () => {
      for (const delay of [150, 300, 450, 600, 900]) {
        const child = env.spawnDen([
          'run',
          '-d',
          '--name',
          `k${delay}`,
          '-p',
          '127.0.0.1::80',
          'busybox',
          'sleep',
          '100',
        ]);
        child.stdin.end();
        await sleep(delay);
        const exited = child.exitCode !== null || child.signalCode !== null;
        if (!exited) await new Promise((resolve) => (child.kill('SIGKILL'), child.on('exit', resolve)));
      }
      const names = ok(env.den(['ps', '-a', '--format', '{{.Names}}']))
        .split('\n')
        .filter(Boolean);
      for (const name of names) ok(env.den(['rm', '-f', name]));
      await noLeaks();
      assert.deepEqual(env.strayProcesses(), [], 'no process of the environment is left');
    });
  });
