import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { networkDriver } from './network-driver.js';

test('none: a namespace of its own, and /etc/hosts that knows only loopback and the container', async () => {
  const none = networkDriver('none');
  assert.equal(none.namespace, 'own');
  assert.equal(none.hosts('web'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb\n');
  const link = await none.attach({ id: 'c', initPid: 1 });
  await link.detach();
});

test("host: the caller's namespace, and the host's /etc/hosts with the container's name added", () => {
  const host = networkDriver('host');
  assert.equal(host.namespace, 'host');
  const hosts = host.hosts('web');
  assert.ok(hosts.startsWith(readFileSync('/etc/hosts', 'utf8').trimEnd()));
  assert.ok(hosts.endsWith('127.0.1.1\tweb\n'));
  assert.equal(host.resolvConf(), readFileSync('/etc/resolv.conf', 'utf8'));
});
