import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { sleepUnlessAborted, throwIfAborted } from '../common/abort.js';
import { errnoCode } from '../common/errors.js';
import { runSync } from '../common/exec.js';
import { readdirOrEmpty } from '../common/fs.js';
import { processStartTime, type Namespaces } from '../session/index.js';
import type { LayerStore } from './layer-store.js';
import type { StoreLayout } from './layout.js';

/** What the store's locks, leases and sweeps work with: the engine's context is one. */
export interface StoreAccess {
  readonly layout: StoreLayout;
  readonly layers: LayerStore;
  /** The namespaces storage lives in: files of subordinate ids are removed from inside them. */
  readonly ns: Namespaces;
}

/** This process, as lock files and temporary names record it: pid and start time (pids are reused). */
export function ownerTag(): string {
  return `${process.pid}.${processStartTime(process.pid) ?? '0'}`;
}

/** True when the process a tag names is still the one that wrote it. */
export function ownerAlive(tag: string): boolean {
  const [pid, start] = tag.split('.');
  if (!pid || !/^[0-9]+$/.test(pid)) return false;
  return processStartTime(Number(pid)) === start;
}

/**
 * Work on one layer that only one den process at a time may do (downloading and unpacking it),
 * across processes: a lock file under layers/.locks that holds its owner's tag from the moment it
 * exists. A waiter polls until the lock is gone or its owner died (den killed with SIGKILL leaves
 * the file; the next den takes it over), then asks `done` again: a layer another den committed
 * meanwhile is not fetched twice. Returns what `work` returned, or undefined when `done` said so
 * first.
 */
export async function withLayerLock<T>(
  ctx: StoreAccess,
  chainHex: string,
  done: () => boolean,
  work: () => Promise<T>,
  onWait?: () => void,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const dir = join(ctx.layout.layersDir, '.locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, chainHex);
  let told = false;
  for (;;) {
    throwIfAborted(signal);
    if (done()) return undefined;
    if (!createOwned(path)) {
      const owner = readOwner(path);
      if (owner !== undefined && !ownerAlive(owner)) {
        removeIfStillOwned(path, owner);
        continue;
      }
      if (!told) onWait?.();
      told = true;
      await sleepUnlessAborted(100, signal);
      continue;
    }
    try {
      if (done()) return undefined; // committed between our check and the lock
      return await work();
    } finally {
      rmSync(path, { force: true });
    }
  }
}

/**
 * Creates `path` holding this process's tag, atomically (a temporary file linked into place), so a
 * lock is never seen empty; false when it exists.
 */
function createOwned(path: string): boolean {
  const tmp = `${path}.${ownerTag()}-${Math.random().toString(16).slice(2)}`;
  writeFileSync(tmp, ownerTag(), { mode: 0o644 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes a dead owner's lock, unless another den replaced it meanwhile: the check and the removal
 * happen under a second lock (`.break`), so two dens taking over at once cannot both end up holding
 * the first (one would remove the other's fresh lock).
 */
function removeIfStillOwned(path: string, deadOwner: string): void {
  const breaker = `${path}.break`;
  if (!createOwned(breaker)) {
    const other = readOwner(breaker);
    if (other !== undefined && !ownerAlive(other)) rmSync(breaker, { force: true }); // it died breaking
    return;
  }
  try {
    if (readOwner(path) === deadOwner) rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

/** True when a temporary's name (`OWNER-random`) names a den that is still running. */
export function ownerAliveOfName(name: string): boolean {
  const m = /^([0-9]+\.[0-9]+)-/.exec(name);
  return m !== null && ownerAlive(m[1]!);
}

/** The owner a lease's name (`OWNER-random`) or a lock's temporary's (`LOCK.OWNER-random`) gives. */
function ownerInName(name: string): string | undefined {
  return /(?:^|\.)([0-9]+\.[0-9]+)-[0-9a-f]+$/.exec(name)?.[1];
}

export function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * What dead den processes left half-done: temporary layer directories and shifted copies
 * (`.tmp-OWNER-...`), ingest
 * files (`OWNER-...`) and lock and lease files whose owner is gone. Resumable downloads
 * (`ingest/<digest>.partial`) are not among them: the next pull of that blob continues them.
 */
export function abandoned(ctx: StoreAccess): Abandoned[] {
  const out: Abandoned[] = [];
  for (const name of readdirOrEmpty(ctx.layout.layersDir)) {
    if (name.startsWith('.tmp-') && !ownerAliveOfName(name.slice('.tmp-'.length))) {
      out.push({ path: join(ctx.layout.layersDir, name), tree: true });
    }
  }
  for (const key of readdirOrEmpty(ctx.layout.shiftedDir)) {
    for (const name of readdirOrEmpty(ctx.layout.shiftedMapDir(key))) {
      if (name.startsWith('.tmp-') && !ownerAliveOfName(name.slice('.tmp-'.length))) {
        out.push({ path: join(ctx.layout.shiftedMapDir(key), name), tree: true });
      }
    }
  }
  const ingest = join(ctx.layout.contentDir, 'ingest');
  for (const name of readdirOrEmpty(ingest)) {
    if (!name.endsWith('.partial') && !ownerAliveOfName(name)) out.push({ path: join(ingest, name), tree: false });
  }
  for (const sub of ['.locks', '.leases']) {
    const dir = join(ctx.layout.layersDir, sub);
    for (const name of readdirOrEmpty(dir)) {
      // A den killed between creating a file and writing its tag into it leaves it empty: a lease,
      // or the temporary a lock is linked from. Their names carry the tag too; a lock's does not,
      // but it is linked into place only once written.
      const owner = ownerInName(name) ?? readOwner(join(dir, name))?.split('\n')[0];
      if (owner === undefined || ownerAlive(owner)) continue;
      if (sub === '.locks' && LAYER_LOCK.test(name)) {
        const layer = { chainHex: name, owner };
        if (renamedUnrecorded(ctx, name)) out.push({ path: ctx.layout.layerDir(name), tree: true, layer });
        out.push({ path: join(dir, name), tree: false, layer });
      } else {
        out.push({ path: join(dir, name), tree: false });
      }
    }
  }
  return out;
}

/** One thing a dead den left half-done. */
export interface Abandoned {
  path: string;
  /** A directory, removed from inside the session. */
  tree: boolean;
  /** A dead den's layer lock, or the layer directory it renamed into place under it but never recorded. */
  layer?: { chainHex: string; owner: string };
}

/** The name of a layer's lock (layers/.locks/<chain id hex>), not of a temporary or break file beside it. */
const LAYER_LOCK = /^[0-9a-f]{64}$/;

/** Layers some den holds the lock of, or held when it died: they may be on disk and not yet recorded. */
export function lockedLayers(ctx: StoreAccess): Set<string> {
  return new Set(readdirOrEmpty(join(ctx.layout.layersDir, '.locks')).filter((n) => LAYER_LOCK.test(n)));
}

/**
 * storeLayer renames a layer into place and then records it: a den killed in between leaves the
 * directory with no record, under its lock. (A lock-holder that records first would leave a record
 * with no directory instead, which a pull would take for a stored layer.)
 */
function renamedUnrecorded(ctx: StoreAccess, chainHex: string): boolean {
  return existsSync(ctx.layout.layerDir(chainHex)) && !ctx.layers.has(`sha256:${chainHex}`);
}

/** Removes what `abandoned` finds. */
export function sweepAbandoned(ctx: StoreAccess): void {
  for (const { path, tree, layer } of abandoned(ctx)) {
    if (layer !== undefined) {
      if (!tree) sweepLayerLock(ctx, layer.chainHex, layer.owner); // the directory goes under the lock
    } else if (tree) removeTree(ctx, path);
    else rmSync(path, { force: true });
  }
}

/**
 * A dead den's layer lock is taken over as a waiter in withLayerLock takes it (never removed
 * blindly: a den that took it over a moment ago would lose it, and a third could then store the
 * layer beside it), and a layer directory the dead den left unrecorded under it is removed: its
 * record's figures (size, entries, highest ids) died with the den, the next pull fetches it again.
 * A den that takes the lock first finishes the layer itself (its rename finds the directory there
 * and keeps it, then records it).
 */
function sweepLayerLock(ctx: StoreAccess, chainHex: string, deadOwner: string): void {
  const path = join(ctx.layout.layersDir, '.locks', chainHex);
  removeIfStillOwned(path, deadOwner);
  if (!createOwned(path)) return;
  try {
    if (renamedUnrecorded(ctx, chainHex)) removeTree(ctx, ctx.layout.layerDir(chainHex));
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * A running pull's claim on the blobs and layers it is about to record: garbage collection and
 * `den rmi` leave them alone while its owner lives (containerd calls this a lease). A file under
 * layers/.leases: the owner's tag on the first line, then one digest or chain id per line.
 */
export function takeLease(ctx: StoreAccess, keep: readonly string[]): () => void {
  const dir = join(ctx.layout.layersDir, '.leases');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = ownerTag();
  const path = join(dir, `${owner}-${Math.random().toString(16).slice(2)}`);
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeSync(fd, [owner, ...keep].join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  return () => rmSync(path, { force: true });
}

/** Everything the leases of live dens keep. */
export function leased(ctx: StoreAccess): Set<string> {
  const dir = join(ctx.layout.layersDir, '.leases');
  const out = new Set<string>();
  for (const name of readdirOrEmpty(dir)) {
    const [owner, ...keep] = (readOwner(join(dir, name)) ?? '').split('\n');
    if (owner && ownerAlive(owner)) for (const k of keep) if (k) out.add(k);
  }
  return out;
}

/** Removes a store directory whose files may belong to subordinate ids: from inside the session. */
export function removeTree(ctx: StoreAccess, dir: string): void {
  if (!existsSync(dir)) return;
  runSync(ctx.ns.wrap(['rm', '-rf', '--one-file-system', dir]));
}
