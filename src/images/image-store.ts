import { conflict, notFound } from '../common/errors.js';
import type { Digest } from '../content/index.js';
import type { Db } from '../state/index.js';
import { writeTransaction } from '../state/index.js';
import type { ImageConfig, ImageRecord, LayerRef } from './image.js';
import { formatReference, parseReference, repositoryOf, type Reference } from './reference.js';

interface Row {
  id: string;
  manifest_digest: string;
  config: string;
  layers: string;
  size: number;
  created_at: string;
}

/** Image records and their names in the state database. */
export class ImageStore {
  constructor(private readonly db: Db) {}

  /**
   * Records an image and points `names` (tags) and `digests` (repository digests) at it; a name
   * or digest moves from any image it named before.
   */
  add(image: Omit<ImageRecord, 'names' | 'digests'>, names: string[], digests: string[] = []): void {
    writeTransaction(this.db, () => {
      this.db
        .prepare(
          `INSERT INTO images (id, manifest_digest, config, layers, size, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO NOTHING`,
        )
        .run(
          image.id,
          image.manifestDigest,
          JSON.stringify(image.config),
          JSON.stringify(image.layers),
          image.size,
          image.createdAt,
        );
      const tag = this.db.prepare(
        'INSERT INTO image_names (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id',
      );
      for (const name of names) tag.run(name, image.id);
      const pin = this.db.prepare(
        'INSERT INTO image_digests (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id',
      );
      for (const digest of digests) pin.run(digest, image.id);
    });
  }

  /**
   * Points a repository digest (registry/repo@sha256:<hex>) at an image that is still recorded,
   * moving it from any other; false when the image is gone (removed while it was being pushed).
   */
  addDigest(id: Digest, digest: string): boolean {
    const r = this.db
      .prepare(
        `INSERT INTO image_digests (name, image_id) SELECT ?, id FROM images WHERE id = ?
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id`,
      )
      .run(digest, id);
    return r.changes > 0;
  }

  list(): ImageRecord[] {
    const rows = this.db.prepare('SELECT * FROM images ORDER BY created_at DESC').all() as Row[];
    return rows.map((r) => this.toRecord(r));
  }

  /**
   * Finds an image by name (busybox, busybox:1.36), repository digest (busybox@sha256:...), full
   * id, or unambiguous id prefix.
   */
  resolve(ref: string): ImageRecord {
    const image = this.find(ref);
    if (!image) throw notFound('DEN0420', `image ${ref}: not found`, { hint: 'see `den images`, or `den import` one' });
    return image;
  }

  find(ref: string): ImageRecord | undefined {
    const hex = ref.replace(/^sha256:/, '');
    if (/^[a-f0-9]{64}$/.test(hex)) return this.byId(`sha256:${hex}` as Digest);
    let parsed: Reference | undefined;
    try {
      parsed = parseReference(ref);
    } catch {
      parsed = undefined;
    }
    if (parsed?.digest !== undefined) return this.byRepoDigest(parsed);
    const canonical = parsed ? formatReference(parsed) : undefined;
    if (canonical) {
      const row = this.db.prepare('SELECT image_id FROM image_names WHERE name = ?').get(canonical) as
        { image_id: string } | undefined;
      if (row) return this.byId(row.image_id as Digest);
    }
    if (/^[a-f0-9]{1,63}$/.test(hex)) {
      const rows = this.db
        .prepare("SELECT * FROM images WHERE id LIKE 'sha256:' || ? || '%' LIMIT 2")
        .all(hex) as Row[];
      if (rows.length > 1)
        throw conflict('DEN0421', `image id prefix ${hex} is ambiguous`, { hint: 'give more digits' });
      if (rows[0]) return this.toRecord(rows[0]);
    }
    return undefined;
  }

  /**
   * REPO[:TAG]@DIGEST, as docker reads it (the tag is ignored): the image pulled by that digest from
   * that repository, or else one of that repository whose manifest has that digest (pulled by tag,
   * its index's digest recorded, and now named by its platform's manifest).
   */
  private byRepoDigest(ref: Reference): ImageRecord | undefined {
    const repository = repositoryOf(ref);
    const row = this.db
      .prepare('SELECT image_id FROM image_digests WHERE name = ?')
      .get(`${repository}@${ref.digest}`) as { image_id: string } | undefined;
    if (row) return this.byId(row.image_id as Digest);
    const candidates = this.db.prepare('SELECT * FROM images WHERE manifest_digest = ?').all(ref.digest) as Row[];
    const record = candidates
      .map((r) => this.toRecord(r))
      .find((image) =>
        [...image.names, ...image.digests].some(
          (n) => n.startsWith(`${repository}:`) || n.startsWith(`${repository}@`),
        ),
      );
    return record;
  }

  byId(id: Digest): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as Row | undefined;
    return row ? this.toRecord(row) : undefined;
  }

  /** Removes a name or repository digest; returns the image it pointed at. */
  untag(name: string): Digest | undefined {
    const table = name.includes('@') ? 'image_digests' : 'image_names';
    const row = this.db.prepare(`SELECT image_id FROM ${table} WHERE name = ?`).get(name) as
      { image_id: Digest } | undefined;
    if (row) this.db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(name);
    return row?.image_id;
  }

  /** Deletes the image record and its names; returns the layers no remaining image uses. */
  delete(id: Digest): LayerRef[] {
    return writeTransaction(this.db, () => {
      const image = this.byId(id);
      if (!image) return [];
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
      const stillUsed = new Set<string>();
      for (const other of this.list()) for (const l of other.layers) stillUsed.add(l.chainId);
      return image.layers.filter((l) => !stillUsed.has(l.chainId));
    });
  }

  private toRecord(r: Row): ImageRecord {
    const names = (
      this.db.prepare('SELECT name FROM image_names WHERE image_id = ? ORDER BY name').all(r.id) as {
        name: string;
      }[]
    ).map((n) => n.name);
    const digests = (
      this.db.prepare('SELECT name FROM image_digests WHERE image_id = ? ORDER BY name').all(r.id) as {
        name: string;
      }[]
    ).map((n) => n.name);
    return {
      id: r.id as Digest,
      manifestDigest: r.manifest_digest as Digest,
      config: JSON.parse(r.config) as ImageConfig,
      layers: JSON.parse(r.layers) as LayerRef[],
      size: r.size,
      createdAt: r.created_at,
      names,
      digests,
    };
  }
}
