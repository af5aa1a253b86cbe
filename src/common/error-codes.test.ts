import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';
import type { ErrorKind } from './errors.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(SRC, '..', 'docs', 'errors.md');

/** Every non-test source file under src/, with its text. */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'error-codes.ts') {
        out.push({ file: path.slice(SRC.length + 1), text: readFileSync(path, 'utf8') });
      }
    }
  };
  walk(SRC);
  return out;
}

const retired = (code: ErrorCode) => ERROR_CODES[code].meaning.startsWith('retired:');

test('docs/errors.md lists exactly the registry, in its order, with the same kinds and meanings', () => {
  const rows = readFileSync(DOC, 'utf8')
    .split('\n')
    .map((l) => /^\| (DEN\d{4}) \| (\w+)\s*\| (.*?)\s*\|$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ code: m[1], kind: m[2], meaning: m[3] }));
  const registry = Object.entries(ERROR_CODES).map(([code, e]) => ({ code, kind: e.kind, meaning: e.meaning }));
  assert.deepEqual(rows, registry);
});

test('every code thrown is thrown with the kind the registry gives it', () => {
  const helpers: Record<string, ErrorKind> = {
    notFound: 'NotFound',
    invalidArgument: 'InvalidArgument',
    failedPrecondition: 'FailedPrecondition',
    conflict: 'Conflict',
    alreadyExists: 'AlreadyExists',
    permissionDenied: 'PermissionDenied',
    unavailable: 'Unavailable',
    internal: 'Internal',
  };
  const wrong: string[] = [];
  let sites = 0;
  for (const { file, text } of sources()) {
    for (const m of text.matchAll(/\b(\w+)\(\s*'(DEN\d{4})'/g)) {
      const kind = helpers[m[1]!];
      if (!kind) continue;
      sites++;
      if (!isErrorCode(m[2]) || ERROR_CODES[m[2]].kind !== kind) wrong.push(`${file}: ${m[2]} thrown as ${kind}`);
    }
    for (const m of text.matchAll(/new DenError\(\s*'(\w+)',\s*'(DEN\d{4})'/g)) {
      sites++;
      if (!isErrorCode(m[2]) || ERROR_CODES[m[2]].kind !== m[1]) wrong.push(`${file}: ${m[2]} thrown as ${m[1]}`);
    }
  }
  assert.ok(sites > 150, `found only ${sites} throw sites: has the way errors are made changed?`);
  assert.deepEqual(wrong, []);
});

test('every code in the registry is used somewhere, unless it is marked retired', () => {
  const all = sources()
    .map((s) => s.text)
    .join('\n');
  const unused = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => !retired(c) && !all.includes(`'${c}'`));
  assert.deepEqual(unused, []);
});
