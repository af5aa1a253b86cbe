import { randomBytes } from 'node:crypto';
import { conflict, invalidArgument, notFound } from '../common/errors.js';
import type { OciIdMaps } from '../idmap/index.js';
import { writeTransaction, type Db } from '../state/index.js';

/**
 * A volume: a directory of den's store that containers mount (docs/volumes.md). Its files are kept
 * with canonical owners (the ids a container sees, as they would be on a host without user
 * namespaces) and shown to each container through its own range; rootless, where no container
 * with a range of its own can be shown them so, the files of a volume such a container filled are
 * stored in that container's ids, and `idMap` says which.
 */
export interface VolumeRecord {
  name: string;
  driver: 'local';
  labels: Record<string, string>;
  /** The local driver's options (--opt): type, device, o. */
  options: Record<string, string>;
  /** Made for one container (the image's VOLUME, -v /path): rm -v and --rm remove it with it. */
  anonymous: boolean;
  /** Rootless: the maps its files are stored in, when not canonical. */
  idMap?: OciIdMaps;
  /** Filled from an image (or used by a container that did not ask for that): never filled again. */
  populated: boolean;
  createdAt: string;
}

export interface VolumeRequest {
  name?: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
}

interface Row {
  name: string;
  driver: string;
  labels: string;
  options: string;
  anonymous: number;
  id_map: string | null;
  populated: number;
  created_at: string;
}

function toVolume(r: Row): VolumeRecord {
  return {
    name: r.name,
    driver: 'local',
    labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    anonymous: r.anonymous === 1,
    ...(r.id_map ? { idMap: JSON.parse(r.id_map) as OciIdMaps } : {}),
    populated: r.populated === 1,
    createdAt: r.created_at,
  };
}

/** docker's rule for volume names: a letter or digit, then letters, digits, _ . - (two at least). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateVolumeName(name: string, also?: string): string {
  if (!NAME.test(name) || name.length > 255) {
    const rule = 'a volume name is a letter or digit followed by letters, digits, _ . or - (at least two characters)';
    throw invalidArgument('DEN1320', `invalid volume name "${name}"${also ? `: ${also}` : ''}`, { hint: rule });
  }
  return name;
}

/** The name of an anonymous volume: 64 hex digits, as docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

/** The local driver's options: type and device go together; o alone only with them. */
const OPTION_KEYS = new Set(['type', 'device', 'o']);

export function validateVolumeOptions(options: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw invalidArgument('DEN1321', `invalid option "${key}" for the local volume driver`, {
        hint: 'the local driver takes type, device and o (as mount -t TYPE -o O DEVICE)',
      });
    }
  }
  if ((options.type === undefined) !== (options.device === undefined) || (options.o && !options.type)) {
    throw invalidArgument('DEN1321', 'the local volume driver needs type and device together (and o only with them)', {
      hint: 'e.g. --opt type=tmpfs --opt device=tmpfs --opt o=size=100m',
    });
  }
  return options;
}

/** Volume records, in den's database; every change is one transaction. */
export class VolumeStore {
  constructor(private readonly db: Db) {}

  list(): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map(toVolume);
  }

  get(name: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
    return row ? toVolume(row) : undefined;
  }

  resolve(name: string): VolumeRecord {
    const v = this.get(name);
    if (!v) throw notFound('DEN1322', `no such volume: ${name}`, { hint: 'see `den volume ls`' });
    return v;
  }

  /**
   * Makes a volume, or finds the one of that name (docker's `volume create` of an existing name
   * answers with it, when the options agree). Returns it, and whether it is new.
   */
  create(req: VolumeRequest): { volume: VolumeRecord; created: boolean } {
    const name = req.name !== undefined ? validateVolumeName(req.name) : anonymousVolumeName();
    const options = validateVolumeOptions(req.options);
    return writeTransaction(this.db, () => {
      const existing = this.get(name);
      if (existing) {
        if (JSON.stringify(existing.options) !== JSON.stringify(options)) {
          throw conflict('DEN1323', `volume ${name} exists with other options`, {
            hint: 'remove it first (den volume rm), or create it without --opt',
          });
        }
        return { volume: existing, created: false };
      }
      const createdAt = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO volumes (name, driver, labels, options, anonymous, id_map, populated, created_at)
           VALUES (?, 'local', ?, ?, ?, NULL, 0, ?)`,
        )
        .run(name, JSON.stringify(req.labels), JSON.stringify(options), req.anonymous ? 1 : 0, createdAt);
      return { volume: this.get(name)!, created: true };
    });
  }

  /**
   * A container's volume: the named one, made with no options when there is none (docker makes a
   * missing volume at create). Runs inside the transaction that records the container.
   */
  ensure(name: string, anonymous: boolean): VolumeRecord {
    return writeTransaction(this.db, () => {
      const existing = this.get(name);
      if (existing) return existing;
      this.db
        .prepare(
          `INSERT INTO volumes (name, driver, labels, options, anonymous, id_map, populated, created_at)
           VALUES (?, 'local', '{}', '{}', ?, NULL, 0, ?)`,
        )
        .run(name, anonymous ? 1 : 0, new Date().toISOString());
      return this.get(name)!;
    });
  }

  /**
   * Removes a volume unless `users` (read inside the same transaction, so that no container can
   * come to use it meanwhile) names containers that use it.
   */
  remove(name: string, users: () => string[]): VolumeRecord {
    return writeTransaction(this.db, () => {
      const v = this.resolve(name);
      const using = users();
      if (using.length > 0) {
        throw conflict(
          'DEN1324',
          `volume ${name} is in use by container ${using.map((id) => id.slice(0, 12)).join(', ')}`,
          {
            hint: 'remove the containers that use it first (den rm; stopped ones count too)',
            reason: 'in-use',
          },
        );
      }
      this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
      return v;
    });
  }

  /** The volume has been filled from an image, or used as it was: it is never filled again. */
  markPopulated(name: string): void {
    this.db.prepare('UPDATE volumes SET populated = 1 WHERE name = ?').run(name);
  }

  /** Rootless: the volume's files are now stored in these maps (NULL: canonical). */
  setIdMap(name: string, idMap: OciIdMaps | undefined): void {
    this.db.prepare('UPDATE volumes SET id_map = ? WHERE name = ?').run(idMap ? JSON.stringify(idMap) : null, name);
  }
}
