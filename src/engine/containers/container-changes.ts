import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { internal, notFound, type DenError } from '../../common/errors.js';
import type { ContainerRecord } from '../../containers/index.js';
import type { Digest } from '../../content/index.js';
import {
  formatReference,
  layerMediaType,
  parseImageConfig,
  parseReference,
  serializeImageConfig,
  synthesizeManifest,
  type ImageConfig,
  type ImageRecord,
  type LayerRef,
} from '../../images/index.js';
import { runWorker } from '../../session/index.js';
import { sweepAbandoned, upperChanges, type Change, type UpperRequest } from '../../snapshots/index.js';
import type { EngineContext } from '../context.js';
import { whileFrozen } from './pause-container.js';
import { applyChanges } from '../images/image-changes.js';
import { publishIndex } from '../images/image-index.js';
import { imageTimestamp } from '../images/import-image.js';
import { storeLayer } from '../images/store-layer.js';
import { resolveUser } from './image-users.js';
import { reconcile } from './container-state.js';

/**
 * `den diff` and `den commit`: what a container changed, read from its overlay's upper directory
 * against its image's layers (snapshots/upper-changes.ts) by den's file worker (`den __files diff`
 * and `layer`), inside the rootless session where the container's files have their subordinate ids.
 * The upper directory needs no mount, so containers in any status are read the same way; a running
 * one is read as it changes.
 */

/** `den diff CONTAINER`: docker's list of changes (A added, C changed, D deleted), in its order. */
export async function containerChanges(ctx: EngineContext, ref: string): Promise<Change[]> {
  const c = reconcile(ctx, ctx.containers.resolve(ref));
  // As root den reads every file itself: the worker would only cost a second Node start.
  if (!ctx.paths.rootless) return upperChanges({ ...upperSpec(ctx, c), upper: ctx.layout.bundle(c.id).upper });
  const r = await runWorker<never, { changes: Change[] }>(
    ctx.ns,
    ctx.config.self,
    '__files',
    ['diff', ctx.layout.bundle(c.id).upper, JSON.stringify(upperSpec(ctx, c))],
    { noAnswer: workerGone },
  );
  return r.changes;
}

export interface CommitOptions {
  container: string;
  /** REPO[:TAG] for the new image; none leaves it without a name (docker's dangling image). */
  name?: string;
  author?: string;
  message?: string;
  /** Dockerfile instructions applied to the new image's config (`--change`). */
  changes?: string[];
  /**
   * docker pauses a running container while it commits: den freezes it where it has a freezer (as
   * root, or rootless with a delegated cgroup v2), and elsewhere commits its files as they are,
   * with a warning that says why.
   */
  pause: boolean;
}

/** The diff id of a layer with nothing in it: an archive of only its end marker (1024 zero bytes). */
const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/**
 * `den commit`: the container's changes become a layer on top of its image's, and a new image of
 * both, with the container's command, environment, user and working directory (and `changes`) in
 * its config. The layer is the upper directory as an OCI layer tar (whiteouts as `.wh.` files,
 * owners as the container sees them), gzipped, through the store's one layer pipeline
 * (`storeLayer`), so it is kept as every pulled layer is. A container without changes adds no layer
 * (an empty_layer history entry, as docker does). The record is written last.
 */
export async function commitContainer(ctx: EngineContext, options: CommitOptions): Promise<ImageRecord> {
  const name = options.name !== undefined ? formatReference(parseReference(options.name)) : undefined;
  const c = reconcile(ctx, ctx.containers.resolve(options.container));
  const image = ctx.images.byId(c.imageId as Digest);
  if (!image) {
    throw notFound('DEN0420', `image ${c.imageId.slice(7, 19)} of container ${c.name}: no such image`, {
      hint: 'the image was removed: commit needs the image the container was made from',
    });
  }
  const base = JSON.parse(ctx.content.readVerified(image.id).toString('utf8')) as Record<string, unknown>;
  const config = commitConfig(ctx, c, image, base, options);
  applyChanges(config as unknown as ImageConfig, options.changes ?? []); // before the slow part: bad changes fail fast
  sweepAbandoned(ctx);
  const store = () => storeChanges(ctx, c, image);
  const stored = options.pause
    ? await whileFrozen(
        ctx,
        c,
        (why) => ctx.events.warning(`cannot pause ${c.name} (${why}): committing its files as they are while it runs`),
        store,
      )
    : await store();
  const created = config.created as string;
  const empty = stored.diffId === EMPTY_LAYER_DIFF_ID;
  const rootfs = config.rootfs as { type: 'layers'; diff_ids: Digest[] };
  config.rootfs = { type: 'layers', diff_ids: [...rootfs.diff_ids, ...(empty ? [] : [stored.diffId])] };
  config.history = [
    ...((config.history as unknown[] | undefined) ?? []),
    {
      created,
      ...(options.author ? { author: options.author } : {}),
      created_by: (c.config.cmd ?? c.config.args).join(' '),
      ...(options.message ? { comment: options.message } : {}),
      ...(empty ? { empty_layer: true } : {}),
    },
  ];
  const bytes = serializeImageConfig(config);
  const parsed = parseImageConfig(bytes, `the config of the image committed from ${c.name}`);
  const configDesc = ctx.content.put(bytes);
  const layers: LayerRef[] = [...image.layers];
  if (!empty) {
    layers.push({
      digest: stored.blob.digest,
      size: stored.blob.size,
      mediaType: layerMediaType('gzip'),
      diffId: stored.diffId,
      chainId: stored.chainId,
    });
  }
  const manifestDesc = ctx.content.put(synthesizeManifest(configDesc, layers));
  const record = {
    id: configDesc.digest,
    manifestDigest: manifestDesc.digest,
    config: parsed,
    layers,
    size: image.size + (empty ? 0 : stored.stats.bytes),
    createdAt: created,
  };
  ctx.images.add(record, name ? [name] : []);
  publishIndex(ctx);
  return { ...record, names: name ? [name] : [], digests: [] };
}

/**
 * The new image's config: the image's own (its platform, history and anything den does not read,
 * as they were), with the container's command, environment, user and working directory, as docker
 * takes them from the container's config. What only describes the container that built an image
 * (docker's container, container_config) is dropped, and so is the old author.
 */
function commitConfig(
  ctx: EngineContext,
  c: ContainerRecord,
  image: ImageRecord,
  base: Record<string, unknown>,
  options: CommitOptions,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...base };
  for (const key of ['container', 'container_config', 'docker_version', 'id', 'parent', 'author', 'comment']) {
    delete config[key];
  }
  config.created = imageTimestamp();
  if (options.author) config.author = options.author;
  // The message goes in the history entry only: docker also writes it as a `comment` field of the
  // config, which the OCI config has not, and which a conversion to OCI would drop (a new digest).
  const old = (base.config ?? {}) as Record<string, unknown> & NonNullable<ImageConfig['config']>;
  const run: Record<string, unknown> = { ...old };
  const kept = c.config.cmd !== undefined || c.config.entrypoint !== undefined;
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
      delete run[key];
    } else {
      run[key] = value;
    }
  };
  set('User', c.config.user);
  set('Env', imageEnv(ctx, c, old.Env ?? []));
  set('Entrypoint', kept ? c.config.entrypoint : null);
  set('Cmd', kept ? c.config.cmd : c.config.args);
  // den gives a container / when neither -w nor the image names a directory; docker leaves it empty.
  set('WorkingDir', c.config.cwd === '/' && !old.WorkingDir ? undefined : c.config.cwd);
  config.config = run;
  config.rootfs = { type: 'layers', diff_ids: image.config.rootfs.diff_ids };
  return config;
}

/**
 * The container's environment as docker keeps it in a container's config: the image's and `-e`'s,
 * without what den sets when it starts the process (HOSTNAME, TERM with -t, HOME from the user's
 * passwd entry) unless the image or `-e` set them otherwise.
 */
function imageEnv(ctx: EngineContext, c: ContainerRecord, old: readonly string[]): string[] {
  const inImage = new Set(old.map((e) => e.slice(0, e.indexOf('=') < 0 ? undefined : e.indexOf('='))));
  let home: string | undefined;
  try {
    const layers = c.config.layers.map((l) => ctx.layout.layerDir(l)).reverse();
    home = resolveUser(c.config.user || '0', layers).home;
  } catch {
    home = undefined;
  }
  const added: Record<string, string | undefined> = {
    HOSTNAME: c.config.hostname,
    TERM: c.config.tty ? 'xterm' : undefined,
    HOME: home,
  };
  return c.config.env.filter((e) => {
    const eq = e.indexOf('=');
    const key = e.slice(0, eq);
    return inImage.has(key) || added[key] === undefined || added[key] !== e.slice(eq + 1);
  });
}

/** The container's changes through the layer pipeline: the worker's tar, gzipped, stored. */
async function storeChanges(ctx: EngineContext, c: ContainerRecord, image: ImageRecord) {
  const gzip = createGzip();
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  tar.pipe(gzip);
  let failedFirst: 'worker' | 'store' | undefined;
  const reading = runWorker<never, { bytes: number }>(
    ctx.ns,
    ctx.config.self,
    '__files',
    ['layer', ctx.layout.bundle(c.id).upper, JSON.stringify(upperSpec(ctx, c))],
    { output: tar, noAnswer: workerGone },
  ).then(
    (r) => {
      tar.end();
      return r;
    },
    (e: unknown) => {
      failedFirst ??= 'worker';
      gzip.destroy(e as Error);
      throw e;
    },
  );
  const storing = storeLayer(ctx, {
    blob: gzip,
    describe: `the changes of container ${c.name}`,
    parent: image.layers.length > 0 ? image.layers[image.layers.length - 1]!.chainId : null,
  }).catch((e: unknown) => {
    failedFirst ??= 'store';
    tar.destroy();
    throw e;
  });
  const [read, stored] = await Promise.allSettled([reading, storing]);
  if (failedFirst === 'worker' && read.status === 'rejected') throw read.reason;
  if (stored.status === 'rejected') throw stored.reason;
  if (read.status === 'rejected') throw read.reason;
  return stored.value;
}

/** What the worker needs to read the container's upper directory against its image. */
function upperSpec(ctx: EngineContext, c: ContainerRecord): Omit<UpperRequest, 'upper'> {
  return {
    layers: c.config.layers.map((l) => ctx.layout.layerDir(l)).reverse(),
    ...(c.config.idMap ? { idMap: c.config.idMap } : {}),
    mountPoints: mountPoints(ctx, c),
  };
}

/** Where the container's runtime mounts things: the destinations in its bundle's config. */
function mountPoints(ctx: EngineContext, c: ContainerRecord): string[] {
  try {
    const spec = JSON.parse(readFileSync(ctx.layout.bundle(c.id).config, 'utf8')) as {
      mounts?: { destination?: unknown }[];
    };
    return (spec.mounts ?? []).map((m) => m.destination).filter((d): d is string => typeof d === 'string');
  } catch {
    return [];
  }
}

const workerGone = (status: number): DenError =>
  internal('DEN0505', `den's file worker exited with status ${status} without an answer`);
