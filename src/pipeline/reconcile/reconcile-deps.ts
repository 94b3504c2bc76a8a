/**
 * `reconcileDays`' reads wired to a Runtime: the vendor's rows through each stream's own page query
 * (a range on the cursor's time index, the commit-lag guard included), the stream table's transform
 * and ledger key, the delivered-key ledger, the quarantine, and the push queues' jobs. Reads only:
 * nothing is written to Redis or to the vendor database.
 */
import type { Job } from 'bullmq';
import type { Cursor } from '../../config/vendor-rows.js';
import { RECONCILE_EXPLAIN_ROWS } from '../../vendor-db/explain.js';
import { readEventPage } from '../../vendor-db/index.js';
import { cursorEpoch } from '../events/poll-deps.js';
import type { EventRecord } from '../events/records.js';
import { readPushJob } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAMS, type EventRow, type EventStreamName, LOT_STREAMS } from '../streams.js';
import type { ReconcileDeps } from './reconcile.js';

/**
 * Rows per reconcile page: one statement reads this many index entries and one more, so larger
 * pages examine fewer rows beyond those returned; a page's rows are dropped once counted.
 */
export const RECONCILE_PAGE_ROWS = RECONCILE_EXPLAIN_ROWS;
/** Jobs fetched from a queue per call. */
const JOB_PAGE = 500;
/**
 * In the order jobs move through them (delayed → wait → active), read one after the other: a job
 * moving on between two reads is found in the later one (a job that finished is in the ledger).
 */
const PENDING_STATES = ['delayed', 'prioritized', 'waiting-children', 'wait', 'active'] as const;

export function reconcileDeps(rt: Runtime, options: { now?: () => number } = {}): ReconcileDeps {
  const vendor = rt.config.vendor;
  return {
    zone: vendor.timeZone,
    retainDays: rt.config.reconcile.retainDays,
    now: options.now ?? Date.now,
    lotCodes: () => lotCodes(rt),
    readUpTo: (stream) => readUpTo(rt, stream),
    pendingKeys: async (stream) => {
      const keys = await jobKeys(rt, stream, PENDING_STATES);
      for (const held of await rt.holds.peekAll<EventRecord>())
        if (held.stream === stream) keys.add(held.record.key);
      return keys;
    },
    failedKeys: (stream) => jobKeys(rt, stream, ['failed']),
    readRows: async (stream, range, onPage) => {
      const cfg = rt.config.streams[stream];
      let after: Cursor | null = null;
      for (;;) {
        const page: { rows: unknown[]; last: Cursor | null; full: boolean } = await readEventPage(
          rt.vendor,
          stream,
          cfg,
          vendor,
          after,
          {
            limit: RECONCILE_PAGE_ROWS,
            from: range.from,
            upTo: range.to,
          },
        );
        if (page.rows.length) await onPage(page.rows as EventRow[]);
        if (!page.full || !page.last) return;
        after = page.last;
      }
    },
    transform: (stream, row) => EVENT_STREAMS[stream].toRecord(row, rt.transform),
    cursorEpoch: (stream, row) =>
      cursorEpoch(rt, stream, { time: String(row.cursorTime), id: row.vendorKey }),
    delivered: (stream, records) => rt.ledgers[stream].delivered([...records]),
    quarantined: (stream, vendorKeys) => rt.quarantine.present(stream, vendorKeys),
  };
}

/** Every lot code in the vendor's lot table (the parks stream's own read). */
export async function lotCodes(rt: Runtime): Promise<string[]> {
  const rows = await LOT_STREAMS.parks.read(rt.vendor, rt.config);
  const codes = new Set<string>();
  for (const row of rows)
    if (row.parkCode !== null && row.parkCode !== undefined) codes.add(String(row.parkCode).trim());
  return [...codes].sort();
}

/** Where the stream's poll has read up to, as `status` shows it (Unix s); undefined: never read. */
export async function readUpTo(rt: Runtime, stream: EventStreamName): Promise<number | undefined> {
  const caughtUp = await rt.progress.caughtUp(stream);
  if (caughtUp !== undefined) return caughtUp;
  const checkpoint = await rt.checkpoints.get(stream);
  return checkpoint ? cursorEpoch(rt, stream, checkpoint) : undefined;
}

/** Ledger keys of every record in the stream's push jobs in `states`. */
async function jobKeys(
  rt: Runtime,
  stream: EventStreamName,
  states: readonly (typeof PENDING_STATES)[number][] | ['failed'],
): Promise<Set<string>> {
  const queue = rt.queues.push[stream];
  const keys = new Set<string>();
  // One state at a time: BullMQ applies a range to each state's list separately.
  for (const state of states) {
    for (let start = 0; ; start += JOB_PAGE) {
      const jobs: Job[] = await queue.getJobs([state], start, start + JOB_PAGE - 1, true);
      for (const job of jobs) {
        const data = job ? readPushJob(job.data) : undefined;
        if (data?.kind === 'events') for (const record of data.records) keys.add(record.key);
      }
      if (jobs.length < JOB_PAGE) break;
    }
  }
  return keys;
}
