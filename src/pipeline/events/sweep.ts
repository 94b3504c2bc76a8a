/**
 * The sweep of a low-latency stream: the live poll reads rows as soon as they are committed (no
 * commit-lag bound), so a row whose transaction commits late, stamped earlier than rows already
 * read, lands behind its cursor. The sweep follows the live poll at the commit-lag guard's
 * distance and reads the keys (cursor time and id) of every row once, as each passes the guard
 * (`t < vendor now - commitLagSeconds`, as the guarded poll would), looks them up in the keys the
 * live poll has read, and fetches and hands on only the rows it did not read: the late ones. The
 * hand-on is the live poll's (ledger check, direct delivery or push jobs), so nothing ISP has goes
 * again.
 *
 * Where it has got (`sweptUpTo`, Unix s) moves only after its late rows are handed on, and bounds
 * the stream's watermark: departures wait for late entrances too. It never passes the live
 * checkpoint (rows after it are the live poll's to read) nor, for a stream that follows another,
 * the followed stream's watermark.
 *
 * Cost on the vendor: one keys-only keyset read per row (an index range scan of the lag window,
 * each row once however often it runs), plus a point read per late row. I/O is passed in.
 */
import type { Cursor } from '../../config/vendor-rows.js';
import type { TimeFormat } from '../../vendor-db/zone.js';
import type { EventStreamName } from '../streams.js';
import { jobsOfPage, type PageRead, type PageRow, type PushJobSpec, recordsOfPage } from './page.js';
import type { RowOutcome } from './records.js';

/** Seconds of cursor time per slice of the read marks (src/state/recent-keys.ts). */
export const MARK_SLICE_SECONDS = 10;

/**
 * The read-mark slice of a cursor time as the server wrote it. DATETIME text is taken as UTC here:
 * the slice is a label the live poll and the sweep compute alike from the same text, not a time.
 */
export function cursorSlice(text: string, format: TimeFormat): number {
  let seconds: number;
  if (format === 'datetime') {
    const ms = Date.UTC(
      Number(text.slice(0, 4)),
      Number(text.slice(5, 7)) - 1,
      Number(text.slice(8, 10)),
      Number(text.slice(11, 13) || 0),
      Number(text.slice(14, 16) || 0),
      Number(text.slice(17, 19) || 0),
    );
    seconds = ms / 1000;
  } else {
    const n = Number(text);
    seconds = format === 'epoch-ms' ? n / 1000 : n;
  }
  return Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds / MARK_SLICE_SECONDS) : 0;
}

/** The sweep's upper bound: before a time (exclusive), or up to the live checkpoint (inclusive). */
export type SweepUpper = { time: number } | { cursor: Cursor; time: number };

/**
 * The tighter of the followed stream's gate and the live checkpoint. Every row before a gate at or
 * below the checkpoint's time is behind the checkpoint, and every row up to the checkpoint is
 * before a gate above its time, so one bound in the query is enough. `time`: the bound as a time.
 */
export function sweepUpper(live: Cursor, liveEpoch: number, gate: number | undefined): SweepUpper {
  if (gate !== undefined && gate <= liveEpoch) return { time: gate };
  return { cursor: live, time: liveEpoch };
}

/**
 * Where the live read of a low-latency stream is complete (Unix s): up to its checkpoint, and, when
 * its last read was short, up to that read's time minus the commit lag (`readUpTo - lagSeconds`): a
 * row ahead of the checkpoint stamped before that had committed then, so it was read. Rows ahead
 * of the checkpoint stamped later are the live poll's to read, not the sweep's.
 */
export function liveComplete(liveEpoch: number, readUpTo: number | undefined, lagSeconds: number): number {
  return Math.max(liveEpoch, (readUpTo ?? Number.NEGATIVE_INFINITY) - lagSeconds);
}

/**
 * How far a sweep page has swept (Unix s): a full page up to its last row's time (rows at that time
 * with larger ids are read next); a short one up to the commit-lag guard `guard` read before it, the
 * followed stream's gate, and where the live read is complete (`liveComplete`): every row before
 * the result has been handed on by the live poll or by the sweep. Never back from `previous`.
 */
export function sweptAfter(
  previous: number,
  page: { full: boolean; lastEpoch: number | undefined },
  guard: number,
  gate: number | undefined,
  complete: number,
): number {
  const reached = page.full ? page.lastEpoch : Math.min(guard, gate ?? Number.POSITIVE_INFINITY, complete);
  return reached === undefined ? previous : Math.max(previous, reached);
}

export interface SweepDeps<Row extends PageRow> {
  stream: EventStreamName;
  pageSize: number;
  maxItemsPerJob: number;
  maxQueueDepth: number;
  budgetMs: number;
  /**
   * The stream is in low-latency mode. Off, a sweep left from it (the stream switched back to
   * guarded) runs until it reaches the live checkpoint, then ends for good.
   */
  lowLatency: boolean;
  sweptUpTo(): Promise<number | undefined>;
  setSweptUpTo(epoch: number): Promise<void>;
  clearSweptUpTo(): Promise<void>;
  liveCheckpoint(): Promise<Cursor | null>;
  /** The live poll's read-up-to time (Unix s), and the commit lag (`liveComplete`). */
  liveReadUpTo(): Promise<number | undefined>;
  lagSeconds: number;
  /** The DB's now minus the commit lag, Unix s, read before the page (a safe lower bound). */
  readBound(): Promise<number>;
  /** Followers: the followed stream's watermark (undefined: no bound). */
  gateUpTo?(): Promise<number | undefined>;
  /** Keys of the rows from `from` (inclusive, first page) or after `after`, before `upper`, past the guard. */
  readKeys(after: Cursor | null, from: number, limit: number, upper: SweepUpper): Promise<PageRead<Cursor>>;
  /** Which keys the live poll (or an earlier sweep) has read (same order). */
  wasRead(keys: Cursor[]): Promise<boolean[]>;
  markRead(keys: Cursor[]): Promise<void>;
  readRows(keys: Cursor[]): Promise<Row[]>;
  transform(row: Row): RowOutcome;
  cursorEpoch(cursor: Cursor): number | undefined;
  quarantine(row: Row, reasons: Array<{ code: string; message: string }>): Promise<void>;
  enqueue(jobs: PushJobSpec[]): Promise<void>;
  queueDepth(): Promise<number>;
  now?(): number;
}

export interface SweepResult {
  /** Keys read. */
  keys: number;
  /** Rows the live poll had not read, handed on (or quarantined). */
  late: number;
  pages: number;
  stoppedBy: 'caught-up' | 'budget' | 'backpressure' | 'idle' | 'finished';
}

export async function sweepEvents<Row extends PageRow>(deps: SweepDeps<Row>): Promise<SweepResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const result: SweepResult = { keys: 0, late: 0, pages: 0, stoppedBy: 'caught-up' };
  let swept = await deps.sweptUpTo();
  if (swept === undefined) {
    result.stoppedBy = 'idle';
    return result;
  }
  if ((await deps.queueDepth()) > deps.maxQueueDepth) {
    result.stoppedBy = 'backpressure';
    return result;
  }
  let after: Cursor | null = null;
  for (;;) {
    const live = await deps.liveCheckpoint();
    const liveEpoch = live ? deps.cursorEpoch(live) : undefined;
    if (!live || liveEpoch === undefined) {
      result.stoppedBy = 'idle';
      return result;
    }
    const guard = await deps.readBound();
    const gate = deps.gateUpTo ? await deps.gateUpTo() : undefined;
    const upper = sweepUpper(live, liveEpoch, gate);
    const page = await deps.readKeys(after, swept, deps.pageSize, upper);
    result.pages++;
    result.keys += page.rows.length;

    const seen = await deps.wasRead(page.rows);
    const late = page.rows.filter((_, i) => !seen[i]);
    if (late.length > 0) {
      const rows = await deps.readRows(late);
      const { records, rejected } = recordsOfPage(rows, deps.transform);
      for (const { row, reasons } of rejected) await deps.quarantine(row, reasons);
      const jobs = jobsOfPage(deps.stream, 'poll', rows, records, deps.maxItemsPerJob);
      if (jobs.length) await deps.enqueue(jobs);
      // After the hand-on: a sweep that dies before it reads them again (and the ledger, or the
      // job id, keeps them from going twice); marked, the next pass does not fetch them again.
      await deps.markRead(late);
      result.late += late.length;
    }
    const lastEpoch = page.last ? deps.cursorEpoch(page.last) : undefined;
    const complete = liveComplete(liveEpoch, await deps.liveReadUpTo(), deps.lagSeconds);
    swept = sweptAfter(swept, { full: page.full, lastEpoch }, guard, gate, complete);
    await deps.setSweptUpTo(swept);
    if (!page.full) {
      // A sweep left from the low-latency mode ends once it has reached the live checkpoint.
      if (!deps.lowLatency && swept >= liveEpoch) {
        await deps.clearSweptUpTo();
        result.stoppedBy = 'finished';
      }
      return result;
    }
    if (now() - started >= deps.budgetMs) {
      result.stoppedBy = 'budget';
      return result;
    }
    after = page.last;
  }
}
