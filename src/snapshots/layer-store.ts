import type { Db } from '../state/index.js';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  size: number;
  entries: number;
  maxUid: number;
  maxGid: number;
}

/** Records of unpacked layers (layers/<chain id hex> on disk). */
export class LayerStore {
  constructor(private readonly db: Db) {}

  has(chainId: string): boolean {
    return this.db.prepare('SELECT 1 FROM layers WHERE chain_id = ?').get(chainId) !== undefined;
  }

  add(l: LayerRecord): void {
    this.db
      .prepare(
        `INSERT INTO layers (chain_id, diff_id, parent, size, entries, max_uid, max_gid, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chain_id) DO NOTHING`,
      )
      .run(l.chainId, l.diffId, l.parent, l.size, l.entries, l.maxUid, l.maxGid, new Date().toISOString());
  }

  /** The unpacked size of a layer; 0 for one the store does not record. */
  size(chainId: string): number {
    const row = this.db.prepare('SELECT size FROM layers WHERE chain_id = ?').get(chainId) as
      { size: number } | undefined;
    return row?.size ?? 0;
  }

  /** How many entries the layer holds; 0 for one the store does not record. */
  entries(chainId: string): number {
    const row = this.db.prepare('SELECT entries FROM layers WHERE chain_id = ?').get(chainId) as
      { entries: number } | undefined;
    return row?.entries ?? 0;
  }

  /** The highest uid and gid owning a file in the layer, when it is recorded. */
  highestIds(chainId: string): { uid: number; gid: number } | undefined {
    const row = this.db.prepare('SELECT max_uid, max_gid FROM layers WHERE chain_id = ?').get(chainId) as
      { max_uid: number; max_gid: number } | undefined;
    return row ? { uid: row.max_uid, gid: row.max_gid } : undefined;
  }

  /** Every recorded chain id. */
  chainIds(): string[] {
    return (this.db.prepare('SELECT chain_id FROM layers').all() as { chain_id: string }[]).map((r) => r.chain_id);
  }

  remove(chainId: string): void {
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }
}
