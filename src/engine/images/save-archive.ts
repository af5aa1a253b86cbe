import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import {
  DenError,
  errnoCode,
  failedPrecondition,
  invalidArgument,
  notFound,
  unavailable,
} from '../../common/errors.js';
import { digestFromHash, hexOf, newHash, type Digest } from '../../content/index.js';
import {
  familiarName,
  familiarRepository,
  formatReference,
  MEDIA_TYPES,
  parseImageManifest,
  parseReference,
  type ImageRecord,
} from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { CONTAINERD_NAME, REF_NAME } from './load-archive.js';
import { imageEvent } from '../events.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['docker-archive', 'oci-archive'];

export interface SaveOptions {
  /** Images by name, id or id prefix; a name without a tag means every tag of that repository. */
  refs: string[];
  format?: ArchiveFormat;
  /** A file, written through a temporary file renamed into place; or a stream (standard output). */
  output: { path: string } | { stream: Writable };
}

/** One image to write and the names it goes under. */
interface Selected {
  image: ImageRecord;
  names: string[];
}

/** Entries get a fixed time, so that saving the same images twice writes the same bytes. */
const EPOCH = new Date(0);

/**
 * `den save`: images from the content store into a docker-archive (manifest.json, repositories,
 * `<config hex>.json`, `<blob hex>.tar`) or an oci-archive (an OCI image layout, names in the
 * ref.name annotations). Blobs go out as stored, compressed as they were pulled or imported, so
 * every digest, and in an oci-archive the manifest's too, is what it was; each is hashed again on
 * the way out. The metadata is written before the layers, so that a reader of the stream (den
 * load) knows what each layer is when it arrives.
 *
 * Everything that can fail for a reason other than I/O (an unknown image, a missing blob) fails
 * before the first byte is written; a file is written under a temporary name and renamed into place
 * only when complete.
 */
export async function saveArchive(ctx: EngineContext, options: SaveOptions): Promise<void> {
  const format = options.format ?? 'docker-archive';
  if (!ARCHIVE_FORMATS.includes(format)) {
    throw invalidArgument('DEN0965', `unknown archive format "${String(format)}"`, {
      hint: 'use --format docker-archive or --format oci-archive',
    });
  }
  const selected = select(ctx, options.refs);
  const entries = format === 'docker-archive' ? dockerArchive(ctx, selected) : ociArchive(ctx, selected);
  if ('path' in options.output) await writeFile(options.output.path, entries);
  else await writeStream(options.output.stream, entries);
  for (const s of selected) ctx.emit(imageEvent('save', s.image.id, s.names[0] ?? s.image.id));
}

/** Resolves the references, merging the names of one image and keeping the order they were given in. */
function select(ctx: EngineContext, refs: string[]): Selected[] {
  const byId = new Map<Digest, Selected>();
  const add = (image: ImageRecord, name: string | undefined) => {
    const s = byId.get(image.id) ?? { image, names: [] };
    if (name !== undefined && !s.names.includes(name)) s.names.push(name);
    byId.set(image.id, s);
  };
  for (const ref of refs) {
    const repository = nameOnly(ref);
    if (repository !== undefined) {
      // As docker: a repository without a tag saves every tag of it.
      const tagged = ctx.images
        .list()
        .flatMap((image) =>
          image.names.filter((n) => repositoryPart(n) === repository).map((n) => [image, n] as const),
        );
      if (tagged.length > 0) {
        for (const [image, name] of tagged) add(image, name);
        continue;
      }
    }
    const image = ctx.images.find(ref);
    if (!image) {
      throw notFound('DEN0967', `image ${ref}: not found`, { hint: 'see `den images`' });
    }
    let canonical: string | undefined;
    try {
      canonical = formatReference(parseReference(ref));
    } catch {
      canonical = undefined;
    }
    add(image, canonical !== undefined && image.names.includes(canonical) ? canonical : undefined);
  }
  return [...byId.values()];
}

/** The canonical repository of a reference that names no tag or digest; undefined otherwise. */
function nameOnly(ref: string): string | undefined {
  if (ref.includes('@') || ref.lastIndexOf(':') > ref.lastIndexOf('/')) return undefined;
  try {
    return repositoryPart(formatReference(parseReference(ref)));
  } catch {
    return undefined;
  }
}

function repositoryPart(canonical: string): string {
  const ref = parseReference(canonical);
  return `${ref.domain}/${ref.path}`;
}

/** What goes into the tar, in order: bytes in memory, or a blob of the content store. */
type TarEntry =
  | { name: string; dir: true }
  | { name: string; data: Buffer }
  | { name: string; blob: Digest; path: string; size: number };

function dockerArchive(ctx: EngineContext, selected: Selected[]): TarEntry[] {
  const manifest = [];
  const repositories: Record<string, Record<string, string>> = {};
  const configs: TarEntry[] = [];
  const layers = new Map<Digest, TarEntry>();
  for (const { image, names } of selected) {
    configs.push({ name: `${hexOf(image.id)}.json`, data: ctx.content.readVerified(image.id) });
    for (const layer of image.layers) {
      layers.set(layer.digest, blobEntry(ctx, image, `${hexOf(layer.digest)}.tar`, layer.digest));
    }
    const refs = names.map((n) => parseReference(n));
    manifest.push({
      Config: `${hexOf(image.id)}.json`,
      RepoTags: refs.map((r) => familiarName(r)),
      Layers: image.layers.map((l) => `${hexOf(l.digest)}.tar`),
    });
    const top = image.layers[image.layers.length - 1];
    for (const r of refs) {
      if (top === undefined || r.tag === undefined) continue;
      (repositories[familiarRepository(r)] ??= {})[r.tag] = hexOf(top.chainId);
    }
  }
  return [
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    ...(Object.keys(repositories).length > 0
      ? [{ name: 'repositories', data: Buffer.from(JSON.stringify(repositories)) }]
      : []),
    ...configs,
    ...layers.values(),
  ];
}

function ociArchive(ctx: EngineContext, selected: Selected[]): TarEntry[] {
  const index = [];
  const manifests: TarEntry[] = [];
  const configs: TarEntry[] = [];
  const layers = new Map<Digest, TarEntry>();
  for (const { image, names } of selected) {
    const bytes = readBlob(ctx, image, image.manifestDigest);
    const manifest = parseImageManifest(bytes);
    manifests.push({ name: blobPath(image.manifestDigest), data: bytes });
    configs.push({ name: blobPath(manifest.config.digest), data: readBlob(ctx, image, manifest.config.digest) });
    for (const layer of manifest.layers) {
      layers.set(layer.digest, blobEntry(ctx, image, blobPath(layer.digest), layer.digest));
    }
    const descriptor = { mediaType: manifest.mediaType, digest: image.manifestDigest, size: bytes.length };
    if (names.length === 0) index.push(descriptor);
    for (const name of names) {
      index.push({ ...descriptor, annotations: { [CONTAINERD_NAME]: name, [REF_NAME]: name } });
    }
  }
  const dedupe = (list: TarEntry[]) => [...new Map(list.map((e) => [e.name, e])).values()];
  return [
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    {
      name: 'index.json',
      data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: index })),
    },
    { name: 'blobs', dir: true },
    { name: 'blobs/sha256', dir: true },
    ...dedupe(manifests),
    ...dedupe(configs),
    ...layers.values(),
  ];
}

function blobPath(digest: Digest): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

function blobEntry(ctx: EngineContext, image: ImageRecord, name: string, digest: Digest): TarEntry {
  return { name, blob: digest, path: ctx.content.path(digest), size: blobSize(ctx, image, digest) };
}

function readBlob(ctx: EngineContext, image: ImageRecord, digest: Digest): Buffer {
  blobSize(ctx, image, digest);
  return ctx.content.readVerified(digest);
}

function blobSize(ctx: EngineContext, image: ImageRecord, digest: Digest): number {
  try {
    return ctx.content.size(digest);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    throw failedPrecondition(
      'DEN0968',
      `image ${image.id.slice(7, 19)}: blob ${digest} is missing from the content store`,
      {
        hint: 'remove the image and pull, import or load it again',
      },
    );
  }
}

/** Writes the tar to a temporary file beside `path`, then renames it into place. */
async function writeFile(path: string, entries: TarEntry[]): Promise<void> {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    isDir = false;
  }
  if (isDir) throw invalidArgument('DEN0970', `cannot write ${path}: is a directory`);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o666);
  } catch (e) {
    throw cannotWrite(path, e);
  }
  try {
    await writeTar(createWriteStream('', { fd, autoClose: false }), entries);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e instanceof DenError ? e : cannotWrite(path, e);
  }
}

function cannotWrite(path: string, e: unknown): DenError {
  const dir = dirname(path);
  const why =
    errnoCode(e) === 'ENOENT'
      ? `directory ${dir} does not exist`
      : errnoCode(e) === 'EACCES'
        ? `permission denied in directory ${dir}`
        : (e as Error).message;
  return invalidArgument('DEN0970', `cannot write ${path}: ${why}`, { cause: e });
}

/** Standard output failing: the reader went away (den save | head), or the disk behind it is full. */
async function writeStream(out: Writable, entries: TarEntry[]): Promise<void> {
  try {
    await writeTar(out, entries);
  } catch (e) {
    if (e instanceof DenError) throw e;
    const why = errnoCode(e) === 'EPIPE' ? 'the reader closed it (broken pipe)' : (e as Error).message;
    throw unavailable('DEN0973', `cannot write the archive to standard output: ${why}`, { cause: e });
  }
}

async function writeTar(out: Writable, entries: TarEntry[]): Promise<void> {
  const tar = pack();
  const writing = pipeline(tar, out);
  try {
    for (const e of entries) await addEntry(tar, e);
    tar.finalize();
  } catch (e) {
    tar.destroy(e as Error);
    await writing.catch(() => undefined);
    throw e;
  }
  await writing;
}

async function addEntry(tar: Pack, e: TarEntry): Promise<void> {
  const header = { name: e.name, mtime: EPOCH, uid: 0, gid: 0 };
  if ('dir' in e) {
    await new Promise<void>((resolve, reject) =>
      tar.entry({ ...header, type: 'directory', mode: 0o755 }, (err) => (err ? reject(err) : resolve())),
    );
    return;
  }
  if ('data' in e) {
    await new Promise<void>((resolve, reject) =>
      tar.entry({ ...header, type: 'file', mode: 0o644 }, e.data, (err) => (err ? reject(err) : resolve())),
    );
    return;
  }
  // A blob is the trust boundary: what leaves the store is hashed again on the way out.
  const hash = newHash();
  const digest = e.blob;
  const verify = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const actual = digestFromHash(hash);
      if (actual === digest) cb();
      else {
        cb(
          failedPrecondition('DEN0969', `blob ${digest}: content store corrupted: content hashes to ${actual}`, {
            hint: 'remove the image and pull, import or load it again',
          }),
        );
      }
    },
  });
  let entry!: ReturnType<Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    entry = tar.entry({ ...header, type: 'file', mode: 0o644, size: e.size }, (err) => (err ? reject(err) : resolve()));
  });
  await Promise.all([pipeline(createReadStream(e.path), verify, entry), done]);
}
