import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { DenError } from '../common/errors.js';
import { compressionOf, decompressor, sniffCompression, type DecompressOptions } from './decompress.js';
import { END, chunked, rawEntry } from './tar-fixture.js';
import { unpackLayer } from './index.js';

const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const IGZIP = '/usr/bin/igzip';
const hasIgzip = spawnSync(IGZIP, ['--version']).status === 0;
// scripts/setup-host.sh installs isal; without it only zlib is tested, and the igzip tests say so.
const noIgzip = hasIgzip ? false : 'igzip is not installed (apt-get install isal)';
/** The gzip decoders: Node's zlib, and ISA-L's igzip in a process of its own. */
const GZIP_DECODERS: Array<[string, Partial<DecompressOptions>]> = [
  ['zlib', {}],
  ...(hasIgzip ? [['igzip', { igzip: IGZIP }] as [string, Partial<DecompressOptions>]] : []),
];
const noZstd = hasZstd ? false : 'zstd is not installed';
const root = process.getuid?.() === 0 ? false : 'unpacking sets file owners: run the tests as root';

const base = mkdtempSync(join(tmpdir(), 'den-decompress-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

function zstd(data: Buffer, ...args: string[]): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout;
}

async function decompress(input: Readable, options: Partial<DecompressOptions> = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    input,
    decompressor({ layer: 'sha256:test', ...options }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

async function failure(input: Readable, options: Partial<DecompressOptions> = {}): Promise<DenError> {
  try {
    await decompress(input, options);
  } catch (e) {
    assert.ok(e instanceof DenError, `not a DenError: ${String(e)}`);
    return e;
  }
  assert.fail('the stream was accepted');
}

/** zstd (or igzip) processes this test process started and that are still running. */
function zstdChildren(program = 'zstd'): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm === program && Number(ppid) === process.pid && state !== 'Z') pids.push(Number(name));
  }
  return pids;
}

async function noZstdChildrenLeft(program = 'zstd'): Promise<void> {
  for (let i = 0; i < 100 && zstdChildren(program).length > 0; i++) await sleep(20);
  assert.deepEqual(zstdChildren(program), [], `a ${program} process outlived its stream`);
}

test('sniffs the compression from the magic bytes', () => {
  const cases: Array<[number[], string]> = [
    [[0x1f, 0x8b, 8, 0], 'gzip'],
    [[0x28, 0xb5, 0x2f, 0xfd, 0], 'zstd'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
    [[0x42, 0x5a, 0x68, 0x39], 'bzip2'],
    [[0x2e, 0x2f, 0, 0], 'none'], // "./", a tar entry name
    [[0x1f], 'none'],
    [[], 'none'],
  ];
  for (const [bytes, expected] of cases) assert.equal(sniffCompression(Buffer.from(bytes)), expected, String(bytes));
});

test('reads the compression a media type names', () => {
  const cases: Array<[string, string]> = [
    ['application/vnd.oci.image.layer.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
  ];
  for (const [mediaType, expected] of cases) assert.equal(compressionOf(mediaType), expected, mediaType);
  for (const mediaType of ['application/vnd.oci.image.layer.v1.tar+bzip2', 'application/json']) {
    assert.throws(
      () => decompressor({ layer: 'sha256:ab', mediaType }),
      (e: DenError) => e.code === 'DEN0325' && e.message.startsWith('layer sha256:ab: unsupported compression'),
    );
  }
});

test(
  'plain, gzip and zstd streams come out as they went in, across every chunk boundary',
  { skip: noZstd },
  async () => {
    const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20, 'z')]);
    const forms: Array<[string, Buffer]> = [
      ['plain', data],
      ['gzip', gzipSync(data)],
      ['gzip, two members', Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))])],
      ['zstd', zstd(data)],
      ['zstd, two frames', Buffer.concat([zstd(data.subarray(0, 1000)), zstd(data.subarray(1000))])],
    ];
    for (const [decoder, options] of GZIP_DECODERS) {
      for (const [what, blob] of forms) {
        for (const sizes of [[1, 2, 3, 65536], [1 << 20], [blob.length]]) {
          const out = await decompress(chunked(blob, sizes), options);
          assert.ok(out.equals(data), `${what} in chunks of ${sizes.join(',')} (gzip by ${decoder})`);
        }
      }
    }
  },
);

test('the decompressor says what the blob was, whatever its chunks', { skip: noZstd }, async () => {
  const data = Buffer.concat([Buffer.from('./etc/'), randomBytes(10_000)]);
  const cases: Array<[string, Buffer, string]> = [
    ['plain tar', data, 'none'],
    ['gzip', gzipSync(data), 'gzip'],
    ['zstd', zstd(data), 'zstd'],
    ['empty', Buffer.alloc(0), 'none'],
    ['shorter than a magic number', Buffer.from([0x1f, 0x8b]), 'gzip'],
    ['one byte of a magic number', Buffer.from([0x1f]), 'none'],
  ];
  for (const [what, blob, expected] of cases) {
    for (const sizes of [[1], [blob.length || 1]]) {
      const d = decompressor({ layer: 'sha256:test' });
      assert.equal(d.compression, undefined, `${what}: nothing read yet`);
      await pipeline(chunked(blob, sizes), d, new Writable({ write: (_c, _e, cb) => cb() })).catch(() => {});
      assert.equal(d.compression, expected, `${what} in chunks of ${sizes.join(',')}`);
    }
  }
});

test('inputs shorter than any magic number pass through', async () => {
  assert.deepEqual(await decompress(chunked(Buffer.alloc(0))), Buffer.alloc(0));
  assert.deepEqual(await decompress(chunked(Buffer.from('abc'), [1])), Buffer.from('abc'));
  assert.deepEqual(await decompress(chunked(Buffer.from([0x1f]))), Buffer.from([0x1f]));
});

test('the bytes decide, not a media type that says otherwise', { skip: noZstd }, async () => {
  const data = randomBytes(100_000);
  const gzipType = 'application/vnd.oci.image.layer.v1.tar+gzip';
  assert.ok((await decompress(chunked(data), { mediaType: gzipType })).equals(data));
  assert.ok((await decompress(chunked(zstd(data)), { mediaType: gzipType })).equals(data));
});

test(
  'igzip and zlib give the same bytes: one member or several, padded with zeros, any chunks',
  { skip: noIgzip },
  async () => {
    // Ends in zero bytes of its own (a tar's end blocks), so that the trailer's size ends in zeros too.
    const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(1 << 20, 'x'), Buffer.alloc(1 << 16)]);
    const forms: Array<[string, Buffer]> = [
      ['one member', gzipSync(data)],
      ['one member, best compression', gzipSync(data, { level: 9 })],
      ['one member, stored', gzipSync(data, { level: 0 })],
      [
        'three members',
        Buffer.concat([
          gzipSync(data.subarray(0, 10)),
          gzipSync(data.subarray(10, 99_999)),
          gzipSync(data.subarray(99_999)),
        ]),
      ],
      ['one member and 3 MB of zeros', Buffer.concat([gzipSync(data), Buffer.alloc(3 << 20)])],
      ['one member and one zero', Buffer.concat([gzipSync(data), Buffer.alloc(1)])],
      ['empty', gzipSync(Buffer.alloc(0))],
      ['a size ending in zero bytes', gzipSync(Buffer.alloc(1 << 16, 1))],
    ];
    for (const [what, blob] of forms) {
      for (const sizes of [[1, 7, 4096], [1 << 20]]) {
        const zlib = await decompress(chunked(blob, sizes));
        const igzip = await decompress(chunked(blob, sizes), { igzip: IGZIP });
        assert.ok(
          zlib.equals(igzip),
          `${what} in chunks of ${sizes.join(',')}: zlib ${zlib.length} bytes, igzip ${igzip.length}`,
        );
      }
    }
    await noZstdChildrenLeft('igzip');
  },
);

test('corrupt, truncated and trailing-garbage gzip: zlib and igzip refuse it alike (DEN0322)', async () => {
  const blob = gzipSync(randomBytes(200_000));
  const corrupt = Buffer.from(blob);
  corrupt.fill(0x55, 1000, 1100);
  const badCrc = Buffer.from(blob);
  badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 6) ^ 0xff, badCrc.length - 6);
  const badSize = Buffer.from(blob);
  badSize.writeUInt8(badSize.readUInt8(badSize.length - 2) ^ 0x01, badSize.length - 2);
  const cases: Array<[string, Buffer]> = [
    ['truncated', blob.subarray(0, blob.length - 100)],
    ['truncated in the trailer', blob.subarray(0, blob.length - 3)],
    ['only a header', blob.subarray(0, 10)],
    ['corrupt', corrupt],
    ['a wrong CRC', badCrc],
    ['a wrong size', badSize],
    ['trailing garbage', Buffer.concat([blob, Buffer.from('garbage')])],
    ['trailing garbage then zeros', Buffer.concat([blob, Buffer.from('garbage'), Buffer.alloc(64)])],
    ['a broken second member', Buffer.concat([blob, blob.subarray(0, 30)])],
    ['a second header and nothing else', Buffer.concat([blob, Buffer.from([0x1f, 0x8b, 8, 0])])],
  ];
  for (const [decoder, options] of GZIP_DECODERS) {
    for (const [what, input] of cases) {
      for (const sizes of [[4096], [input.length]]) {
        const e = await failure(chunked(input, sizes), options);
        const where = `${what} (${decoder}, chunks of ${sizes[0]})`;
        assert.equal(e.code, 'DEN0322', `${where}: ${e.message}`);
        assert.equal(e.kind, 'InvalidArgument', where);
        assert.equal(e.reason, 'corrupt-compression', where);
        assert.match(e.message, /^layer sha256:test: gzip stream is truncated or corrupt: \S/, where);
      }
    }
  }
  await noZstdChildrenLeft('igzip');
});

test('destroying the stream midway kills igzip; a missing igzip is DEN1501', { skip: noIgzip }, async () => {
  const blob = gzipSync(Buffer.alloc(256 << 20, 'a'), { level: 1 });
  const d = decompressor({ layer: 'sha256:test', igzip: IGZIP });
  chunked(blob, [4096]).pipe(d);
  await new Promise<void>((resolve) => d.once('data', () => resolve()));
  assert.ok(zstdChildren('igzip').length > 0, 'igzip runs');
  d.destroy();
  await noZstdChildrenLeft('igzip');
  const e = await failure(chunked(gzipSync(Buffer.from('x'))), { igzip: '/nonexistent/igzip' });
  assert.equal(e.code, 'DEN1501');
  assert.match(e.message, /cannot run \/nonexistent\/igzip/);
});

test('a truncated or corrupt gzip stream is DEN0322 naming the layer', async () => {
  const blob = gzipSync(randomBytes(200_000));
  const truncated = await failure(chunked(blob.subarray(0, blob.length - 100), [4096]));
  assert.equal(truncated.code, 'DEN0322');
  assert.equal(truncated.kind, 'InvalidArgument');
  assert.match(truncated.message, /^layer sha256:test: gzip stream is truncated or corrupt: unexpected end of file/);
  const corrupt = Buffer.from(blob);
  corrupt.fill(0x55, 1000, 1100);
  assert.equal((await failure(chunked(corrupt))).code, 'DEN0322');
  const badCrc = Buffer.from(blob);
  badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 6) ^ 0xff, badCrc.length - 6); // in the CRC
  assert.equal((await failure(chunked(badCrc))).code, 'DEN0322');
});

test("a truncated or corrupt zstd stream is DEN0323 with zstd's own reason", { skip: noZstd }, async () => {
  const blob = zstd(randomBytes(2 << 20));
  const truncated = await failure(chunked(blob.subarray(0, blob.length - 1000), [65536]));
  assert.equal(truncated.code, 'DEN0323');
  assert.equal(truncated.kind, 'InvalidArgument');
  assert.match(truncated.message, /^layer sha256:test: zstd stream is truncated or corrupt: .*premature end/);
  const corrupt = Buffer.concat([blob.subarray(0, 4), randomBytes(5000)]);
  assert.equal((await failure(chunked(corrupt))).code, 'DEN0323');
  // zstd gives up early and stops reading: the 20 MB still to come must not wedge the stream.
  const early = Buffer.concat([blob.subarray(0, 4), randomBytes(20 << 20)]);
  assert.equal((await failure(chunked(early, [65536]))).code, 'DEN0323');
  await noZstdChildrenLeft();
});

test('xz and bzip2 layers are refused as such (DEN0325)', async () => {
  const xz = await failure(chunked(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3])));
  assert.equal(xz.code, 'DEN0325');
  assert.match(xz.message, /unsupported compression: xz/);
  assert.equal((await failure(chunked(Buffer.from('BZh91AY&SY')))).code, 'DEN0325');
});

test('without zstd, a zstd layer is DEN0324 with a hint', async () => {
  const e = await failure(chunked(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])), {
    zstd: '/nonexistent/zstd',
  });
  assert.equal(e.code, 'DEN0324');
  assert.equal(e.kind, 'FailedPrecondition');
  assert.match(e.hint ?? '', /install zstd/);
});

test('destroying the stream midway kills zstd', { skip: noZstd }, async () => {
  const blob = zstd(Buffer.alloc(256 << 20, 'a'), '-1');
  const d = decompressor({ layer: 'sha256:test' });
  chunked(blob, [4096]).pipe(d);
  await new Promise<void>((resolve) => d.once('data', () => resolve()));
  assert.ok(zstdChildren().length > 0, 'zstd runs');
  d.destroy();
  await noZstdChildrenLeft();
});

test('an abort signal stops the stream and kills zstd', { skip: noZstd }, async () => {
  const blob = zstd(Buffer.alloc(256 << 20, 'b'), '-1');
  const abort = new AbortController();
  const slow = new Writable({
    highWaterMark: 1,
    write(_chunk, _enc, cb) {
      setTimeout(cb, 5);
    },
  });
  const done = pipeline(chunked(blob, [4096]), decompressor({ layer: 'l', signal: abort.signal }), slow);
  await sleep(100);
  abort.abort();
  await assert.rejects(done, (e: Error) => e.name === 'AbortError');
  await noZstdChildrenLeft();
});

test('a slow reader gets every byte: zstd waits rather than anything being dropped', { skip: noZstd }, async () => {
  const data = randomBytes(12 << 20);
  const out: Buffer[] = [];
  await pipeline(
    chunked(zstd(data), [100_000]),
    decompressor({ layer: 'l' }),
    new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        setImmediate(cb);
      },
    }),
  );
  assert.ok(Buffer.concat(out).equals(data));
});

test(
  'a hostile entry in a zstd layer: the unpack fails, and zstd does not outlive it',
  { skip: noZstd || root },
  async () => {
    const archive = Buffer.concat([
      rawEntry({ name: 'ok' }, 'fine'),
      rawEntry({ name: '../evil' }, 'x'),
      rawEntry({ name: 'padding' }, randomBytes(8 << 20)),
      END,
    ]);
    const dest = join(mkdtempSync(join(base, 'unpack-')), 'dest');
    const input = chunked(zstd(archive), [65536]).pipe(decompressor({ layer: 'l' }));
    await assert.rejects(unpackLayer(input, dest, { canMknod: true }), (e: DenError) => e.code === 'DEN0301');
    await noZstdChildrenLeft();
  },
);

test('a truncated gzip layer fails the unpack with DEN0322, not as a tar error', { skip: root }, async () => {
  const archive = Buffer.concat([rawEntry({ name: 'a' }, randomBytes(300_000)), rawEntry({ name: 'b' }, 'b'), END]);
  const blob = gzipSync(archive);
  const dest = join(mkdtempSync(join(base, 'unpack-')), 'dest');
  const input = chunked(blob.subarray(0, blob.length - 50), [8192]).pipe(decompressor({ layer: 'sha256:cut' }));
  await assert.rejects(
    unpackLayer(input, dest, { canMknod: true }),
    (e: DenError) => e.code === 'DEN0322' && e.message.startsWith('layer sha256:cut: gzip stream'),
  );
});
