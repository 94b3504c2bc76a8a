/**
 * What changed in a small table since it was last delivered, as a pure function: previous
 * fingerprints (what ISP accepted, per park code) against current ones. A key that is gone is
 * "removed" (sent to DELETE /park/spot); leave soft-deleted lots out of `current` (see
 * splitDeletedParks) and they are removed too. How a row is fingerprinted is the caller's choice
 * (the pipeline fingerprints the payload it sends).
 */
import { isTruthyFlag } from '../transform/fields.js';
import type { RawPark } from './rows.js';

export interface SnapshotDiff {
  /** New keys and keys whose fingerprint differs. */
  changed: string[];
  /** Keys delivered before and absent now. */
  removed: string[];
}

export function diffSnapshot(
  previous: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, string>,
): SnapshotDiff {
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [key, fp] of current) if (previous.get(key) !== fp) changed.push(key);
  for (const key of previous.keys()) if (!current.has(key)) removed.push(key);
  return { changed, removed };
}

/** Lots split by their soft-delete flag (the transform module's rule; no column = live). */
export function splitDeletedParks(rows: RawPark[]): { live: RawPark[]; deleted: RawPark[] } {
  const live: RawPark[] = [];
  const deleted: RawPark[] = [];
  for (const row of rows) (isTruthyFlag(row.deleted) ? deleted : live).push(row);
  return { live, deleted };
}
