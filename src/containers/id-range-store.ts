import { allocateRange, hostId, type HostId, type IdRange } from '../idmap/index.js';
import type { Db } from '../state/index.js';

export interface AllocatedRange {
  uidStart: number;
  gidStart: number;
  size: number;
}

interface Row {
  container_id: string;
  uid_start: number;
  gid_start: number;
  size: number;
}

/**
 * The id ranges given to containers, one row per container, deleted with it (ON DELETE CASCADE).
 * `allocate` must run inside the write transaction that inserts the container: the read of the
 * ranges in use and the insert then happen under one lock, so two den processes never get
 * overlapping ranges.
 */
export class IdRangeStore {
  constructor(private readonly db: Db) {}

  get(containerId: string): AllocatedRange | undefined {
    const row = this.db.prepare('SELECT * FROM id_ranges WHERE container_id = ?').get(containerId) as Row | undefined;
    return row ? { uidStart: row.uid_start, gidStart: row.gid_start, size: row.size } : undefined;
  }

  /**
   * The lowest free block of `size` ids in each pool; undefined when a pool has no room. A block
   * lies within one range of its pool, even where two ranges touch: rootless, each range is one
   * extent of the session's map, and the kernel wants every extent of a nested map inside a single
   * extent of its parent's.
   */
  allocate(containerId: string, pools: { uid: IdRange[]; gid: IdRange[] }, size: number): AllocatedRange | undefined {
    const rows = this.db.prepare('SELECT * FROM id_ranges').all() as Row[];
    const firstFit = (pool: IdRange[], start: (r: Row) => number) => {
      const used = rows.map((r) => ({ start: hostId(start(r)) as HostId, count: r.size }));
      for (const range of pool) {
        const found = allocateRange([range], used, size);
        if (found) return found;
      }
      return undefined;
    };
    const uid = firstFit(pools.uid, (r) => r.uid_start);
    const gid = firstFit(pools.gid, (r) => r.gid_start);
    if (!uid || !gid) return undefined;
    this.db
      .prepare('INSERT INTO id_ranges (container_id, uid_start, gid_start, size) VALUES (?, ?, ?, ?)')
      .run(containerId, uid.start, gid.start, size);
    return { uidStart: uid.start, gidStart: gid.start, size };
  }

  /** Every allocated range, for inspection and tests. */
  all(): (AllocatedRange & { containerId: string })[] {
    return (this.db.prepare('SELECT * FROM id_ranges ORDER BY uid_start').all() as Row[]).map((r) => ({
      containerId: r.container_id,
      uidStart: r.uid_start,
      gidStart: r.gid_start,
      size: r.size,
    }));
  }
}
