import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostsFile, resolvConf } from './etc-files.js';
import { networkDriver } from './network-driver.js';
import { formatNetworkMode, parseNetworkMode, recordedNetworkMode } from './network-mode.js';
import { formatPortsColumn, parseExpose, parsePublish, takeHostPorts } from './ports.js';
import { pastaArgv, RELEASE_NETWORK, setupCommands, type UserModeSetup } from './user-mode.js';
import { createServer } from 'node:net';

test('none: a namespace the runtime makes, and /etc/hosts that knows only loopback and the container', () => {
  const none = networkDriver({ kind: 'none' });
  assert.equal(none.namespace('/x/netns'), 'new');
  assert.equal(
    none.hosts({ hostname: 'web' }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb\n',
  );
  assert.equal(none.setup({} as UserModeSetup), '');
});

test("host: the caller's namespace, and the host's /etc/hosts with the container's name added", () => {
  const host = networkDriver({ kind: 'host' });
  assert.equal(host.namespace('/x/netns'), 'host');
  const hosts = host.hosts({ hostname: 'web' });
  assert.ok(hosts.startsWith(readFileSync('/etc/hosts', 'utf8').trimEnd()));
  assert.match(hosts, /127\.0\.1\.1\tweb\n/);
});

test('pasta: the namespace file is joined; the container is 10.0.2.100 and the host has a name', () => {
  const pasta = networkDriver({ kind: 'pasta', options: [] });
  assert.deepEqual(pasta.namespace('/x/netns'), { path: '/x/netns' });
  const hosts = pasta.hosts({
    hostname: 'web',
    extraHosts: [
      { name: 'db', address: '10.1.1.1' },
      { name: 'gw', address: 'host-gateway' },
    ],
  });
  assert.match(hosts, /^10\.0\.2\.100\tweb$/m);
  assert.match(hosts, /^10\.1\.1\.1\tdb$/m);
  // host-gateway is the address host.containers.internal has
  const host = /^(\S+)\thost\.containers\.internal host\.docker\.internal$/m.exec(hosts);
  if (host) assert.match(hosts, new RegExp(`^${host[1]!.replace(/\./g, '\\.')}\\tgw$`, 'm'));
  assert.equal(
    pasta.resolvConf({ hostname: 'web', dns: ['1.1.1.1'], dnsSearch: ['.'], dnsOptions: ['ndots:2'] }),
    'nameserver 1.1.1.1\noptions ndots:2\n',
  );
  assert.match(pasta.resolvConf({ hostname: 'web' }), /^nameserver 10\.0\.2\.3$/m);
});

test('network modes: docker strings in, the recorded form out, bad ones refused', () => {
  assert.deepEqual(parseNetworkMode('bridge'), { kind: 'default' });
  assert.deepEqual(parseNetworkMode('pasta:--map-gw,-T,auto'), { kind: 'pasta', options: ['--map-gw', '-T', 'auto'] });
  assert.equal(
    formatNetworkMode(parseNetworkMode('slirp4netns:allow_host_loopback=true,mtu=1500') as never),
    'slirp4netns:allow_host_loopback=true,mtu=1500',
  );
  assert.deepEqual(parseNetworkMode('container:web'), { kind: 'container', container: 'web' });
  assert.deepEqual(parseNetworkMode('backend'), { kind: 'network', name: 'backend' });
  assert.deepEqual(recordedNetworkMode('host'), { kind: 'host' });
  for (const bad of ['container:', 'none:x', 'slirp4netns:bogus=1', 'slirp4netns:mtu=10', '-x', 'a b']) {
    assert.throws(
      () => parseNetworkMode(bad),
      (e: { code?: string }) => /^DEN120[12]$/.test(e.code ?? ''),
      bad,
    );
  }
});

test('-p: docker syntax with addresses, ranges and protocols', () => {
  assert.deepEqual(parsePublish('80'), [{ hostIp: '', containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('8080:80/udp'), [
    { hostIp: '', hostPorts: [8080, 8080], containerPort: 80, protocol: 'udp' },
  ]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ hostIp: '127.0.0.1', containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('[::1]:8080:80'), [
    { hostIp: '::1', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' },
  ]);
  assert.deepEqual(
    parsePublish('8000-8001:80-81').map((r) => [r.hostPorts, r.containerPort]),
    [
      [[8000, 8000], 80],
      [[8001, 8001], 81],
    ],
  );
  assert.deepEqual(parsePublish('9000-9010:80')[0]!.hostPorts, [9000, 9010]);
  for (const bad of ['', 'x', '0', '70000', '80/icmp', '1.2.3:80:80', '8000-8002:80-81', '90-80', 'a:b:c:d']) {
    assert.throws(() => parsePublish(bad), { code: 'DEN1203' }, bad);
  }
  assert.deepEqual(parseExpose('80-81/udp'), ['80/udp', '81/udp']);
  assert.throws(() => parseExpose('80/tcp/x'), { code: 'DEN1204' });
  assert.equal(
    formatPortsColumn([{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ['80/tcp', '53/udp']),
    '0.0.0.0:8080->80/tcp, :::8080->80/tcp, 53/udp',
  );
});

test('host ports: a port in use is refused before anything starts, a free one is found, and low ports are refused rootless', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const busy = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      takeHostPorts([{ hostIp: '127.0.0.1', hostPorts: [busy, busy], containerPort: 80, protocol: 'tcp' }], {
        rootless: false,
        containerName: 'c',
      }),
      { code: 'DEN1207' },
    );
    const [p] = await takeHostPorts(
      [{ hostIp: '127.0.0.1', hostPorts: [busy, busy + 1], containerPort: 80, protocol: 'tcp' }],
      { rootless: false, containerName: 'c' },
    );
    assert.equal(p!.hostPort, busy + 1);
    const [any] = await takeHostPorts([{ hostIp: '127.0.0.1', containerPort: 53, protocol: 'udp' }], {
      rootless: false,
      containerName: 'c',
    });
    assert.ok(any!.hostPort > 0);
    await assert.rejects(
      takeHostPorts([{ hostIp: '', hostPorts: [80, 80], containerPort: 80, protocol: 'tcp' }], {
        rootless: true,
        containerName: 'c',
      }),
      { code: 'DEN1206' },
    );
    await assert.rejects(
      takeHostPorts([{ hostIp: '', containerPort: 80, protocol: 'sctp' }], { rootless: false, containerName: 'c' }),
      { code: 'DEN1205' },
    );
  } finally {
    server.close();
  }
});

test("pasta's command: ports by protocol, no way to the host's loopback unless asked, user options win", () => {
  const setup: UserModeSetup = {
    netnsFile: '/c/lower/netns',
    pidFile: '/c/net.pid',
    logFile: '/c/net.log',
    apiSocket: '/c/s',
    ports: [
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ],
  };
  const argv = pastaArgv(setup, []);
  assert.deepEqual(argv.slice(argv.indexOf('-t'), argv.indexOf('-t') + 4), [
    '-t',
    '127.0.0.1/8080:80',
    '-u',
    '5353:53',
  ]);
  assert.ok(argv.includes('--no-map-gw'));
  assert.deepEqual(argv.slice(-2), ['--netns', '/c/lower/netns']);
  const open = pastaArgv({ ...setup, ports: [] }, ['--map-gw', '-T', 'auto']);
  assert.ok(!open.includes('--no-map-gw') && !open.includes('--map-gw'));
  assert.equal(open.filter((a) => a === '-T').length, 1);
  assert.ok(open.includes('-t') && open[open.indexOf('-t') + 1] === 'none');
  // Quoted for the shell: a path with a quote in it stays one word.
  assert.match(
    setupCommands({ ...setup, netnsFile: "/c/it's/netns" }, { kind: 'pasta', argv: ['pasta'] }),
    /'\/c\/it'\\''s\/netns'/,
  );
});

test('RELEASE_NETWORK stops the recorded helper only if it is one, with builtins only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'den-release-'));
  try {
    mkdirSync(join(dir, 'rootfs'));
    const fake = join(dir, 'slirp4netns');
    copyFileSync('/bin/sleep', fake);
    spawnSync('chmod', ['755', fake]);
    const helper = spawn(fake, ['30'], { stdio: 'ignore' });
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => helper.on('exit', resolve));
    writeFileSync(join(dir, 'net.pid'), `${other.pid}\n`);
    spawnSync('/bin/sh', ['-c', RELEASE_NETWORK, 'x', join(dir, 'rootfs')], { env: { PATH: '' } });
    assert.equal(other.exitCode, null, 'a process that is not a network helper is left alone');
    writeFileSync(join(dir, 'net.pid'), `${helper.pid}\n`);
    const r = spawnSync('/bin/sh', ['-c', RELEASE_NETWORK, 'x', join(dir, 'rootfs')], { env: { PATH: '' } });
    assert.equal(r.status, 0);
    assert.equal(await exited, null);
    assert.equal(readFileSync(join(dir, 'net.pid'), 'utf8'), '');
    other.kill();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('etc files: hosts lists extra hosts last; resolv.conf keeps the host search unless replaced', () => {
  assert.equal(
    hostsFile({
      hostname: 'h',
      hostNetwork: false,
      address: '10.0.2.100',
      hostAddress: '192.0.2.2',
      extraHosts: [{ name: 'x', address: '1.2.3.4' }],
    }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.2.100\th\n192.0.2.2\thost.containers.internal host.docker.internal\n1.2.3.4\tx\n',
  );
  assert.match(resolvConf({ dnsSearch: ['a.example', 'b.example'] }), /^search a\.example b\.example$/m);
});
