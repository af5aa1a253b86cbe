import { invalidArgument } from '../../common/errors.js';
import { openInputFile } from '../../common/fs.js';
import {
  DEFAULT_PATH,
  familiarName,
  formatReference,
  hostPlatform,
  layerMediaType,
  parseReference,
  synthesizeManifest,
  type ImageConfig,
  type ImageRecord,
  type LayerRef,
} from '../../images/index.js';
import type { EngineContext } from '../context.js';
import { applyChanges } from './image-changes.js';
import { publishIndex } from './image-index.js';
import { storeLayer } from './store-layer.js';
import { sweepAbandoned } from '../../snapshots/index.js';
import { imageEvent } from '../events.js';

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
 * `den import`: a root file system tarball (plain, gzip or zstd) becomes a one-layer image.
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
  const input = openInputFile(options.source, `import source ${options.source}`, 'a tarball', {
    missing: 'DEN0430',
    directory: 'DEN0431',
  });
  sweepAbandoned(ctx);
  const { blob, diffId, chainId, stats, compression } = await storeLayer(ctx, {
    blob: input,
    describe: `import source ${options.source}`,
    parent: null,
    emptyError: invalidArgument('DEN0435', `import source ${options.source}: the archive is empty`),
  });
  const content = ctx.content;
  config.rootfs.diff_ids = [diffId];
  const configDesc = content.put(JSON.stringify(config));
  const layer: LayerRef = {
    digest: blob.digest,
    size: blob.size,
    mediaType: layerMediaType(compression),
    diffId,
    chainId,
  };
  const manifestDesc = content.put(synthesizeManifest(configDesc, [layer]));
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
  ctx.emit(imageEvent('import', record.id, name ? familiarName(parseReference(name)) : record.id));
  return { ...record, names: name ? [name] : [], digests: [] };
}

function newImportConfig(options: ImportOptions): ImageConfig {
  // Go's RFC 3339 form, as docker and skopeo write it (no trailing zeros in the fraction): a tool
  // that re-serialises the config then keeps its bytes, and so the image id.
  const created = new Date().toISOString().replace(/\.?0+Z$/, 'Z');
  const config: ImageConfig = {
    created,
    architecture: hostPlatform().architecture,
    os: 'linux',
    config: { Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created, created_by: 'den import', ...(options.message ? { comment: options.message } : {}) }],
  };
  applyChanges(config, options.changes ?? []);
  return config;
}
