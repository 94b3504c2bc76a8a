/**
 * The id-gap probe of a low-latency stream (`streams.<s>.probeIdGaps`): in a table whose rows get
 * their AUTO_INCREMENT id when inserted, a row committed late leaves a gap in the ids the live poll
 * reads (src/state/id-gaps.ts). After each live poll the open gaps are looked up by id; a row found
 * there is one the live poll never read (it lies behind the cursor), and is handed on as the sweep
 * hands on its late rows, a poll after its commit instead of a commit lag after its stamp. An id
 * still not there costs a primary-key lookup that examines no row.
 *
 * The sweep still runs behind: the probe makes late rows fast, the sweep makes them certain (a gap
 * older than the commit lag is dropped, a gap above the highest id read is never seen). What the
 * probe hands on is marked read, so the sweep passes it by.
 *
 * A follower's row (a departure) goes only once its precedent is settled (`mayGo`); one that must
 * wait stays a gap and is looked at again at the next poll. I/O is passed in.
 */
import type { EventStreamName } from '../streams.js';
import { jobsOfPage, type PageRow, type PushJobSpec, recordsOfPage } from './page.js';
import type { EventRecord, Precedent, RowOutcome } from './records.js';

/** Gaps looked up per poll (one statement). */
export const PROBE_LIMIT = 1_000;

export interface IdGapProbeDeps<Row extends PageRow> {
  stream: EventStreamName;
  maxItemsPerJob: number;
  /** Open gaps, oldest first (those older than the commit lag dropped). */
  openGaps(): Promise<string[]>;
  /** Whole rows at these ids (those that exist and are committed). */
  readRows(ids: string[]): Promise<Row[]>;
  /** Which rows the live poll (or an earlier probe or sweep) has read (same order). */
  wasRead(rows: Row[]): Promise<boolean[]>;
  markRead(rows: Row[]): Promise<void>;
  /** The gaps are closed: found and handed on, or read already. */
  resolve(ids: string[]): Promise<void>;
  transform(row: Row): RowOutcome;
  mayGo?(records: EventRecord[], precedents: Array<Precedent | undefined>): Promise<boolean[]>;
  quarantine(row: Row, reasons: Array<{ code: string; message: string }>): Promise<void>;
  enqueue(jobs: PushJobSpec[]): Promise<void>;
}

export interface IdGapProbeResult {
  /** Gaps looked up. */
  gaps: number;
  /** Rows committed late, found and handed on (or quarantined). */
  late: number;
  /** Rows found that wait for their precedent (looked at again at the next poll). */
  held: number;
}

export async function probeIdGaps<Row extends PageRow>(deps: IdGapProbeDeps<Row>): Promise<IdGapProbeResult> {
  const result: IdGapProbeResult = { gaps: 0, late: 0, held: 0 };
  const ids = await deps.openGaps();
  result.gaps = ids.length;
  if (ids.length === 0) return result;
  const found = await deps.readRows(ids);
  if (found.length === 0) return result;
  const seen = await deps.wasRead(found);
  const readBefore = found.filter((_, i) => seen[i]).map((row) => row.vendorKey);
  const fresh = found.filter((_, i) => !seen[i]);

  const paged = recordsOfPage(fresh, deps.transform);
  for (const { row, reasons } of paged.rejected) await deps.quarantine(row, reasons);
  let { records } = paged;
  let going: Row[] = fresh;
  if (deps.mayGo && records.length > 0) {
    const flags = await deps.mayGo(records, paged.precedents);
    const held = new Set<Row>(paged.rowsOf.filter((_, i) => !flags[i]));
    result.held = held.size;
    if (held.size > 0) {
      records = records.filter((_, i) => flags[i]);
      going = fresh.filter((row) => !held.has(row));
    }
  }
  const jobs = jobsOfPage(deps.stream, 'poll', going, records, deps.maxItemsPerJob);
  if (jobs.length) await deps.enqueue(jobs);
  // After the hand-on, as the sweep does: a probe that dies in between finds them again, and the
  // ledger (or the job id) keeps them from going twice.
  if (going.length) await deps.markRead(going);
  await deps.resolve([...readBefore, ...going.map((row) => row.vendorKey)]);
  result.late = going.length;
  return result;
}
