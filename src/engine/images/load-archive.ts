import { existsSync } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onAbort, throwIfAborted } from '../../common/abort.js';
import { DenError, invalidArgument } from '../../common/errors.js';
import { inputSize, openInputFile } from '../../common/fs.js';
import { spaceNeeded } from '../../state/index.js';
import { trace } from '../../common/trace.js';
import { chainIds, digestFromHash, digestOf, hexOf, newHash, type Digest } from '../../content/index.js';
import {
  checkContainerImage,
  formatReference,
  isIndexMediaType,
  isManifestMediaType,
  MAX_IMAGE_CONFIG_BYTES,
  layerMediaType,
  MAX_MANIFEST_BYTES,
  parseImageConfig,
  parseImageIndex,
  familiarName,
  parseImageManifest,
  parseReference,
  selectPlatform,
  synthesizeManifest,
  type Compression,
  type ImageConfig,
  type ImageRecord,
  type LayerRef,
} from '../../images/index.js';
import { ArchiveFiles, normalizeName, type ArchiveFile } from './archive-files.js';
import type { EngineContext } from '../context.js';
import { publishIndex } from './image-index.js';
import { gzipDecoder, storeLayer, type StoredLayer, type StoreLayerFailure } from './store-layer.js';
import { ownerTag, removeTree, sweepAbandoned, withLayerLock } from '../../snapshots/index.js';
import { imageEvent } from '../events.js';

export interface LoadOptions {
  /** A file path, or '-' for standard input. */
  source: string;
  /** The archive's bytes, instead of opening `source` (which then only names it). */
  input?: Readable;
  onWarning?: (message: string) => void;
  /**
   * Stops the load (common/abort.ts): it fails with the abort's reason and, as any failed load,
   * removes the layers and blobs it stored and its ingest files.
   */
  signal?: AbortSignal;
}

export interface LoadedImage {
  id: Digest;
  /** Canonical references the archive gave the image. */
  names: string[];
  /** Names that pointed at another image before, and that image. */
  moved: { name: string; from: Digest }[];
}

/** The annotations an OCI layout names its images by: containerd's full name, then OCI's own. */
export const CONTAINERD_NAME = 'io.containerd.image.name';
export const REF_NAME = 'org.opencontainers.image.ref.name';

interface LayerPlan {
  /** The archive path of the layer's blob. */
  file: string;
  diffId: Digest;
  chainId: Digest;
  parent: Digest | null;
  /** The media type the manifest gives (oci-archive); a docker-archive's layers are sniffed. */
  mediaType?: string;
  /** What the blob must be, when the archive says (an OCI descriptor, a blob named by its digest). */
  expected?: { digest: Digest; size?: number };
}

interface ImagePlan {
  id: Digest;
  configBytes: Buffer;
  config: ImageConfig;
  /** The archive's own manifest (oci-archive), kept byte for byte; a docker-archive has none. */
  manifest?: Buffer;
  names: string[];
  layers: LayerPlan[];
}

/** Thrown while planning before the archive's end: a file the plan needs has not arrived yet. */
class NotYet {
  constructor(readonly name: string) {}
}

/**
 * `den load`: every image of a docker-archive (docker save; manifest.json names config and layer
 * files, docker 25 adds an OCI layout around them) or an oci-archive (skopeo's tar of an OCI image
 * layout, names in the ref.name annotations), told apart by their content.
 *
 * The archive is read once, as a stream. Its files are spooled (small ones in memory, large ones
 * into the content store's ingest, where a layer blob would go anyway) until the end of the archive
 * says what they are; but once manifest and configs have been read, a layer entry whose place is
 * known streams straight into the layer store, so an archive that puts its metadata first (den
 * save does) is unpacked as it is read. Every layer goes through storeLayer, which checks it
 * against the config's diff id; a layer already in the store is not unpacked again, but its blob is
 * still hashed against the diff id before it is kept. Blobs named by digest are verified on commit.
 *
 * The image records are written last, all together, so that a failed load records no image; the
 * layers and blobs it stored that no image uses are removed again, and so are its ingest files.
 */
export async function loadArchive(ctx: EngineContext, options: LoadOptions): Promise<LoadedImage[]> {
  try {
    return await loadFrom(ctx, options);
  } catch (e) {
    // A full disk is said with how much the archive needed, when its size is known.
    const bytes = options.input ? undefined : inputSize(options.source);
    if (bytes === undefined) throw e;
    const what = options.source === '-' ? 'loading standard input' : `loading ${options.source}`;
    throw spaceNeeded(e, ctx.paths.dataDir, { what, blobBytes: bytes });
  }
}

async function loadFrom(ctx: EngineContext, options: LoadOptions): Promise<LoadedImage[]> {
  const describe = options.source === '-' ? 'on standard input' : options.source;
  const input =
    options.input ??
    openInputFile(options.source, `archive ${options.source}`, 'a tar archive', {
      missing: 'DEN0960',
      directory: 'DEN0961',
    });
  ctx.content.init();
  sweepAbandoned(ctx);
  const files = new ArchiveFiles(ctx.content, describe, ownerTag(), gzipDecoder(ctx));
  const load = new Load(ctx, files, options.onWarning ?? (() => {}), options.signal);
  const stopReading = onAbort(options.signal, (reason) => input.destroy(reason));
  try {
    await load.read(input);
    stopReading();
    trace('archive read');
    const plans = load.plan(true)!;
    const records: Omit<ImageRecord, 'names' | 'digests'>[] = [];
    for (const plan of plans) records.push(await load.store(plan));
    trace('layers stored');
    throwIfAborted(options.signal);
    const loaded = load.record(plans, records);
    trace('images recorded');
    return loaded;
  } finally {
    stopReading();
    load.cleanup();
  }
}

class Load {
  /** Layer files whose place was known before they arrived (from a plan made mid-archive). */
  private early = new Map<string, LayerPlan>();
  private waitingFor: string | undefined;
  /** Layers and blobs this load stored: those no image uses in the end are removed again. */
  private readonly storedLayers = new Set<Digest>();
  private readonly storedBlobs = new Set<Digest>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly files: ArchiveFiles,
    private readonly warn: (message: string) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async read(input: Readable): Promise<void> {
    await this.files.read(
      input,
      (name, size, data) => this.takeEarly(name, size, data),
      (name) => {
        if (name === 'manifest.json' || name === 'index.json' || name === 'oci-layout' || name === this.waitingFor) {
          this.planEarly();
        }
      },
    );
  }

  /** A plan made before the archive's end only decides which layers can stream; the final plan decides the rest. */
  private planEarly(): void {
    try {
      const plans = this.plan(false);
      if (!plans) return;
      this.early = new Map();
      for (const image of plans) {
        for (const layer of image.layers) {
          const file = normalizeName(layer.file);
          if (file !== undefined && !this.early.has(file)) this.early.set(file, layer);
        }
      }
    } catch {
      // Whatever is wrong will be said by the final plan, when the whole archive has been read.
    }
  }

  private async takeEarly(name: string, size: number, data: Readable): Promise<ArchiveFile | undefined> {
    const layer = this.early.get(name);
    if (!layer || this.layerPresent(layer.chainId)) return undefined;
    this.early.delete(name);
    const stored = await withLayerLock(
      this.ctx,
      hexOf(layer.chainId),
      () => this.layerPresent(layer.chainId),
      () => this.storeLayerFrom({ size }, data, layer, undefined),
      undefined,
      this.signal,
    );
    // Another den stored the layer meanwhile: spooled, and checked against the diff id later.
    if (stored === undefined) return undefined;
    trace(`streamed ${name.slice(0, 24)}`);
    return { size, blob: stored.digest, diffId: layer.diffId, compression: stored.compression };
  }

  /**
   * The images of the archive, from manifest.json (docker-archive) or index.json (oci-archive).
   * Before the archive's end (`final` false) a file that has not arrived yet makes it undefined.
   */
  plan(final: boolean): ImagePlan[] | undefined {
    try {
      let plans: ImagePlan[];
      if (this.files.get('manifest.json')) plans = this.planDocker();
      else if (this.files.get('index.json')) plans = this.planOci();
      else if (!final) return undefined;
      else {
        throw invalidArgument(
          'DEN0953',
          `archive ${this.files.describe}: unknown format: neither a docker-archive (manifest.json) nor an oci-archive (index.json)`,
          {
            hint: this.files.get('repositories')
              ? 'archives of docker before 1.10 (without manifest.json) are not supported'
              : 'give a file written by `den save`, `docker save` or `skopeo copy`',
          },
        );
      }
      if (plans.length === 0) {
        throw invalidArgument('DEN0964', `archive ${this.files.describe}: names no images`);
      }
      this.waitingFor = undefined;
      return plans;
    } catch (e) {
      if (!(e instanceof NotYet)) throw e;
      if (final) throw missing(this.files.describe, e.name);
      this.waitingFor = e.name;
      return undefined;
    }
  }

  private need(name: string): ArchiveFile {
    const file = this.files.get(name);
    if (!file) throw new NotYet(normalizeName(name) ?? name);
    return file;
  }

  private planDocker(): ImagePlan[] {
    const describe = this.files.describe;
    const bad = (why: string) =>
      invalidArgument('DEN0954', `archive ${describe}: malformed manifest.json: ${why}`, {
        hint: 'the archive is damaged, or was not written by docker save',
      });
    const text = this.files.bytes('manifest.json', this.need('manifest.json'), MAX_MANIFEST_BYTES).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw bad(`not JSON: ${(e as Error).message.slice(0, 200)}`);
    }
    if (!Array.isArray(doc)) throw bad('expected an array of images');
    const plans = new Map<Digest, ImagePlan>();
    doc.forEach((item: unknown, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(`[${i}]: expected an object`);
      const entry = item as Record<string, unknown>;
      const configFile = entry.Config;
      if (typeof configFile !== 'string') throw bad(`[${i}].Config: expected a file name`);
      const layerFiles = entry.Layers;
      if (!Array.isArray(layerFiles) || layerFiles.some((l) => typeof l !== 'string')) {
        throw bad(`[${i}].Layers: expected an array of file names`);
      }
      const tags = entry.RepoTags ?? [];
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
        throw bad(`[${i}].RepoTags: expected an array of names`);
      }
      const names = (tags as string[]).map((t) => {
        try {
          return formatReference(parseReference(t));
        } catch (e) {
          throw bad(`[${i}].RepoTags: ${(e as Error).message}`);
        }
      });
      const configBytes = this.files.bytes(configFile, this.need(configFile), MAX_IMAGE_CONFIG_BYTES);
      const id = digestOf(configBytes);
      const named = digestNamed(configFile);
      if (named !== undefined && named !== id) throw digestMismatch(describe, configFile, id);
      const config = parseImageConfig(configBytes, `${describe}: ${configFile}`);
      const plan = plans.get(id) ?? {
        id,
        configBytes,
        config,
        names: [],
        layers: layerPlans(config, layerFiles as string[], `${describe}: ${configFile}`),
      };
      for (const name of names) if (!plan.names.includes(name)) plan.names.push(name);
      plans.set(id, plan);
    });
    return [...plans.values()];
  }

  private planOci(): ImagePlan[] {
    const describe = this.files.describe;
    const layoutFile = this.need('oci-layout');
    let version: unknown;
    try {
      version = (
        JSON.parse(this.files.bytes('oci-layout', layoutFile, 4096).toString('utf8')) as Record<string, unknown>
      ).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== '1.0.0') {
      throw invalidArgument('DEN0959', `archive ${describe}: oci-layout: unsupported image layout version`, {
        hint: 'den reads OCI image layouts of version 1.0.0',
      });
    }
    const indexBytes = this.files.bytes('index.json', this.need('index.json'), MAX_MANIFEST_BYTES);
    const index = inContext(`archive ${describe}: index.json`, () => parseImageIndex(indexBytes));
    const plans = new Map<Digest, ImagePlan>();
    for (const entry of index.manifests) {
      let descriptor = entry;
      if (isIndexMediaType(entry.mediaType)) {
        // A multi-platform image: the host's platform, among the manifests the archive holds.
        const nestedBytes = this.blob(entry, MAX_MANIFEST_BYTES);
        const nested = inContext(`archive ${describe}: index ${entry.digest}`, () =>
          parseImageIndex(nestedBytes, entry.mediaType),
        );
        const present = nested.manifests.filter((m) => this.files.get(blobPath(m.digest)));
        if (present.length === 0) throw new NotYet(blobPath(nested.manifests[0]?.digest ?? entry.digest));
        descriptor = selectPlatform({ ...nested, manifests: present });
      } else if (!isManifestMediaType(entry.mediaType)) {
        continue;
      }
      const manifestBytes = this.blob(descriptor, MAX_MANIFEST_BYTES);
      const manifest = inContext(`archive ${describe}: manifest ${descriptor.digest}`, () => {
        const m = parseImageManifest(manifestBytes, descriptor.mediaType);
        checkContainerImage(m);
        return m;
      });
      const configBytes = this.blob(manifest.config, MAX_IMAGE_CONFIG_BYTES);
      const what = `${describe}: config ${manifest.config.digest}`;
      const config = parseImageConfig(configBytes, what);
      const files = manifest.layers.map((l) => blobPath(l.digest));
      const layers = layerPlans(config, files, what).map((plan, i) => ({
        ...plan,
        mediaType: manifest.layers[i]!.mediaType,
        expected: { digest: manifest.layers[i]!.digest, size: manifest.layers[i]!.size },
      }));
      const id = manifest.config.digest;
      const plan = plans.get(id) ?? { id, configBytes, config, manifest: manifestBytes, names: [], layers };
      const name = this.nameOf(entry.annotations ?? {});
      if (name !== undefined && !plan.names.includes(name)) plan.names.push(name);
      plans.set(id, plan);
    }
    return [...plans.values()];
  }

  /** containerd's full name, else OCI's ref.name, which skopeo fills with whatever it was given. */
  private nameOf(annotations: Record<string, string>): string | undefined {
    const name = annotations[CONTAINERD_NAME] ?? annotations[REF_NAME];
    if (name === undefined) return undefined;
    try {
      return formatReference(parseReference(name));
    } catch {
      this.warn(
        `archive ${this.files.describe}: image name "${name.slice(0, 200)}" is not a reference: loaded unnamed`,
      );
      return undefined;
    }
  }

  /** A small blob of an OCI layout (index, manifest, config), checked against its descriptor. */
  private blob(d: { digest: Digest; size: number }, limit: number): Buffer {
    const path = blobPath(d.digest);
    const file = this.need(path);
    if (file.size !== d.size) {
      throw invalidArgument(
        'DEN0957',
        `archive ${this.files.describe}: ${path} is ${file.size} bytes, the descriptor says ${d.size}`,
      );
    }
    const bytes = this.files.bytes(path, file, limit);
    const actual = digestOf(bytes);
    if (actual !== d.digest) throw digestMismatch(this.files.describe, path, actual);
    return bytes;
  }

  private layerPresent(chainId: Digest): boolean {
    return this.ctx.layers.has(chainId) && existsSync(this.ctx.layout.layerDir(hexOf(chainId)));
  }

  /**
   * Puts the layers of one image into the store, and its config and manifest into the content
   * store; returns its record, not yet written.
   */
  async store(plan: ImagePlan): Promise<Omit<ImageRecord, 'names' | 'digests'>> {
    const refs: LayerRef[] = [];
    let size = 0;
    for (const layer of plan.layers) {
      throwIfAborted(this.signal);
      const file = this.files.get(layer.file);
      if (!file) throw missing(this.files.describe, layer.file);
      const stored = this.layerPresent(layer.chainId)
        ? undefined
        : await withLayerLock(
            this.ctx,
            hexOf(layer.chainId),
            () => this.layerPresent(layer.chainId),
            async () => {
              const ingest = file.ingest;
              file.ingest = undefined;
              const s = await this.storeLayerFrom(file, this.files.stream({ ...file, ingest }), layer, ingest);
              file.data = undefined;
              file.blob = s.digest;
              file.diffId = layer.diffId;
              file.compression = s.compression;
              return s;
            },
            undefined,
            this.signal,
          );
      let blob: { digest: Digest; size: number };
      let compression: Compression;
      if (stored) {
        blob = { digest: stored.digest, size: stored.size };
        compression = stored.compression;
        size += stored.bytes;
      } else {
        ({ blob, compression } = await this.keepBlob(file, layer));
        size += this.ctx.layers.size(layer.chainId);
      }
      refs.push({
        digest: blob.digest,
        size: blob.size,
        mediaType: layer.mediaType ?? layerMediaType(compression),
        diffId: layer.diffId,
        chainId: layer.chainId,
      });
    }
    const configDesc = this.put(plan.configBytes);
    // A docker-archive has no manifest: den makes the one a registry would serve for these blobs.
    const manifestDesc = this.put(plan.manifest ?? synthesizeManifest(configDesc, refs));
    return {
      id: plan.id,
      manifestDigest: manifestDesc.digest,
      config: plan.config,
      layers: refs,
      size,
      createdAt: plan.config.created ?? new Date().toISOString(),
    };
  }

  private put(bytes: Buffer): { digest: Digest; size: number } {
    const digest = digestOf(bytes);
    if (!this.ctx.content.has(digest)) this.storedBlobs.add(digest);
    return this.ctx.content.put(bytes);
  }

  private async storeLayerFrom(
    file: { size: number },
    data: Readable,
    layer: LayerPlan,
    ingest: ArchiveFile['ingest'],
  ): Promise<{ digest: Digest; size: number; bytes: number; compression: Compression }> {
    this.storedLayers.add(layer.chainId);
    if (layer.expected) this.storedBlobs.add(layer.expected.digest);
    let stored: StoredLayer;
    try {
      stored = await storeLayer(this.ctx, {
        blob: data,
        describe: `archive ${this.files.describe}: layer ${layer.file}`,
        parent: layer.parent,
        diffId: layer.diffId,
        ...(layer.mediaType ? { mediaType: layer.mediaType } : {}),
        ...(layer.expected
          ? { expected: { digest: layer.expected.digest, size: layer.expected.size ?? file.size } }
          : {}),
        ...(ingest ? { ingest } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (e) {
      // storeLayer's advice is a puller's; for an archive there is one thing to do.
      if (e instanceof DenError && e.reason === ('diff-id-mismatch' satisfies StoreLayerFailure)) {
        throw new DenError(e.kind, e.code, e.message, {
          cause: e,
          reason: e.reason,
          hint: 'the archive is damaged or inconsistent: save it again',
        });
      }
      throw e;
    }
    this.storedBlobs.add(stored.blob.digest);
    return { ...stored.blob, bytes: stored.stats.bytes, compression: stored.compression };
  }

  /**
   * A layer already unpacked (by another image, or earlier in this archive): its blob is not
   * unpacked again, but decompressed and hashed against the diff id before it is kept, so that a
   * later `den save` never hands out bytes that are not the layer.
   */
  private async keepBlob(
    file: ArchiveFile,
    layer: LayerPlan,
  ): Promise<{ blob: { digest: Digest; size: number }; compression: Compression }> {
    if (file.diffId === layer.diffId && file.blob !== undefined && file.compression !== undefined) {
      return { blob: { digest: file.blob, size: file.size }, compression: file.compression };
    }
    const { decompressor } = await import('../../unpack/index.js');
    const describe = `archive ${this.files.describe}: layer ${layer.file}`;
    const blobHash = newHash();
    const diffHash = newHash();
    const decompress = decompressor({
      layer: describe,
      ...(layer.mediaType ? { mediaType: layer.mediaType } : {}),
      ...gzipDecoder(this.ctx),
    });
    try {
      await pipeline(
        this.files.stream(file),
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            blobHash.update(chunk);
            cb(null, chunk);
          },
        }),
        decompress,
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            diffHash.update(chunk);
            cb();
          },
        }),
        ...(this.signal ? [{ signal: this.signal }] : []),
      );
    } catch (e) {
      throwIfAborted(this.signal);
      if (e instanceof DenError) throw e;
      throw invalidArgument('DEN0958', `${describe}: cannot read the layer: ${(e as Error).message}`, { cause: e });
    }
    const diffId = digestFromHash(diffHash);
    if (diffId !== layer.diffId) {
      throw invalidArgument(
        'DEN0958',
        `${describe}: its uncompressed content hashes to ${diffId}, but the image config says ${layer.diffId}`,
        { hint: 'the archive is damaged or inconsistent: save it again' },
      );
    }
    const digest = digestFromHash(blobHash);
    if (layer.expected && layer.expected.digest !== digest)
      throw digestMismatch(this.files.describe, layer.file, digest);
    file.diffId = diffId;
    file.compression = decompress.compression ?? 'none';
    if (file.blob === undefined) {
      if (!this.ctx.content.has(digest)) this.storedBlobs.add(digest);
      if (file.ingest) file.ingest.commit({ digest });
      else this.ctx.content.put(file.data!);
      file.ingest = undefined;
      file.data = undefined;
      file.blob = digest;
    }
    return { blob: { digest: file.blob, size: file.size }, compression: file.compression };
  }

  /** Writes every image record and its names, in one go at the end, then the store's index.json. */
  record(plans: ImagePlan[], records: Omit<ImageRecord, 'names' | 'digests'>[]): LoadedImage[] {
    const loaded: LoadedImage[] = [];
    plans.forEach((plan, i) => {
      const moved: LoadedImage['moved'] = [];
      for (const name of plan.names) {
        const before = this.ctx.images.find(name);
        if (before && before.id !== plan.id) moved.push({ name, from: before.id });
      }
      this.ctx.images.add(records[i]!, plan.names);
      loaded.push({ id: plan.id, names: plan.names, moved });
      for (const name of plan.names.length > 0 ? plan.names : [plan.id]) {
        this.ctx.emit(imageEvent('load', plan.id, name === plan.id ? name : familiarName(parseReference(name))));
      }
    });
    publishIndex(this.ctx);
    return loaded;
  }

  /**
   * Removes what this load left that no image uses: ingest files always, and after a failure (or a
   * layer that streamed in early and then belonged to no image) the layers and blobs it stored.
   */
  cleanup(): void {
    this.files.abort();
    if (this.storedLayers.size === 0 && this.storedBlobs.size === 0) return;
    const used = new Set<string>();
    for (const image of this.ctx.images.list()) {
      used.add(image.id);
      used.add(image.manifestDigest);
      for (const l of image.layers) {
        used.add(l.chainId);
        used.add(l.digest);
      }
    }
    for (const chainId of this.storedLayers) {
      if (used.has(chainId)) continue;
      removeTree(this.ctx, this.ctx.layout.layerDir(hexOf(chainId)));
      this.ctx.layers.remove(chainId);
    }
    for (const digest of this.storedBlobs) if (!used.has(digest)) this.ctx.content.remove(digest);
  }
}

/** The layers of an image: the files the archive names, in order, with the config's diff ids. */
function layerPlans(config: ImageConfig, files: string[], what: string): LayerPlan[] {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== files.length) {
    throw invalidArgument(
      'DEN0956',
      `${what}: the image config names ${diffIds.length} layers, the archive ${files.length}`,
    );
  }
  const chains = chainIds(diffIds);
  return files.map((file, i) => {
    const named = digestNamed(file);
    return {
      file,
      diffId: diffIds[i]!,
      chainId: chains[i]!,
      parent: i === 0 ? null : chains[i - 1]!,
      ...(named ? { expected: { digest: named } } : {}),
    };
  });
}

/** The digest a file's name claims (`blobs/sha256/<hex>`, docker's `<hex>.json`), if it claims one. */
function digestNamed(file: string): Digest | undefined {
  const m = /^(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(normalizeName(file) ?? '');
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

function blobPath(digest: Digest): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

/**
 * Names the archive file an images/ parser's error is about. Only the parsing runs inside: reading
 * the bytes fails with load's own errors, which name the archive already.
 */
function inContext<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof DenError)) throw e;
    throw new DenError(e.kind, e.code, `${what}: ${e.message}`, {
      cause: e,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    });
  }
}

function missing(describe: string, name: string): DenError {
  return invalidArgument('DEN0955', `archive ${describe}: ${name} is missing from the archive`, {
    hint: 'the archive is truncated or incomplete: save it again',
  });
}

function digestMismatch(describe: string, name: string, actual: Digest): DenError {
  return invalidArgument('DEN0957', `archive ${describe}: ${name}: content hashes to ${actual}`, {
    hint: 'the archive is damaged: save it again',
  });
}
