import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDenError } from '../common/errors.js';
import { formatRows, tabwrite, type ListFormat } from './output.js';

const LIST: ListFormat = {
  defaultTable: 'table {{.ID}}\t{{.Image}}\t{{.Names}}',
  titles: { ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES' },
};
const ROWS = [
  { ID: 'f00dfeedcafe', Image: 'busybox', Names: 'a', CreatedAt: '2024-01-01' },
  { ID: '0123456789ab', Image: 'registry.example/app:1', Names: 'longer-name', CreatedAt: '2024-01-02' },
];

test("tabwrite: docker's tabwriter (cells at least 10 wide, 3 spaces after the widest, the last cell unpadded)", () => {
  assert.equal(tabwrite('A\tB\tC\nxx\tyyyyyyyyyyyy\tz\n'), 'A         B              C\nxx        yyyyyyyyyyyy   z\n');
  // A line without tabs ends the block: the columns after it are measured anew.
  assert.equal(tabwrite('aaaaaaaaaaaaaa\tb\nplain\nc\td\n'), 'aaaaaaaaaaaaaa   b\nplain\nc         d\n');
  assert.equal(tabwrite('a\t\n'), 'a         \n');
});

test('formatRows: the default table, docker style', () => {
  const want =
    'CONTAINER ID   IMAGE                    NAMES\n' +
    'f00dfeedcafe   busybox                  a\n' +
    '0123456789ab   registry.example/app:1   longer-name\n';
  assert.equal(formatRows(undefined, ROWS, LIST), want);
  assert.equal(formatRows('', ROWS, LIST), want);
  assert.equal(formatRows('table', ROWS, LIST), want);
  assert.equal(formatRows(undefined, [], LIST), 'CONTAINER ID   IMAGE     NAMES\n');
});

test("formatRows: a table format's header comes from the command's titles, or from the field's name", () => {
  assert.equal(
    formatRows('table {{.ID}}\\t{{.Names}}', ROWS, LIST),
    'CONTAINER ID   NAMES\nf00dfeedcafe   a\n0123456789ab   longer-name\n',
  );
  assert.equal(
    formatRows('table {{.CreatedAt}}\\t{{upper .Names}}', ROWS.slice(0, 1), LIST),
    'CREATED AT   NAMES\n2024-01-01   A\n',
  );
  assert.equal(formatRows('table', [], LIST), 'CONTAINER ID   IMAGE     NAMES\n');
});

test('formatRows: templates without table, json, and escapes', () => {
  assert.equal(formatRows('{{.ID}}\\t{{.Names}}', ROWS, LIST), 'f00dfeedcafe\ta\n0123456789ab\tlonger-name\n');
  assert.equal(formatRows('{{.Names}}\\n--', ROWS.slice(0, 1), LIST), 'a\n--\n');
  assert.equal(formatRows('  {{.Names}}  ', ROWS.slice(0, 1), LIST), 'a\n');
  assert.equal(formatRows('json', ROWS.slice(0, 1), LIST), JSON.stringify(ROWS[0]) + '\n');
  assert.equal(formatRows('{{json .}}', ROWS.slice(0, 1), LIST), JSON.stringify(ROWS[0]) + '\n');
});

test('formatRows: a bad template fails before anything is printed, even with no rows', () => {
  for (const format of ['table {{.ID', '{{nosuch .ID}}']) {
    assert.throws(
      () => formatRows(format, [], LIST),
      (e: unknown) => isDenError(e) && e.code === 'DEN0709',
    );
  }
  assert.throws(
    () => formatRows('table {{.Nope}}', ROWS, LIST),
    (e: unknown) => isDenError(e) && e.code === 'DEN0710' && /can't evaluate field Nope/.test(e.message),
  );
});
