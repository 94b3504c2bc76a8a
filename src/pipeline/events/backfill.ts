/**
 * Backfill of an event stream over a time range: re-reads the vendor rows of [from, to) with the
 * keyset cursor inside the range, transforms them as the live poll does, and enqueues push jobs
 * (ids `backfill-<stream>-<first>-<last>`) for the records the delivered-key ledger does not have.
 * Bad rows go to the quarantine, as in a live poll. Pauses while the push queue is deeper than its
 * bound, so a long range cannot fill Redis.
 *
 * Must not move, read or write the live checkpoint, and never writes to the vendor DB. The range is
 * capped where the live pipeline still holds work (see `liveCap`), so a backfill and a live push
 * never carry the same record at once. `runBackfill` takes its I/O as arguments; `backfillDeps`
 * wires it to a Runtime.
 *
 * Ordering, as in the live pipeline: an entrance backfill holds departures (live and backfilled)
 * at the time it has read up to, and its jobs hold them until delivered; a departure backfill reads
 * only up to the entrance watermark, waiting for it to move. So entrances and departures of one
 * range may be backfilled at once and no departure overtakes its entrance.
 */
import type { Cursor } from '../../config/vendor-rows.js';
import { readEventPage } from '../../vendor-db/index.js';
import { pendingDepth } from '../queues.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAMS, type EventRow, type EventStreamName } from '../streams.js';
import { type BackfillOrdering, backfillOrdering, isLiveJob } from './departure-gate.js';
import { jobsOfPage, type PageRead, type PageRow, type PushJobSpec, recordsOfPage } from './page.js';
import { cursorEpoch, enqueueEventJobs, quarantineRow } from './poll-deps.js';
import type { EventRecord, RowOutcome } from './records.js';

/** The range [from, to), Unix seconds. */
export interface BackfillRange {
  from: number;
  to: number;
}

export interface BackfillProgress {
  /** `waiting-entrances`: a departure backfill at the entrance watermark, waiting for it to move. */
  state: 'reading' | 'waiting-queue' | 'waiting-entrances' | 'done' | 'aborted';
  read: number;
  enqueued: number;
  alreadyDelivered: number;
  quarantined: number;
  jobs: number;
  /** Everything in [from, position) has been read, Unix s. */
  position: number;
  /** Share of the range read, 0..1 (by time: the vendor is not asked to count). */
  fraction: number;
  elapsedMs: number;
  /** Estimated time to finish reading, ms (undefined until something was read). */
  etaMs: number | undefined;
  /** Push queue depth while waiting for it. */
  queueDepth?: number;
  /** The entrance watermark while waiting for it, Unix s. */
  gate?: number;
}

export interface BackfillResult {
  read: number;
  enqueued: number;
  alreadyDelivered: number;
  quarantined: number;
  pages: number;
  /** Ids of the push jobs added (a job that still existed from an earlier run is not added again). */
  jobIds: string[];
  stoppedBy: 'done' | 'aborted';
}

export interface BackfillDeps<Row extends PageRow> extends BackfillOrdering {
  stream: EventStreamName;
  pageSize: number;
  maxItemsPerJob: number;
  maxQueueDepth: number;
  /** Keyset page inside the range: after `after` (or from `from`, inclusive), before `upTo` (exclusive). */
  readPage(
    after: Cursor | null,
    limit: number,
    bounds: BackfillRange & { upTo: number },
  ): Promise<PageRead<Row>>;
  transform(row: Row): RowOutcome;
  /**
   * Only these rows (a repair sends exactly what a reconciliation found missing); the others are
   * neither sent nor quarantined. Default: every row of the range.
   */
  only?(row: Row): boolean;
  /** Which records the ledger says ISP already has (same order). */
  delivered(records: EventRecord[]): Promise<boolean[]>;
  quarantine(row: Row, reasons: Array<{ code: string; message: string }>): Promise<void>;
  enqueue(jobs: PushJobSpec[]): Promise<void>;
  queueDepth(): Promise<number>;
  cursorEpoch(cursor: Cursor): number | undefined;
  onProgress?(progress: BackfillProgress): void;
  now?(): number;
  sleep?(ms: number): Promise<void>;
  /** Stops after the current page (the work so far stays enqueued; a rerun skips it). */
  signal?: AbortSignal;
  /** Wait between backpressure and gate checks, ms. @defaultValue 1000 */
  waitMs?: number;
}

export async function runBackfill<Row extends PageRow>(
  deps: BackfillDeps<Row>,
  range: BackfillRange,
): Promise<BackfillResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const result: BackfillResult = {
    read: 0,
    enqueued: 0,
    alreadyDelivered: 0,
    quarantined: 0,
    pages: 0,
    jobIds: [],
    stoppedBy: 'done',
  };
  /** Everything in [from, position) has been read. */
  const at = { position: range.from };
  const span = Math.max(1, range.to - range.from);

  const report = (state: BackfillProgress['state'], extra: Partial<BackfillProgress> = {}) => {
    if (!deps.onProgress) return;
    const fraction = Math.min(1, Math.max(0, (at.position - range.from) / span));
    const elapsedMs = now() - started;
    deps.onProgress({
      state,
      read: result.read,
      enqueued: result.enqueued,
      alreadyDelivered: result.alreadyDelivered,
      quarantined: result.quarantined,
      jobs: result.jobIds.length,
      position: at.position,
      fraction: state === 'done' ? 1 : fraction,
      elapsedMs,
      etaMs: fraction > 0 ? (elapsedMs * (1 - fraction)) / fraction : undefined,
      ...extra,
    });
  };

  if (range.to <= range.from) {
    report('done');
    return result;
  }
  try {
    return await readRange(deps, range, at, result, report, sleep);
  } finally {
    await deps.release?.();
  }
}

async function readRange<Row extends PageRow>(
  deps: BackfillDeps<Row>,
  range: BackfillRange,
  at: { position: number },
  result: BackfillResult,
  report: (state: BackfillProgress['state'], extra?: Partial<BackfillProgress>) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<BackfillResult> {
  let after: Cursor | null = null;
  const waitMs = deps.waitMs ?? 1_000;
  for (;;) {
    // Renewed at every turn, waits included: a backfill that stops turning lets departures go.
    await deps.hold?.(at.position);
    if (deps.signal?.aborted) {
      result.stoppedBy = 'aborted';
      report('aborted');
      return result;
    }
    const depth = await deps.queueDepth();
    if (depth > deps.maxQueueDepth) {
      report('waiting-queue', { queueDepth: depth });
      await sleep(waitMs);
      continue;
    }
    const gate = deps.gate ? await deps.gate() : undefined;
    const upTo = gate === undefined ? range.to : Math.min(range.to, gate);
    if (upTo <= at.position) {
      report('waiting-entrances', { gate: upTo });
      await sleep(waitMs);
      continue;
    }
    const page = await deps.readPage(after, deps.pageSize, { ...range, upTo });
    result.pages++;
    result.read += page.rows.length;

    const rows = deps.only ? page.rows.filter((row) => deps.only!(row)) : page.rows;
    const { records, rejected } = recordsOfPage(rows, deps.transform);
    for (const { row, reasons } of rejected) await deps.quarantine(row, reasons);
    result.quarantined += rejected.length;
    const seen = records.length ? await deps.delivered(records) : [];
    const todo = records.filter((_, i) => !seen[i]);
    result.alreadyDelivered += records.length - todo.length;

    const jobs = jobsOfPage(deps.stream, 'backfill', rows, todo, deps.maxItemsPerJob);
    if (jobs.length) await deps.enqueue(jobs);
    result.enqueued += todo.length;
    result.jobIds.push(...jobs.map((j) => j.id));

    if (page.last) after = page.last;
    const reached = page.full && page.last ? deps.cursorEpoch(page.last) : upTo;
    if (reached !== undefined) at.position = Math.max(at.position, Math.min(reached, range.to));
    if (!page.full && upTo >= range.to) {
      at.position = range.to;
      report('done');
      return result;
    }
    report('reading');
  }
}

/**
 * Where the live pipeline still holds work of `stream`, Unix s: everything before it has been read
 * by the live poll and settled (delivered or parked), so a backfill up to it cannot carry a record
 * a live job is about to send. Undefined: the live pipeline never read this stream (no cap).
 * (Departures are also held at the entrance watermark, page by page: `gate` in backfillDeps.)
 */
export async function liveCap(rt: Runtime, stream: EventStreamName): Promise<number | undefined> {
  return rt.progress.watermark(stream, (id) => isLiveJob(rt, stream, id));
}

/** `runBackfill`'s I/O from a Runtime: the poll's reader, transform, quarantine and queue, with the ledger. */
export function backfillDeps(
  rt: Runtime,
  stream: EventStreamName,
  options: Pick<BackfillDeps<EventRow>, 'onProgress' | 'signal' | 'waitMs' | 'only'> = {},
): BackfillDeps<EventRow> {
  const cfg = rt.config.streams[stream];
  return {
    stream,
    pageSize: cfg.pageSize,
    maxItemsPerJob: rt.config.isp.batch.maxItems,
    maxQueueDepth: rt.config.pipeline.maxQueueDepth,
    readPage: (after, limit, bounds) =>
      readEventPage(rt.vendor, stream, cfg, rt.config.vendor, after, {
        limit,
        from: bounds.from,
        upTo: bounds.upTo,
      }),
    transform: (row) => EVENT_STREAMS[stream].toRecord(row, rt.transform),
    delivered: (records) => rt.ledgers[stream].delivered(records),
    quarantine: quarantineRow(rt, stream),
    enqueue: (jobs) => enqueueEventJobs(rt, stream, 'backfill', jobs),
    queueDepth: () => pendingDepth(rt.queues.push[stream]),
    cursorEpoch: (cursor) => cursorEpoch(rt, stream, cursor),
    ...backfillOrdering(rt, stream),
    ...options,
  };
}
