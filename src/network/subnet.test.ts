import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDenError } from '../common/errors.js';
import { formatSubnet, freeSubnet, isHostAddress, nextFree, overlaps, parseIPv4, parseSubnet } from './subnet.js';

test('parseSubnet: IPv4 networks in CIDR form, host bits clear, /8 to /30', () => {
  const cases: [string, string | RegExp][] = [
    ['10.89.0.0/24', '10.89.0.0/24'],
    ['192.168.0.0/16', '192.168.0.0/16'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['172.16.5.4/30', '172.16.5.4/30'],
    ['10.89.0.1/24', /it should be 10\.89\.0\.0\/24/],
    ['10.89.0.0/31', /invalid subnet/],
    ['10.0.0.0/7', /invalid subnet/],
    ['10.89.0.0', /invalid subnet/],
    ['10.89.0.256/24', /invalid subnet/],
    ['010.89.0.0/24', /invalid subnet/],
    ['10.89.0.0/024', /invalid subnet/],
    ['fd00::/64', /IPv6 networks are not supported yet/],
    ['', /invalid subnet/],
  ];
  for (const [text, want] of cases) {
    if (typeof want === 'string') {
      assert.equal(formatSubnet(parseSubnet(text)), want, text);
    } else {
      assert.throws(
        () => parseSubnet(text),
        (e) => isDenError(e) && e.code === 'DEN1221' && want.test(e.message),
        text,
      );
    }
  }
});

test('overlaps, host addresses and allocation', () => {
  const s = parseSubnet('10.89.0.0/30');
  assert.equal(overlaps(s, parseSubnet('10.89.0.0/24')), true);
  assert.equal(overlaps(s, parseSubnet('10.89.0.4/30')), false);
  assert.equal(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.255.255.252/30')), true);
  assert.equal(isHostAddress(s, parseIPv4('10.89.0.0')!), false, 'the network address');
  assert.equal(isHostAddress(s, parseIPv4('10.89.0.3')!), false, 'the broadcast address');
  assert.equal(isHostAddress(s, parseIPv4('10.89.0.2')!), true);
  assert.equal(nextFree(s, ['10.89.0.1']), '10.89.0.2');
  assert.equal(nextFree(s, ['10.89.0.1', '10.89.0.2']), undefined, 'a /30 holds two hosts');
  assert.equal(nextFree(parseSubnet('10.89.0.0/24'), ['10.89.0.1', '10.89.0.3']), '10.89.0.2');
});

test('freeSubnet: the first /24 from 10.89.0.0 that overlaps nothing in use', () => {
  assert.equal(formatSubnet(freeSubnet([parseSubnet('10.88.0.0/16')])!), '10.89.0.0/24');
  assert.equal(formatSubnet(freeSubnet([parseSubnet('10.89.0.0/24'), parseSubnet('10.89.1.0/25')])!), '10.89.2.0/24');
  assert.equal(formatSubnet(freeSubnet([parseSubnet('10.89.0.0/16')])!), '10.90.0.0/24');
});
