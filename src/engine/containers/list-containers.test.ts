import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../containers/index.js';
import type { ImageRecord } from '../../images/index.js';
import { CONTAINER_FILTERS, matchesText, parseContainerFilters, type FilterScope } from './list-containers.js';

const hex = (c: string) => c.repeat(64);

function container(
  over: Partial<ContainerRecord> & { layers?: string[]; labels?: Record<string, string> },
): ContainerRecord {
  const { layers = [hex('1')], labels = {}, ...rest } = over;
  return {
    id: hex('c'),
    name: 'web',
    imageId: `sha256:${hex('a')}`,
    imageName: 'busybox:latest',
    config: { layers, labels } as unknown as ContainerRecord['config'],
    status: 'running',
    pid: null,
    pidStart: null,
    monitor: null,
    initPid: null,
    exitCode: null,
    restartCount: 0,
    stopRequested: false,
    health: null,
    createdAt: '2026-12-07T18:00:00.000Z',
    startedAt: '2026-12-07T18:00:01.000Z',
    finishedAt: null,
    ...rest,
  };
}

const image = (id: string, chainIds: string[]) =>
  ({ id: `sha256:${id}`, layers: chainIds.map((c) => ({ chainId: `sha256:${c}` })) }) as unknown as ImageRecord;

const BASE = image(hex('a'), [hex('1')]);
const scope: FilterScope = {
  container: () => container({}),
  position: () => 0,
  image: (ref) => (ref === 'busybox' ? BASE : undefined),
};

const passes = (c: ContainerRecord, ...entries: string[]) =>
  [...parseContainerFilters(entries)].every(([k, v]) => CONTAINER_FILTERS[k]!.match(c, v, scope));

describe('den ps filters', () => {
  test("matchesText: docker's filters.Match, exact or an unanchored regular expression", () => {
    const table: [string, string, boolean][] = [
      ['web', 'web', true],
      ['we', 'web', true],
      ['^w.b$', 'web', true],
      ['^eb', 'web', false],
      ['[', '[', true],
      ['[', 'web', false],
    ];
    for (const [value, text, want] of table) assert.equal(matchesText(value, text), want, `${value} ~ ${text}`);
  });

  test('ancestor: the image itself, or one made on top of it (its layers continue the ancestor’s)', () => {
    assert.ok(passes(container({}), 'ancestor=busybox'));
    const child = container({ imageId: `sha256:${hex('b')}`, layers: [hex('1'), hex('2')] });
    assert.ok(passes(child, 'ancestor=busybox'), 'descended');
    const stranger = container({ imageId: `sha256:${hex('d')}`, layers: [hex('3'), hex('2')] });
    assert.ok(!passes(stranger, 'ancestor=busybox'));
    assert.ok(!passes(container({}), 'ancestor=missing'));
  });

  test('exited: only containers that ran and ended with the code', () => {
    assert.ok(passes(container({ status: 'exited', exitCode: 3 }), 'exited=3'));
    assert.ok(!passes(container({ status: 'exited', exitCode: 3, startedAt: null }), 'exited=3'));
    assert.ok(!passes(container({ status: 'running' }), 'exited=0'));
  });

  test('labels: each given must hold; status: one of the values', () => {
    const c = container({ labels: { tier: 'front', team: '' } });
    assert.ok(passes(c, 'label=tier', 'label=team'));
    assert.ok(!passes(c, 'label=tier=back'));
    assert.ok(passes(c, 'status=exited', 'status=running'));
  });

  test('bad filters are refused before anything is listed', () => {
    for (const [entry, message] of [
      ['colour=red', /invalid filter 'colour'/],
      ['status=sleeping', /invalid filter 'status=sleeping'/],
      ['exited=x', /an exit code is a number/],
      ['name', /expected KEY=VALUE/],
    ] as const) {
      assert.throws(() => parseContainerFilters([entry]), message);
    }
  });
});
