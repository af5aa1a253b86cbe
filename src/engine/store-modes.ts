import { chmodSync, lstatSync, readdirSync, writeFileSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '../common/host-check.js';
import type { ContainerRecord } from '../containers/index.js';
import type { EngineContext } from './context.js';
import { bundleGroup } from './containers/rootfs-mount.js';

/**
 * The store's permission model (docs/permissions.md) as data: how far each path under den's data
 * directory may be open. `den system check --store` reports what is wider, with the chmod that
 * narrows it, and a store made by a den before the model is narrowed once, on first use
 * (`tightenStoreOnce`); `MODES_VERSION` in the marker file says it was.
 *
 *   data directory, containers/     0711  others may pass (a stranger container root must), not list
 *   containers/<id>/                0700, or 0710 with its root's group when that root is a stranger
 *   config.json, ctr.log, exec and health process files   0600  environment and output
 *   everything else at the top      0700  content/, layers/, shifted/; files 0600: den.db (its -wal and
 *                                         -shm take its mode), events.log
 *
 * What lies below these (blobs, layer files, the upper directory) keeps the image's modes: the
 * directories above are the boundary.
 */
export const MODES_VERSION = 1;

const MARKER = 'store-modes';

/** A path whose mode is wider than the model allows. */
export interface WideMode {
  path: string;
  /** Its permission bits now. */
  mode: number;
  /** The bits the model allows it. */
  allowed: number;
}

/** Files of a container's directory that the container's root reads through the runtime's bind mounts. */
const ETC_FILES = new Set(['hostname', 'hosts', 'resolv.conf']);

/** Files of a container's directory that hold its environment or its output. */
function holdsSecrets(name: string): boolean {
  return name === 'config.json' || name.startsWith('ctr.log') || /^health-.*\.json$/.test(name);
}

/** What the model reads of the engine: where the store is, and the session's ids. */
export type StoreView = Pick<EngineContext, 'paths' | 'layout' | 'sessionId'>;

/** Every path of the store wider than the model allows, and what it allows. */
export function wideModes(ctx: StoreView, containers: readonly ContainerRecord[]): WideMode[] {
  const out: WideMode[] = [];
  const consider = (path: string, allowed: number, st?: Stats) => {
    const s = st ?? statOrUndefined(path);
    if (!s || s.isSymbolicLink()) return;
    const mode = s.mode & 0o7777;
    if ((mode & ~allowed & 0o777) !== 0) out.push({ path, mode, allowed });
  };
  const dataDir = ctx.paths.dataDir;
  consider(dataDir, 0o711);
  for (const name of readdirOr(dataDir)) {
    // The database's -wal and -shm live while a den has it open (this one), and SQLite makes them
    // with the database's own mode: den.db stands for them.
    if (name === 'containers' || name.endsWith('-wal') || name.endsWith('-shm')) continue;
    const st = statOrUndefined(join(dataDir, name));
    consider(join(dataDir, name), st?.isDirectory() ? 0o700 : 0o600, st);
  }
  const containersDir = ctx.layout.containersDir;
  consider(containersDir, 0o711);
  const byId = new Map(containers.map((c) => [c.id, c]));
  for (const id of readdirOr(containersDir)) {
    const dir = ctx.layout.containerDir(id);
    const st = statOrUndefined(dir);
    if (!st?.isDirectory()) continue;
    const c = byId.get(id);
    const group = c ? bundleGroup(c) : undefined;
    // The group is one of the ids where the runtime runs (the session's, rootless).
    const opened = group !== undefined && ctx.sessionId('gid', st.gid) === group;
    consider(dir, opened ? 0o710 : 0o700, st);
    for (const name of readdirOr(dir)) {
      if (ETC_FILES.has(name)) continue;
      if (holdsSecrets(name)) consider(join(dir, name), 0o600);
    }
    for (const name of readdirOr(join(dir, 'exec'))) consider(join(dir, 'exec', name), 0o600);
  }
  return out;
}

/** Narrows every path `wideModes` found to what the model allows; returns the ones it could not. */
export function narrow(found: readonly WideMode[]): { path: string; error: string }[] {
  const failed: { path: string; error: string }[] = [];
  for (const w of found) {
    try {
      chmodSync(w.path, w.mode & (w.allowed | 0o7000));
    } catch (e) {
      failed.push({ path: w.path, error: (e as Error).message });
    }
  }
  return failed;
}

/**
 * Brings a store made by an older den to the model, once: a marker in the data directory records
 * the model's version, so every later command pays one read of it. What cannot be narrowed is told
 * as a warning (and `den system check --store` keeps reporting it); the work goes on.
 */
export function tightenStoreOnce(ctx: EngineContext): void {
  const marker = join(ctx.paths.dataDir, MARKER);
  if (readOr(marker) === `${MODES_VERSION}\n`) return;
  const failed = narrow(wideModes(ctx, ctx.containers.list()));
  for (const f of failed) ctx.events.warning(`cannot narrow the mode of ${f.path}: ${f.error}`);
  try {
    writeFileSync(marker, `${MODES_VERSION}\n`, { mode: 0o600 });
  } catch (e) {
    ctx.events.warning(`store ${ctx.paths.dataDir}: cannot record its modes: ${(e as Error).message}`);
  }
}

/** `den system check --store`'s report of the modes: ok, or the paths and the commands that fix them. */
export function checkModes(ctx: EngineContext): CheckResult {
  const found = wideModes(ctx, ctx.containers.list());
  const title = 'store readable by its owner alone';
  if (found.length === 0) return { id: 'modes', title, status: 'ok', detail: 'no path wider than the model' };
  const byTarget = new Map<number, string[]>();
  for (const w of found) {
    const target = w.mode & (w.allowed | 0o7000);
    byTarget.set(target, [...(byTarget.get(target) ?? []), w.path]);
  }
  return {
    id: 'modes',
    title,
    status: 'fail',
    detail:
      `wider than docs/permissions.md allows: ` +
      found.map((w) => `${w.path} is ${octal(w.mode)}, at most ${octal(w.allowed)}`).join('; '),
    fix: [...byTarget].map(([mode, paths]) => `chmod ${octal(mode)} ${paths.map(shellQuote).join(' ')}`).join(' && '),
  };
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function readdirOr(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
