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

  remove(chainId: string): void {
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }
}
