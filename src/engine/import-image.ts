import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DenError, errnoCode, invalidArgument, notFound } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { digestFromHash, hexOf, newHash } from '../content/index.js';
import {
  DEFAULT_PATH,
  formatReference,
  MEDIA_TYPES,
  parseReference,
  type ImageConfig,
  type ImageRecord,
  type LayerRef,
} from '../images/index.js';
import type { UnpackStats } from '../unpack/index.js';
import type { EngineContext } from './context.js';
import { applyChanges } from './image-changes.js';
import { publishIndex } from './image-index.js';

export interface ImportOptions {
  /** A file path, or '-' for standard input. */
  source: string;
  /** NAME[:TAG] to give the image. */
  name?: string;
  /** Dockerfile instructions applied to the config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE). */
  changes?: string[];
  message?: string;
  onProgress?: (message: string) => void;
}

/**
 * `den import`: a root file system tarball (plain or gzip) becomes a one-layer image.
 *
 * The tarball streams once: its bytes go into the content store (hashed as they go) and, after
 * decompression, into the unpacker. Rootless, the unpacker is a second den process inside the
 * session, the only place files can be given the subordinate ids the tarball names. The layer is
 * unpacked into a temporary directory and renamed into place only when complete, and the image
 * record is written last, so a failure at any point leaves no half-made layer or image.
 */
export async function importImage(ctx: EngineContext, options: ImportOptions): Promise<ImageRecord> {
  const name = options.name ? formatReference(parseReference(options.name)) : undefined;
  const config = newImportConfig(options);
  const input = openSource(options.source);
  const content = ctx.content;
  content.init();
  mkdirSync(ctx.layout.layersDir, { recursive: true });
  const tmp = ctx.layout.tmpLayerDir(randomBytes(8).toString('hex'));
  const ingest = content.ingest();
  const diffHash = newHash();
  let stats: UnpackStats;
  let compressed = false;
  try {
    const head = await peek(input, 2);
    compressed = head[0] === 0x1f && head[1] === 0x8b;
    const tapDiff = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        diffHash.update(chunk);
        cb(null, chunk);
      },
    });
    const tapBlob = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        try {
          ingest.writeSync(chunk);
          cb(null, chunk);
        } catch (e) {
          cb(e as Error);
        }
      },
    });
    const stages: NodeJS.ReadWriteStream[] = [tapBlob];
    if (compressed) stages.push(createGunzip());
    stages.push(tapDiff);
    const tar = new PassThrough();
    // Both halves always run to the end before anything is cleaned up: the unpacker may still be
    // writing into tmp when the input fails, and the input must stop when the unpacker gives up.
    let feedError: unknown;
    let unpackError: unknown;
    const feeding = pipeline(input, ...(stages as [Transform]), tar).catch((e: unknown) => {
      feedError = e;
      tar.destroy();
    });
    const unpacking = (ctx.paths.rootless ? unpackInSession(ctx, tar, tmp) : unpackHere(tar, tmp)).catch(
      (e: unknown) => {
        unpackError = e;
        input.destroy();
        tar.destroy();
        return undefined;
      },
    );
    const [, result] = await Promise.all([feeding, unpacking]);
    // A broken compressed stream is the cause of whatever the unpacker then said about it.
    if (feedError !== undefined && isDecompressionError(feedError)) throw corruptInput(options.source, feedError);
    if (unpackError !== undefined) throw unpackError;
    if (feedError !== undefined || result === undefined) throw corruptInput(options.source, feedError);
    stats = result;
    if (ingest.size === 0) throw invalidArgument('DEN0435', `import source ${options.source}: the archive is empty`);
  } catch (e) {
    ingest.abort();
    removeTree(ctx, tmp);
    throw e;
  }
  const blob = ingest.commit();
  const diffId = digestFromHash(diffHash);
  const chainId = diffId; // a one-layer image: its chain id is its diff id
  const layerDir = ctx.layout.layerDir(hexOf(chainId));
  try {
    renameSync(tmp, layerDir);
  } catch (e) {
    // The same content was imported before, or by a concurrent den: keep the committed copy.
    const code = errnoCode(e);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    removeTree(ctx, tmp);
  }
  ctx.layers.add({
    chainId,
    diffId,
    parent: null,
    size: stats.bytes,
    entries: stats.entries,
    maxUid: stats.maxUid,
    maxGid: stats.maxGid,
  });

  config.rootfs.diff_ids = [diffId];
  const configDesc = content.put(JSON.stringify(config));
  const layer: LayerRef = {
    digest: blob.digest,
    size: blob.size,
    mediaType: compressed ? MEDIA_TYPES.layerGzip : MEDIA_TYPES.layer,
    diffId,
    chainId,
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configDesc.digest, size: configDesc.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  const manifestDesc = content.put(JSON.stringify(manifest));
  const record = {
    id: configDesc.digest,
    manifestDigest: manifestDesc.digest,
    config,
    layers: [layer],
    size: stats.bytes,
    createdAt: config.created ?? new Date().toISOString(),
  };
  ctx.images.add(record, name ? [name] : []);
  publishIndex(ctx);
  return { ...record, names: name ? [name] : [] };
}

function newImportConfig(options: ImportOptions): ImageConfig {
  const created = new Date().toISOString();
  const config: ImageConfig = {
    created,
    architecture: goArch(process.arch),
    os: 'linux',
    config: { Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created, created_by: 'den import', ...(options.message ? { comment: options.message } : {}) }],
  };
  applyChanges(config, options.changes ?? []);
  return config;
}

function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386' } as Record<string, string>)[arch] ?? arch;
}

function openSource(source: string): Readable {
  if (source === '-') return process.stdin;
  let isFile: boolean;
  try {
    isFile = !statSync(source).isDirectory();
  } catch {
    throw notFound('DEN0430', `import source ${source}: no such file`);
  }
  if (!isFile) throw invalidArgument('DEN0431', `import source ${source}: is a directory, not a tarball`);
  return createReadStream(source);
}

/** Reads the first bytes of a stream and puts them back, to sniff the compression. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      stream.unshift(chunk);
      resolve(chunk.subarray(0, n));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.alloc(0));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

function isDecompressionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function corruptInput(source: string, e: unknown): DenError {
  if (e instanceof DenError) return e;
  return invalidArgument('DEN0432', `import source ${source}: cannot read the archive: ${(e as Error).message}`, {
    cause: e,
  });
}

/**
 * Unpacks inside the rootless session: a den child process (`den __unpack DEST`) reads the tar on
 * its stdin and answers one JSON line: the stats, or the error it failed with.
 */
async function unpackInSession(ctx: EngineContext, tar: Readable, dest: string): Promise<UnpackStats> {
  const self = process.argv[1];
  if (!self) throw new Error('cannot find den entry script');
  const [file, ...args] = ctx.ns.wrap([process.execPath, self, '__unpack', dest]);
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  // The child may fail early (hostile entry) and stop reading: swallow the resulting EPIPE, the
  // child's own answer says why.
  child.stdin.on('error', () => {});
  // If the input breaks (truncated gzip), end the child's input too, or it waits for more forever.
  tar.on('error', () => child.stdin.destroy());
  tar.pipe(child.stdin);
  const status = await exited;
  tar.unpipe(child.stdin);
  const answer = parseAnswer(out);
  if (status === 0 && answer && 'stats' in answer) return answer.stats;
  if (answer && 'error' in answer) {
    const e = answer.error;
    throw new DenError(e.kind, e.code, e.message, e.hint ? { hint: e.hint } : {});
  }
  throw new DenError('Internal', 'DEN0433', `layer unpacker exited with status ${status}`);
}

type Answer =
  { stats: UnpackStats } | { error: { kind: DenError['kind']; code: string; message: string; hint?: string } };

function parseAnswer(out: string): Answer | undefined {
  const line = out.trim().split('\n').pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as Answer;
  } catch {
    return undefined;
  }
}

/** Root mode unpacks in this process. Loaded on demand: the unpacker is not on the run path. */
async function unpackHere(tar: Readable, dest: string): Promise<UnpackStats> {
  const { unpackLayer } = await import('../unpack/index.js');
  return unpackLayer(tar, dest, { canMknod: true, onWarning: warn });
}

function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Removes a store directory whose files may belong to subordinate ids: from inside the session. */
export function removeTree(ctx: EngineContext, dir: string): void {
  if (!existsSync(dir)) return;
  runSync(ctx.ns.wrap(['rm', '-rf', '--one-file-system', dir]));
}
