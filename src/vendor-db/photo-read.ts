/**
 * Fetches the photos of some event rows by vendor key, at push time (the poller never reads
 * photos, so a page stays small and fast). Returns what the column holds: a Buffer for BLOBs, text
 * for file paths, URLs or stored Base64, null when the row has none (or is gone). Turning that into
 * a JPEG under the size limit is the transform's job.
 *
 * Must not write to the vendor database.
 */
import type { Config, EventStreamName } from '../config/index.js';
import type { VendorPool } from './pool.js';
import { buildPhotoQuery } from './stream-sql.js';

export type VendorPhoto = Buffer | string | null;

/** Keys per statement: keeps one result (BLOBs of up to a few MB each) well under the packet size. */
const KEYS_PER_QUERY = 20;

export async function fetchPhotos(
  pool: VendorPool,
  cfg: Config['streams'][EventStreamName],
  vendorKeys: readonly string[],
): Promise<Map<string, VendorPhoto>> {
  const out = new Map<string, VendorPhoto>();
  for (const key of vendorKeys) out.set(key, null);
  const unique = [...out.keys()];
  for (let i = 0; i < unique.length; i += KEYS_PER_QUERY) {
    const keys = unique.slice(i, i + KEYS_PER_QUERY);
    const sql = buildPhotoQuery(cfg, keys.length);
    if (!sql) break; // the stream has no photo column
    const rows = await pool.query<{ vendorKey: string; photo: Buffer | string | null }>(sql, keys, 'photos');
    for (const row of rows) {
      const photo = row.photo;
      out.set(row.vendorKey, photo === null || photo.length === 0 ? null : photo);
    }
  }
  return out;
}
