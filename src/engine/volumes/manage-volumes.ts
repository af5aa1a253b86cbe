import { conflict, internal, invalidArgument } from '../../common/errors.js';
import { runWorker } from '../../session/index.js';
import type { VolumeRecord } from '../../containers/index.js';
import { removeVolumeFiles, usersOf, volumeData, volumeUsers } from '../containers/container-mounts.js';
import type { EngineContext } from '../context.js';
import { newEvent, type DenEvent } from '../../events/index.js';

/**
 * `den volume create|ls|inspect|rm|prune`: named volumes of the local driver, their files under
 * volumes/<name>/_data (docs/volumes.md). The records are the VolumeStore's; which containers use a
 * volume is read from the containers' own records.
 */

export interface VolumeCreateSpec {
  /** Absent: a random name (64 hex digits), as `docker volume create` with none. */
  name?: string;
  labels: Record<string, string>;
  /** The local driver's type, device, o (mount -t TYPE -o O DEVICE at the first start that uses it). */
  options: Record<string, string>;
  /** --driver; only local. */
  driver?: string;
}

/** docker's volume inspect (api/types/volume.Volume), with podman's Anonymous. */
export interface VolumeInspect {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
  Anonymous: boolean;
}

export function createVolume(ctx: EngineContext, spec: VolumeCreateSpec): VolumeInspect {
  if (spec.driver !== undefined && spec.driver !== 'local') {
    throw invalidArgument('DEN1321', `volume driver "${spec.driver}" is not available`, {
      hint: 'den has the local driver; its --opt type/device/o mount what mount(8) can',
    });
  }
  const { volume, created } = ctx.volumes.create({
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    labels: spec.labels,
    options: spec.options,
    anonymous: false,
  });
  volumeData(ctx, volume.name);
  if (created) ctx.emit(volumeEvent('create', volume));
  return volumeInspect(ctx, volume);
}

export function inspectVolume(ctx: EngineContext, name: string): VolumeInspect {
  return volumeInspect(ctx, ctx.volumes.resolve(name));
}

function volumeInspect(ctx: EngineContext, v: VolumeRecord): VolumeInspect {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: ctx.layout.volumeData(v.name),
    Name: v.name,
    Options: v.options,
    Scope: 'local',
    Anonymous: v.anonymous,
  };
}

function volumeEvent(action: string, v: VolumeRecord): DenEvent {
  return newEvent('volume', action, v.name, { driver: v.driver });
}

/** `den volume ls`/`prune --filter` keys: docker's. */
export interface VolumeFilters {
  name: string[];
  driver: string[];
  label: { key: string; value?: string }[];
  dangling: boolean | undefined;
}

export function parseVolumeFilters(texts: readonly string[], keys: readonly (keyof VolumeFilters)[]): VolumeFilters {
  const f: VolumeFilters = { name: [], driver: [], label: [], dangling: undefined };
  for (const text of texts) {
    const eq = text.indexOf('=');
    const key = text.slice(0, eq) as keyof VolumeFilters;
    const value = text.slice(eq + 1);
    const bad = (why: string) =>
      invalidArgument('DEN1337', `invalid filter '${text}': ${why}`, { hint: `den takes ${keys.join(', ')}` });
    if (eq <= 0) throw bad('not KEY=VALUE');
    if (!keys.includes(key)) throw bad(`no filter ${key}`);
    if (key === 'name' || key === 'driver') f[key].push(value);
    else if (key === 'label') {
      const i = value.indexOf('=');
      f.label.push(i < 0 ? { key: value } : { key: value.slice(0, i), value: value.slice(i + 1) });
    } else {
      if (!['true', 'false', '1', '0'].includes(value)) throw bad('dangling is true or false');
      f.dangling = value === 'true' || value === '1';
    }
  }
  return f;
}

const NO_FILTERS: VolumeFilters = { name: [], driver: [], label: [], dangling: undefined };

function matches(v: VolumeRecord, f: VolumeFilters, used: ReadonlySet<string>): boolean {
  if (f.name.length > 0 && !f.name.some((x) => v.name.includes(x))) return false;
  if (f.driver.length > 0 && !f.driver.includes(v.driver)) return false;
  for (const l of f.label) {
    if (!(l.key in v.labels) || (l.value !== undefined && v.labels[l.key] !== l.value)) return false;
  }
  if (f.dangling !== undefined && !used.has(v.name) !== f.dangling) return false;
  return true;
}

export function listVolumes(ctx: EngineContext, filters: VolumeFilters = NO_FILTERS): VolumeInspect[] {
  const used = new Set(volumeUsers(ctx).keys());
  return ctx.volumes
    .list()
    .filter((v) => matches(v, filters, used))
    .map((v) => volumeInspect(ctx, v));
}

/** `den volume rm`: refused while a container uses it (stopped ones too, as docker). */
export function removeVolume(ctx: EngineContext, name: string): void {
  const v = ctx.volumes.remove(name, () => usersOf(ctx, name));
  removeVolumeFiles(ctx, v.name);
  ctx.emit(volumeEvent('destroy', v));
}

/**
 * `den volume reclaim`: a volume whose files a rootless container with a range of its own stored in
 * its ids (docs/volumes.md) is given back its canonical owners, the ids the session's mapping sees,
 * so that containers of any mode may use it again. Refused while a container uses it. Returns the
 * number of entries whose owners were changed (0: it was canonical already).
 */
export async function reclaimVolume(ctx: EngineContext, name: string): Promise<number> {
  const v = ctx.volumes.resolve(name);
  if (!v.idMap) return 0;
  const users = usersOf(ctx, name);
  if (users.length > 0) {
    throw conflict(
      'DEN1324',
      `volume ${name} is in use by container ${users.map((id) => id.slice(0, 12)).join(', ')}`,
      {
        hint: 'remove the containers that use it first (den rm)',
        reason: 'in-use',
      },
    );
  }
  const r = await runWorker<never, { entries: number }>(
    ctx.ns,
    ctx.config.self,
    '__files',
    ['shift', volumeData(ctx, name), JSON.stringify({ from: v.idMap })],
    { noAnswer: (status) => internal('DEN0505', `den's file worker stopped (status ${status}) without an answer`) },
  );
  ctx.volumes.setIdMap(name, undefined);
  return r.entries;
}

/**
 * `den volume prune`: volumes no container uses; only anonymous ones unless `all` (docker 23's
 * rule: a named volume is kept until asked). Returns the names removed.
 */
export function pruneVolumes(ctx: EngineContext, filters: VolumeFilters, all: boolean): string[] {
  const used = new Set(volumeUsers(ctx).keys());
  const removed: string[] = [];
  for (const v of ctx.volumes.list()) {
    if (used.has(v.name) || (!all && !v.anonymous) || !matches(v, filters, used)) continue;
    try {
      removeVolume(ctx, v.name);
      removed.push(v.name);
    } catch {
      // taken into use, or removed, by another den meanwhile: not ours to prune
    }
  }
  return removed;
}
