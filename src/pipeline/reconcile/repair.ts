/**
 * Repair: sends exactly the events a reconciliation found missing, through the backfill path
 * (src/pipeline/events/backfill.ts) restricted to their vendor rows: the same page query, transform,
 * ledger check and push jobs, the departure gate (a departure waits for its entrance), photos fetched
 * at push time. Nothing is sent twice: the ledger is asked again, pending and failed events were never
 * counted missing, and a row that cannot become a payload goes to the quarantine as in a poll.
 */
import { type BackfillProgress, type BackfillResult, backfillDeps, runBackfill } from '../events/backfill.js';
import type { Runtime } from '../runtime.js';
import type { EventStreamName } from '../streams.js';
import { dayBounds } from './days.js';
import { RECONCILED_STREAMS } from './reconcile.js';
import type { ReconcileReport } from './types.js';

export interface RepairResult {
  /** Events enqueued, per stream. */
  enqueued: Record<EventStreamName, number>;
  /** Of the missing, what the ledger had by the time the repair read them (delivered meanwhile). */
  alreadyDelivered: number;
  /** Rows that cannot become a payload: now in the quarantine. */
  quarantined: number;
  /** The push jobs added, per stream (to wait for). */
  jobIds: Record<EventStreamName, string[]>;
}

export interface RepairOptions {
  onProgress?(stream: EventStreamName, progress: BackfillProgress): void;
  signal?: AbortSignal;
  waitMs?: number;
}

/** Enqueues the missing events of `report`; entrances and departures at once (the gate orders them). */
export async function repairMissing(
  rt: Runtime,
  report: ReconcileReport,
  options: RepairOptions = {},
): Promise<RepairResult> {
  const result: RepairResult = {
    enqueued: { entrances: 0, departures: 0 },
    alreadyDelivered: 0,
    quarantined: 0,
    jobIds: { entrances: [], departures: [] },
  };
  const zone = report.zone;
  await Promise.all(
    RECONCILED_STREAMS.map(async (stream) => {
      // Per day: the range of that day's missing events only, read once.
      const byDay = new Map<string, { ids: Set<string>; to: number }>();
      for (const row of report.rows) {
        if (row.stream !== stream || row.missing.length === 0) continue;
        const bounds = dayBounds(row.day, zone);
        const entry = byDay.get(row.day) ?? { ids: new Set<string>(), to: bounds.end };
        for (const m of row.missing) entry.ids.add(m.vendorId);
        // A provisional day's missing events are all before where the poll has read up to: reading
        // on would make a departure repair wait for entrances of the rest of the day.
        if (row.provisionalFrom !== undefined) entry.to = Math.min(entry.to, row.provisionalFrom);
        byDay.set(row.day, entry);
      }
      for (const [day, { ids, to }] of [...byDay].sort(([a], [b]) => a.localeCompare(b))) {
        const bounds = { start: dayBounds(day, zone).start, end: to };
        const done: BackfillResult = await runBackfill(
          backfillDeps(rt, stream, {
            only: (row) => ids.has(row.vendorKey),
            ...(options.onProgress ? { onProgress: (p) => options.onProgress!(stream, p) } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
          }),
          { from: bounds.start, to: bounds.end },
        );
        result.enqueued[stream] += done.enqueued;
        result.alreadyDelivered += done.alreadyDelivered;
        result.quarantined += done.quarantined;
        result.jobIds[stream].push(...done.jobIds);
      }
    }),
  );
  return result;
}
