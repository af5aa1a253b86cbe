import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDenError, type DenError } from '../common/errors.js';
import { openDatabase } from '../state/index.js';
import { NetworkStore, type NetworkRequest } from './network-store.js';

function withStore(fn: (store: NetworkStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'den-netstore-'));
  const db = openDatabase(dir);
  try {
    fn(new NetworkStore(db));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const request = (name: string, more: Partial<NetworkRequest> = {}): NetworkRequest => ({
  name,
  internal: false,
  dnsEnabled: true,
  labels: {},
  options: {},
  ...more,
});

const code = (c: string) => (e: unknown) => isDenError(e) && (e as DenError).code === c;

test('the default network is there from the start, and stays', () => {
  withStore((store) => {
    const [den] = store.list();
    assert.equal(den?.name, 'den');
    assert.deepEqual(den?.subnets, [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]);
    assert.equal(den?.interface, 'den0');
    assert.throws(() => store.remove('den'), code('DEN1226'));
  });
});

test('create: free subnets in turn, names and subnets unique, gateways inside', () => {
  withStore((store) => {
    const a = store.create(request('a'));
    const b = store.create(request('b'));
    assert.deepEqual(a.subnets, [{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    assert.deepEqual(b.subnets, [{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }]);
    assert.equal(a.interface, `den${a.id.slice(0, 10)}`);
    assert.throws(() => store.create(request('a')), code('DEN1220'));
    assert.throws(() => store.create(request('c', { subnet: '10.89.0.128/25' })), code('DEN1223'));
    assert.throws(() => store.create(request('c', { subnet: '169.254.0.0/24' })), code('DEN1223'));
    assert.throws(() => store.create(request('c', { subnet: '10.50.0.0/24', gateway: '10.50.1.1' })), code('DEN1224'));
    const c = store.create(request('c', { subnet: '10.50.0.0/24', gateway: '10.50.0.254' }));
    assert.equal(c.subnets[0]?.gateway, '10.50.0.254');
    assert.equal(store.resolve(c.id.slice(0, 6)).name, 'c');
    assert.throws(() => store.resolve('nosuch'), code('DEN1222'));
  });
});

test('attach: the lowest free address past the gateway, --ip checked, interfaces in turn, in use blocks rm', () => {
  withStore((store) => {
    store.create(request('n', { subnet: '10.60.0.0/29' }));
    store.create(request('m', { subnet: '10.61.0.0/24' }));
    const one = store.attach('n', { containerId: 'c1', name: 'one', aliases: ['uno'] });
    assert.equal(one.attachment.ip, '10.60.0.2');
    assert.equal(one.attachment.interface, 'eth0');
    assert.equal(store.attach('m', { containerId: 'c1', name: 'one', aliases: [] }).attachment.interface, 'eth1');
    assert.throws(() => store.attach('n', { containerId: 'c1', name: 'one', aliases: [] }), code('DEN1227'));
    assert.equal(store.attach('n', { containerId: 'c1', name: 'one', aliases: [] }, true).attachment.ip, '10.60.0.2');
    assert.throws(
      () => store.attach('n', { containerId: 'c2', name: 'x', aliases: [], ip: '10.60.0.2' }),
      code('DEN1229'),
    );
    assert.throws(
      () => store.attach('n', { containerId: 'c2', name: 'x', aliases: [], ip: '10.60.0.1' }),
      code('DEN1228'),
    );
    assert.throws(
      () => store.attach('n', { containerId: 'c2', name: 'x', aliases: [], ip: '10.60.0.7' }),
      code('DEN1228'),
    );
    assert.equal(
      store.attach('n', { containerId: 'c2', name: 'x', aliases: [], ip: '10.60.0.6' }).attachment.ip,
      '10.60.0.6',
    );
    for (const id of ['c3', 'c4', 'c5']) store.attach('n', { containerId: id, name: id, aliases: [] });
    assert.throws(() => store.attach('n', { containerId: 'c6', name: 'c6', aliases: [] }), code('DEN1234'));
    assert.throws(() => store.remove('n'), code('DEN1225'));
    store.detach('n', 'c1', 'one');
    assert.throws(
      () => store.detach('n', 'c1', 'one'),
      (e) => isDenError(e) && e.reason === 'not-attached',
    );
    assert.equal(store.attach('n', { containerId: 'c7', name: 'c7', aliases: [] }).attachment.ip, '10.60.0.2');
    for (const id of ['c2', 'c3', 'c4', 'c5', 'c7']) store.forgetContainer(id);
    store.remove('n');
    assert.deepEqual(
      store.attachmentsOfContainer('c1').map((a) => a.network.name),
      ['m'],
    );
  });
});
