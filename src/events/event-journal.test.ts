import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import {
  EventJournal,
  formatEventJson,
  formatEventLine,
  matchesEvent,
  newEvent,
  parseEventFilters,
  parseEventJson,
  type DenEvent,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'den-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const journalPath = () => join(dir, `events-${n++}.log`);

const event = (action: string, name = 'web', at?: bigint) =>
  newEvent('container', action, 'ab'.repeat(32), { name, image: 'busybox:latest', tier: 'front' }, at);

describe('events: the line, the JSON', () => {
  test("docker's line: UTC, nine fraction digits, attributes sorted", () => {
    const e = event('start', 'web', 1796667665_000000042n);
    assert.equal(
      formatEventLine(e),
      `2026-12-07T18:21:05.000000042Z container start ${'ab'.repeat(32)} (image=busybox:latest, name=web, tier=front)`,
    );
  });

  test('JSON keeps every digit of timeNano and reads back the same', () => {
    const e = event('die', 'web', 1796667665123456789n);
    const text = formatEventJson(e);
    assert.match(text, /"time":1796667665,"timeNano":1796667665123456789}$/);
    assert.deepEqual(parseEventJson(text), e);
    for (const torn of [text.slice(0, -5), '', 'null', '{"Type":"volume"}'])
      assert.equal(parseEventJson(torn), undefined);
  });

  test('filters: same key OR, keys AND; labels all; container by name or id prefix; image without tag', () => {
    const e = event('start');
    const m = (...f: string[]) => matchesEvent(e, parseEventFilters(f));
    assert.ok(m('event=stop', 'event=start'));
    assert.ok(!m('event=start', 'type=image'));
    assert.ok(m('container=web') && m('container=abab') && !m('container=we'.replace('we', 'x')));
    assert.ok(m('image=busybox') && m('image=busybox:latest') && !m('image=debian'));
    assert.ok(m('label=tier') && m('label=tier=front') && !m('label=tier', 'label=zone'));
    assert.throws(() => parseEventFilters(['colour=red']), /invalid filter 'colour'/);
    assert.throws(() => parseEventFilters(['nokey']), /invalid filter 'nokey'/);
  });
});

describe('EventJournal', () => {
  test('appends lines, and rotates at its bound keeping one older file', () => {
    const path = journalPath();
    const journal = new EventJournal(path, 2000);
    for (let i = 0; i < 40; i++) journal.append(event('start', `c${i}`));
    assert.ok(existsSync(`${path}.1`));
    assert.ok(statSync(path).size < 2000 + 300);
    assert.ok(statSync(`${path}.1`).size < 2000 + 300);
    const names = journal.history().map((e) => e.Actor.Attributes.name);
    assert.equal(names.at(-1), 'c39', 'the newest is kept');
    assert.ok(names.length < 40 && names.length > 10, `${names.length}`);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => Number(a!.slice(1)) - Number(b!.slice(1))),
      'in order',
    );
  });

  test('a torn last line (a writer killed mid-write) is skipped, and what follows it is read', () => {
    const path = journalPath();
    const journal = new EventJournal(path);
    journal.append(event('create'));
    writeFileSync(path, readFileSync(path, 'utf8') + '{"Type":"contai\n', { flag: 'w' });
    journal.append(event('start'));
    assert.deepEqual(
      journal.history().map((e) => e.Action),
      ['create', 'start'],
    );
  });

  test('follow delivers new events across rotations, and stops when aborted', async () => {
    const path = journalPath();
    const journal = new EventJournal(path, 1500);
    journal.append(event('create', 'old'));
    const seen: DenEvent[] = [];
    const stop = new AbortController();
    const following = journal.follow({ from: 'end', onEvent: (e) => seen.push(e), signal: stop.signal });
    for (let i = 0; i < 30; i++) {
      journal.append(event('start', `c${i}`));
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 120));
    }
    for (let i = 0; i < 30 && seen.length < 30; i++) await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await following;
    assert.deepEqual(
      seen.map((e) => e.Actor.Attributes.name),
      Array.from({ length: 30 }, (_, i) => `c${i}`),
    );
  });

  test('follow from the start with until: what is kept, then no more', async () => {
    const path = journalPath();
    const journal = new EventJournal(path);
    journal.append(event('create', 'a', 1000n));
    journal.append(event('start', 'a', 2000n));
    journal.append(event('die', 'a', 3000n));
    const seen: string[] = [];
    await journal.follow({ from: 'start', until: 2500n, onEvent: (e) => seen.push(e.Action) });
    assert.deepEqual(seen, ['create', 'start']);
  });

  test('dens appending at once never tear or lose a line', async () => {
    const path = journalPath();
    const module = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script =
      `const { EventJournal, newEvent } = await import(${JSON.stringify(module)});` +
      `const j = new EventJournal(${JSON.stringify(path)});` +
      `for (let i = 0; i < 200; i++) j.append(newEvent('container', 'start', process.argv[1] + '-' + i, { name: 'x'.repeat(300) }));`;
    const writers = [0, 1, 2, 3].map(
      (w) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, `w${w}`], {
            stdio: 'inherit',
          });
          child.on('close', resolve);
        }),
    );
    assert.deepEqual(await Promise.all(writers), [0, 0, 0, 0]);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 800);
    assert.ok(lines.every((l) => parseEventJson(l) !== undefined));
    assert.equal(new Set(lines.map((l) => parseEventJson(l)!.Actor.ID)).size, 800);
  });
});
