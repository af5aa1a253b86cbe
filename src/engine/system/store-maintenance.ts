import { createReadStream, existsSync, lstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readdirOrEmpty } from '../../common/fs.js';
import { hexOf, newHash, type Digest } from '../../content/index.js';
import type { EngineContext } from '../context.js';
import { publishIndex } from '../images/image-index.js';
import { removeImage } from '../images/remove-image.js';
import { collectSnapshots, forgetLayer } from '../containers/rootfs-mount.js';
import { isRunning } from '../containers/container-state.js';
import { abandoned, leased, lockedLayers, removeTree, sweepAbandoned } from '../../snapshots/index.js';
import type { CheckResult } from '../../common/host-check.js';
import { NETNS_FILE } from '../../network/index.js';
import { checkModes } from '../store-modes.js';

export interface Collected {
  blobs: number;
  layers: number;
  /** Shifted copies of layers (rootless, see shifted-layers): whole mappings or single layers. */
  shiftedCopies: number;
  bytes: number;
}

/** What images, containers and running pulls keep: blob digests and layer chain ids. */
function reachable(ctx: EngineContext): { blobs: Set<string>; chains: Set<string> } {
  const blobs = new Set<string>();
  const chains = new Set<string>();
  for (const image of ctx.images.list()) {
    blobs.add(image.manifestDigest);
    blobs.add(image.id);
    for (const l of image.layers) {
      blobs.add(l.digest);
      chains.add(hexOf(l.chainId));
    }
  }
  for (const c of ctx.containers.list()) for (const l of c.config.layers) chains.add(l);
  for (const kept of leased(ctx)) {
    blobs.add(kept);
    chains.add(hexOf(kept as Digest));
  }
  return { blobs, chains };
}

/**
 * Removes blobs and layers nothing reaches: no image, no container, no running pull's lease, and
 * not written in the last ten minutes; and shifted copies of layers no container uses, of mappings
 * not used in the last ten minutes. Returns what went (or would go, with dryRun).
 */
export function collectGarbage(ctx: EngineContext, options: { dryRun?: boolean } = {}): Collected {
  // What dead dens left half-done goes too: check --store lists it, and its fix is prune.
  if (!options.dryRun) sweepAbandoned(ctx);
  const { blobs, chains } = reachable(ctx);
  const out: Collected = { blobs: 0, layers: 0, shiftedCopies: 0, bytes: 0 };
  // Blobs and layer directories younger than the grace period are never collected: an import or a
  // load writes them a moment before the image record that makes them reachable. (A pull holds a
  // lease instead, for as long as it runs.)
  const old = (path: string) => Date.now() - lstatSync(path).mtimeMs > ctx.config.gcGraceMs;
  const blobDir = join(ctx.layout.contentDir, 'blobs', 'sha256');
  for (const hex of readdirOrEmpty(blobDir)) {
    const path = join(blobDir, hex);
    if (blobs.has(`sha256:${hex}`) || !old(path)) continue;
    out.blobs++;
    out.bytes += statSync(path).size;
    if (!options.dryRun) rmSync(path, { force: true });
  }
  // Copies are not counted in bytes: sizing them would mean walking them. A layer that goes below
  // takes its copies under every mapping with it.
  out.shiftedCopies = collectSnapshots(ctx, old, options.dryRun ?? false).length;
  for (const hex of readdirOrEmpty(ctx.layout.layersDir)) {
    if (hex.startsWith('.') || chains.has(hex)) continue;
    const path = ctx.layout.layerDir(hex);
    if (!old(path)) continue;
    out.layers++;
    out.bytes += ctx.layers.size(`sha256:${hex}`);
    if (!options.dryRun) {
      removeTree(ctx, path);
      forgetLayer(ctx, hex);
      ctx.layers.remove(`sha256:${hex}`);
    }
  }
  return out;
}

/**
 * `den image prune`: images without a name (with `all`, every image no container uses), then the
 * garbage they leave. Returns the ids removed and what the collection freed.
 */
/**
 * `den image prune`: dangling images (with `all`, every image no container uses), then garbage.
 * What the removed images freed counts in the reclaimed bytes with what the collection freed: rmi
 * deletes an image's own layers and blobs at once, so the collection never sees them.
 */
export function pruneImages(ctx: EngineContext, all: boolean): { removed: string[]; collected: Collected } {
  const removed: string[] = [];
  let freed = 0;
  for (const image of ctx.images.list()) {
    if (image.names.length > 0 && !all) continue;
    if (ctx.containers.countUsingImage(image.id) > 0) continue;
    freed += removeImage(ctx, image.id, true).bytes;
    removed.push(image.id);
  }
  if (removed.length > 0) publishIndex(ctx);
  const collected = collectGarbage(ctx);
  return { removed, collected: { ...collected, bytes: collected.bytes + freed } };
}

export interface DiskUsage {
  images: { total: number; active: number; bytes: number; reclaimable: number };
  containers: { total: number; active: number; bytes: number; reclaimable: number };
  /** Blobs as pulled (compressed), which `den save` and `den push` send as they are. */
  blobs: { bytes: number };
}

/** `den system df`: what images (unpacked layers) and containers (their upper directories) take. */
export function diskUsage(ctx: EngineContext): DiskUsage {
  const images = ctx.images.list();
  const containers = ctx.containers.list();
  const used = new Set(containers.map((c) => c.imageId));
  const layerSize = new Map<string, number>();
  for (const image of images) for (const l of image.layers) layerSize.set(l.chainId, ctx.layers.size(l.chainId));
  const usedChains = new Set(images.filter((i) => used.has(i.id)).flatMap((i) => i.layers.map((l) => l.chainId)));
  const imageBytes = [...layerSize.values()].reduce((a, b) => a + b, 0);
  const reclaimable = [...layerSize].filter(([c]) => !usedChains.has(c as Digest)).reduce((a, [, n]) => a + n, 0);
  let containerBytes = 0;
  let stopped = 0;
  for (const c of containers) {
    const bytes = treeBytes(ctx.layout.bundle(c.id).upper);
    containerBytes += bytes;
    if (c.status !== 'running') stopped += bytes;
  }
  const blobDir = join(ctx.layout.contentDir, 'blobs', 'sha256');
  const blobBytes = readdirOrEmpty(blobDir).reduce((n, hex) => n + statSync(join(blobDir, hex)).size, 0);
  return {
    images: { total: images.length, active: used.size, bytes: imageBytes, reclaimable },
    containers: {
      total: containers.length,
      active: containers.filter((c) => c.status === 'running').length,
      bytes: containerBytes,
      reclaimable: stopped,
    },
    blobs: { bytes: blobBytes },
  };
}

/**
 * `den system check --store`: the store agrees with itself. Every blob hashes to its name; every
 * image's manifest, config and layer blobs are there; every layer record has its directory and
 * every directory its record; nothing a dead den left half-done (temporaries, locks, leases); no
 * path open wider than the permission model allows (store-modes.ts), with the chmod that fixes it.
 */
export async function checkStore(ctx: EngineContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const report = (id: string, title: string, problems: string[], okDetail: string) =>
    results.push(
      problems.length === 0
        ? { id, title, status: 'ok', detail: okDetail }
        : {
            id,
            title,
            status: 'fail',
            detail: problems.join('; '),
            fix: 'den image prune removes garbage; pull or load damaged images again',
          },
    );
  const blobDir = join(ctx.layout.contentDir, 'blobs', 'sha256');
  const blobs = readdirOrEmpty(blobDir);
  const corrupt: string[] = [];
  for (const hex of blobs) {
    const actual = await hashFile(join(blobDir, hex));
    if (actual !== hex) corrupt.push(`blob ${hex.slice(0, 12)} hashes to ${actual.slice(0, 12)}`);
  }
  report('blobs', 'blobs match their digests', corrupt, `${blobs.length} blobs verified`);

  const missing: string[] = [];
  const images = ctx.images.list();
  for (const image of images) {
    const name = image.names[0] ?? image.id.slice(7, 19);
    for (const d of [image.manifestDigest, image.id, ...image.layers.map((l) => l.digest)]) {
      if (!ctx.content.has(d)) missing.push(`${name}: blob ${hexOf(d).slice(0, 12)} missing`);
    }
    for (const l of image.layers) {
      if (!ctx.layers.has(l.chainId) || !existsSync(ctx.layout.layerDir(hexOf(l.chainId)))) {
        missing.push(`${name}: layer ${hexOf(l.chainId).slice(0, 12)} missing`);
      }
    }
  }
  report('images', 'images are complete', missing, `${images.length} images complete`);

  const dirs = readdirOrEmpty(ctx.layout.layersDir).filter((n) => !n.startsWith('.'));
  const rowSet = new Set(ctx.layers.chainIds().map((c) => hexOf(c as Digest)));
  const dirSet = new Set(dirs);
  // Under its lock a layer is on disk a moment before it is recorded: a live den is storing it, or
  // a dead one left it so (then listed with the temporaries, and swept with its lock).
  const locked = lockedLayers(ctx);
  const mismatched = [
    ...[...rowSet].filter((h) => !dirSet.has(h)).map((h) => `layer ${h.slice(0, 12)} recorded but not on disk`),
    ...dirs
      .filter((h) => !rowSet.has(h) && !locked.has(h))
      .map((h) => `layer ${h.slice(0, 12)} on disk but not recorded`),
  ];
  report('layers', 'layer records match layer directories', mismatched, `${dirs.length} layers`);

  const ingest = join(ctx.layout.contentDir, 'ingest');
  const leftovers = abandoned(ctx).map(({ path }) => relative(ctx.paths.dataDir, path));
  const partials = readdirOrEmpty(ingest).filter((n) => n.endsWith('.partial')).length;
  report(
    'temporaries',
    'nothing left half-done',
    leftovers.map((a) => `${a} of a den that is gone`),
    `none${partials > 0 ? ` (${partials} resumable download${partials === 1 ? '' : 's'})` : ''}`,
  );
  results.push(checkModes(ctx));
  results.push(checkNetworkLeftovers(ctx));
  results.push(checkVolumes(ctx));
  return results;
}

/**
 * Volumes (docs/volumes.md): every record has its directory and every directory its record, and no
 * mount den made for a container's binds and volumes (lower/m<N>) outlives its container's run.
 */
function checkVolumes(ctx: EngineContext): CheckResult {
  const records = ctx.volumes.list();
  const names = new Set(records.map((v) => v.name));
  const dirs = readdirOrEmpty(ctx.layout.volumesDir);
  const problems = [
    ...records
      .filter((v) => !existsSync(ctx.layout.volumeData(v.name)))
      .map((v) => `volume ${v.name}: its files are gone`),
    ...dirs.filter((d) => !names.has(d)).map((d) => `volumes/${d}: a directory no volume records`),
  ];
  const active = new Set(
    ctx.containers
      .list()
      .filter((c) => isRunning(c))
      .map((c) => c.id),
  );
  const containers = `${ctx.layout.containersDir}/`;
  for (const m of ctx.ns.mounts()) {
    const match = /^([0-9a-f]{64})\/lower\/m[0-9]+$/.exec(
      m.mountPoint.startsWith(containers) ? m.mountPoint.slice(containers.length) : '',
    );
    if (match && !active.has(match[1]!))
      problems.push(`container ${match[1]!.slice(0, 12)}: a mount of its still made (${m.mountPoint})`);
  }
  const title = 'volume records match their directories; no mount outlives its container';
  return problems.length === 0
    ? { id: 'volumes', title, status: 'ok', detail: `${records.length} volume${records.length === 1 ? '' : 's'}` }
    : {
        id: 'volumes',
        title,
        status: 'fail',
        detail: problems.join('; '),
        fix: 'den rm (or den start) of the container undoes its mounts; den volume rm removes a volume, and a directory no volume records can be removed by hand (den unshare rm -rf, rootless)',
      };
}

/**
 * Network pieces a crash left (docs/networking.md): a helper (pasta, slirp4netns) or a namespace
 * file of a container that no longer runs. Any unmount of the container (rm, start, the next
 * command that finds its monitor dead) undoes them; this says where they are meanwhile.
 */
function checkNetworkLeftovers(ctx: EngineContext): CheckResult {
  // Running means its monitor lives: a record a crash left saying running counts as stopped.
  const active = new Set(
    ctx.containers
      .list()
      .filter((c) => isRunning(c))
      .map((c) => c.id),
  );
  const containers = ctx.layout.containersDir;
  const idOf = (text: string) => {
    const at = text.indexOf(`${containers}/`);
    const id = at < 0 ? '' : text.slice(at + containers.length + 1, at + containers.length + 65);
    return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
  };
  const problems: string[] = [];
  const uid = ctx.config.user.uid;
  for (const pid of readdirOrEmpty('/proc').filter((n) => /^[0-9]+$/.test(n))) {
    let cmdline: string;
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) continue;
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!/^(\S*\/)?(pasta|slirp4netns) /.test(cmdline)) continue;
    const id = idOf(cmdline);
    if (id && !active.has(id))
      problems.push(`container ${id.slice(0, 12)}: its network helper (pid ${pid}) outlived it`);
  }
  for (const m of ctx.ns.mounts()) {
    const id = idOf(`${m.mountPoint}/`);
    if (id && m.mountPoint.endsWith(`/lower/${NETNS_FILE}`) && !active.has(id)) {
      problems.push(`container ${id.slice(0, 12)}: its network namespace is still mounted`);
    }
  }
  return problems.length === 0
    ? { id: 'network', title: 'no network helper or namespace outlives its container', status: 'ok', detail: 'none' }
    : {
        id: 'network',
        title: 'no network helper or namespace outlives its container',
        status: 'fail',
        detail: problems.join('; '),
        fix: 'den rm -f CONTAINER (or den start CONTAINER) releases them; for a container den no longer lists, kill the helper',
      };
}

async function hashFile(path: string): Promise<string> {
  const hash = newHash();
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Bytes of the regular files under a directory (an upper directory: the container's changes). */
function treeBytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const name of readdirOrEmpty(d)) {
      const p = join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) n += st.size;
    }
  };
  walk(dir);
  return n;
}
