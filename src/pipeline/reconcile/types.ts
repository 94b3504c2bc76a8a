/**
 * What a reconciliation says, per lot, per day (in the vendor's zone) and per event stream: how
 * many events the vendor recorded, how many ISP received (the delivered-key ledger), how many are
 * quarantined, parked in the failed set or still on their way, and the natural keys of every event
 * that is none of these (missing). The `reconcile` command, the nightly reconcile, the status page
 * and the daily report all speak these types; they hold no I/O.
 */
import type { EventStreamName } from '../../config/index.js';

export type { EventStreamName };

/** An event the vendor recorded that ISP did not receive and nothing accounts for. */
export interface MissingEvent {
  stream: EventStreamName;
  parkCode: string;
  /** Natural key (src/isp-spec/natural-keys.ts); '' when the row cannot be read into a payload. */
  key: string;
  /** The vendor row id. */
  vendorId: string;
  /** Event time, epoch s (the cursor time when the row cannot be read into a payload). */
  time: number;
  /** Set when the row cannot become a payload and is not in the quarantine either: why. */
  reason?: string;
}

/** One lot, one day, one stream. */
export interface LotDayReconcile {
  /** yyyy-MM-dd, in the vendor zone. */
  day: string;
  parkCode: string;
  stream: EventStreamName;
  /** Rows the vendor recorded with a cursor time in the day (the stream's own SQL and `where`). */
  recorded: number;
  /** Of them, delivered to ISP (their ledger key is in the delivered-key ledger). */
  delivered: number;
  /** Of them, in the quarantine (cannot become a valid payload). */
  quarantined: number;
  /** Of them, in a failed push job (ISP refused them, or delivery gave up): `replay` sends them. */
  failed: number;
  /** Of them, in a push job still to run (waiting, delayed, active) or held for their lot. */
  pending: number;
  /**
   * Of them, after where the stream has read up to (its checkpoint, or the commit-lag bound):
   * not read yet, so neither delivered nor missing. Non-zero only on a provisional day.
   */
  unread: number;
  /** recorded - delivered - quarantined - failed - pending - unread, each with its natural key. */
  missing: MissingEvent[];
  /** The day is still being written: part of it lies after the stream's checkpoint or is today. */
  provisional: boolean;
  /** On a provisional day: from when on (epoch s) the day is not read yet. */
  provisionalFrom?: number;
}

/** What `reconcileDays` is asked: days (yyyy-MM-dd, vendor zone, inclusive) and maybe one lot. */
export interface ReconcileQuery {
  from: string;
  to: string;
  lot?: string;
}

/** One reconciliation run over a range of days. */
export interface ReconcileReport {
  /** The vendor zone the days are in. */
  zone: string;
  from: string;
  to: string;
  lot?: string;
  /** When it ran, epoch ms. */
  checkedAt: number;
  /** Every lot × day × stream with at least one recorded event (or a missing one), sorted. */
  rows: LotDayReconcile[];
  /** Nothing missing in any row (provisional rows count as complete so far). */
  complete: boolean;
  /** Missing events per stream, over every row. */
  missingByStream: Record<EventStreamName, number>;
}

/** A nightly reconcile as kept in Redis (src/state/reconcile-results.ts), one per day. */
export interface StoredReconcile {
  day: string;
  checkedAt: number;
  complete: boolean;
  missingByStream: Record<EventStreamName, number>;
  /** The rows, each `missing` cut to the first `MISSING_KEPT` keys (the count is `missingCount`). */
  rows: Array<Omit<LotDayReconcile, 'missing'> & { missing: MissingEvent[]; missingCount: number }>;
  /** Events the nightly repair enqueued (when `reconcile.nightlyRepair` is on). */
  repaired?: number;
}

/** Missing keys kept per row of a stored nightly result (the whole list: `reconcile --date`). */
export const MISSING_KEPT = 100;

/** A row's verdict for the status page's grid and the report. */
export type DayVerdict = 'complete' | 'missing' | 'quarantined' | 'failed' | 'provisional';

export function verdictOf(
  row: Pick<LotDayReconcile, 'missing' | 'quarantined' | 'failed' | 'provisional'> & {
    missingCount?: number;
  },
): DayVerdict {
  if ((row.missingCount ?? row.missing.length) > 0) return 'missing';
  if (row.failed > 0) return 'failed';
  if (row.quarantined > 0) return 'quarantined';
  if (row.provisional) return 'provisional';
  return 'complete';
}
