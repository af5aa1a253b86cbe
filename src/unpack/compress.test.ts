import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DenError } from '../common/errors.js';
import { gzipFile, type CompressOptions } from './compress.js';

const IGZIP = '/usr/bin/igzip';
const hasIgzip = spawnSync(IGZIP, ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'den-compress-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function gzip(path: string, options: CompressOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  await gzipFile(
    path,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
    options,
  );
  return Buffer.concat(out);
}

test('igzip and zlib both give a gzip stream of the file, the same bytes every time', async () => {
  const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(3 << 20, 'layer ')]);
  const path = join(dir, 'layer.tar');
  writeFileSync(path, data);
  const decoders: Array<[string, CompressOptions]> = [
    ['zlib', {}],
    ...(hasIgzip ? [['igzip', { igzip: IGZIP }] as [string, CompressOptions]] : []),
  ];
  for (const [what, options] of decoders) {
    const once = await gzip(path, options);
    assert.deepEqual([...once.subarray(0, 2)], [0x1f, 0x8b], `${what}: a gzip header`);
    assert.equal(once.readUInt32LE(4), 0, `${what}: no time in the header`);
    assert.ok(gunzipSync(once).equals(data), `${what}: the file comes back`);
    assert.ok(once.length < data.length / 2, `${what}: compressed (${once.length} bytes)`);
    assert.ok((await gzip(path, options)).equals(once), `${what}: the same bytes again`);
  }
});

test('an igzip that cannot run is DEN1503 with a hint', async () => {
  const path = join(dir, 'small.tar');
  writeFileSync(path, 'x');
  await assert.rejects(
    gzip(path, { igzip: '/nonexistent/igzip' }),
    (e: DenError) =>
      e.code === 'DEN1503' &&
      /cannot gzip .*small\.tar with \/nonexistent\/igzip/.test(e.message) &&
      e.hint === 'DEN_GZIP=zlib compresses in den itself',
  );
});
