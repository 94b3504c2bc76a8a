/**
 * The page path the live poll, a backfill and a dry run share: a page of vendor rows becomes push
 * records (rows that cannot become one go to the quarantine with their reasons), and the records become
 * push jobs of at most `size` records, each named after its first and last vendor row.
 */
import type { Cursor } from '../../config/vendor-rows.js';
import { pushJobIds } from '../push-queue.js';
import type { EventStreamName } from '../streams.js';
import type { EventRecord, Precedent, RowOutcome } from './records.js';

/** A vendor row as the page path sees it: its id, and its cursor time as the server wrote it. */
export interface PageRow {
  vendorKey: string;
  cursorTime?: unknown;
}

/** A keyset page of vendor rows; `last`: the cursor after it; `full`: there may be more right away. */
export interface PageRead<Row> {
  rows: Row[];
  last: Cursor | null;
  full: boolean;
}

/** A push job to be: its id, its records, and the earliest event time among them (the departure gate). */
export interface PushJobSpec {
  id: string;
  records: EventRecord[];
  firstTime: number;
}

export interface PageRecords<Row> {
  records: EventRecord[];
  /** Each record's row (same order). */
  rowsOf: Row[];
  /** Each record's precedent (same order; departures naming their entrance). */
  precedents: Array<Precedent | undefined>;
  /** Rows that cannot become a record, with the reasons (for the quarantine). */
  rejected: Array<{ row: Row; reasons: Array<{ code: string; message: string }> }>;
}

/**
 * Transforms a page's rows. Synchronous: the caller quarantines what was rejected, so a page without
 * bad rows is handed on without waiting for anything.
 */
export function recordsOfPage<Row extends PageRow>(
  rows: readonly Row[],
  transform: (row: Row) => RowOutcome,
): PageRecords<Row> {
  const records: EventRecord[] = [];
  const rowsOf: Row[] = [];
  const precedents: Array<Precedent | undefined> = [];
  const rejected: PageRecords<Row>['rejected'] = [];
  for (const row of rows) {
    const outcome = transform(row);
    if (outcome.ok) {
      records.push(outcome.record);
      rowsOf.push(row);
      precedents.push(outcome.precedent);
    } else rejected.push({ row, reasons: outcome.reasons });
  }
  return { records, rowsOf, precedents, rejected };
}

/** Push jobs of at most `size` records, named after the first and last vendor row of each. */
export function jobsOfPage(
  stream: EventStreamName,
  origin: 'poll' | 'backfill',
  rows: readonly PageRow[],
  records: readonly EventRecord[],
  size: number,
): PushJobSpec[] {
  const cursorTime = new Map<string, string>();
  for (const row of rows) cursorTime.set(row.vendorKey, String(row.cursorTime ?? ''));
  const cursorOf = (vendorKey: string): Cursor => ({ time: cursorTime.get(vendorKey) ?? '', id: vendorKey });
  const jobs: PushJobSpec[] = [];
  for (let i = 0; i < records.length; i += size) {
    const slice = records.slice(i, i + size);
    let firstTime = Number.POSITIVE_INFINITY;
    for (const r of slice) if (r.time < firstTime) firstTime = r.time;
    jobs.push({
      id: pushJobIds.page(stream, origin, cursorOf(slice[0]!.vendorKey), cursorOf(slice.at(-1)!.vendorKey)),
      records: slice,
      firstTime,
    });
  }
  return jobs;
}
