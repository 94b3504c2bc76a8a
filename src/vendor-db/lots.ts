/**
 * Reads the small tables whole: parking lots and their space counts. The caller diffs them against
 * what was last delivered (src/pipeline/lots/lot-streams.ts). Soft-deleted lots are
 * returned with their `deleted` flag, not filtered, so a deletion can be seen and sent.
 *
 * Must not write to the vendor database.
 */
import type { Config } from '../config/index.js';
import type { RawPark, RawSpotNum } from '../config/vendor-rows.js';
import { rowsRead } from '../metrics.js';
import type { VendorPool } from './pool.js';
import { buildSnapshotQuery } from './stream-sql.js';

type Streams = Config['streams'];

const texts = new WeakMap<object, string>();

function textFor(cfg: Streams['parks'] | Streams['spotNums']): string {
  let sql = texts.get(cfg);
  if (!sql) {
    sql = buildSnapshotQuery(cfg);
    texts.set(cfg, sql);
  }
  return sql;
}

export async function readParks(pool: VendorPool, cfg: Streams['parks']): Promise<RawPark[]> {
  const rows = await pool.execute<RawPark>(textFor(cfg), [], 'parks');
  rowsRead.inc({ source: pool.source, stream: 'parks' }, rows.length);
  return rows;
}

export async function readSpotNums(pool: VendorPool, cfg: Streams['spotNums']): Promise<RawSpotNum[]> {
  const rows = await pool.execute<RawSpotNum>(textFor(cfg), [], 'spotNums');
  rowsRead.inc({ source: pool.source, stream: 'spotNums' }, rows.length);
  return rows;
}
