/**
 * The nightly reconcile: after the full sync, yesterday (vendor zone) is reconciled by itself, its
 * result kept in Redis for `reconcile.retainDays` (the status page's lot × day grid, the daily
 * report), set in `isp_sync_reconcile_missing{source,stream}` and logged; with `reconcile.nightlyRepair`
 * what is missing is also enqueued (`repairMissing`). Also the grid the status page shows.
 */
import { reconcileCheckedAt, reconcileMissing } from '../../metrics.js';
import { ReconcileResultStore } from '../../state/reconcile-results.js';
import type { Runtime } from '../runtime.js';
import { dayBounds, dayOf, previousDay } from './days.js';
import { reconcileDays } from './reconcile.js';
import { reconcileDeps } from './reconcile-deps.js';
import { repairMissing } from './repair.js';
import {
  type DayVerdict,
  type EventStreamName,
  MISSING_KEPT,
  type ReconcileReport,
  type StoredReconcile,
  verdictOf,
} from './types.js';

const DAY = 86_400;

export function reconcileResults(rt: Runtime): ReconcileResultStore<StoredReconcile> {
  return new ReconcileResultStore<StoredReconcile>(rt.redis, rt.config.redis.prefix);
}

/** The day before the one `nowMs` falls in, in the vendor zone: what the nightly reconcile checks. */
export function yesterdayOf(nowMs: number, zone: string): string {
  return previousDay(dayOf(nowMs / 1000, zone), zone);
}

/** A report as kept: counts and at most MISSING_KEPT missing keys per row. Pure. */
export function toStored(report: ReconcileReport, day: string, repaired?: number): StoredReconcile {
  return {
    day,
    checkedAt: report.checkedAt,
    complete: report.complete,
    missingByStream: report.missingByStream,
    rows: report.rows
      .filter((r) => r.day === day)
      .map((r) => ({ ...r, missing: r.missing.slice(0, MISSING_KEPT), missingCount: r.missing.length })),
    ...(repaired !== undefined ? { repaired } : {}),
  };
}

export interface NightlyOptions {
  /** The day to reconcile; default yesterday in the vendor zone. */
  day?: string;
  /** Epoch ms (tests run the job at a faked time). */
  now?: () => number;
}

export async function runNightlyReconcile(
  rt: Runtime,
  options: NightlyOptions = {},
): Promise<StoredReconcile> {
  const now = options.now ?? Date.now;
  const zone = rt.config.vendor.timeZone;
  const day = options.day ?? yesterdayOf(now(), zone);
  const report = await reconcileDays(reconcileDeps(rt, { now }), { from: day, to: day });
  let repaired: number | undefined;
  if (rt.config.reconcile.nightlyRepair && !report.complete) {
    const result = await repairMissing(rt, report);
    repaired = result.enqueued.entrances + result.enqueued.departures;
  }
  const stored = toStored(report, day, repaired);
  const { end } = dayBounds(day, zone);
  await reconcileResults(rt).put(
    day,
    dayBounds(day, zone).start,
    stored,
    end + (rt.config.reconcile.retainDays + 1) * DAY,
  );
  setReconcileGauges(rt.config.source.name, stored);
  const missing = stored.rows.filter((r) => r.missingCount > 0);
  const fields = {
    day,
    zone,
    missing: stored.missingByStream,
    lots: missing.map((r) => `${r.parkCode}/${r.stream}:${r.missingCount}`).slice(0, 20),
    keys: missing.flatMap((r) => r.missing.map((m) => `${m.stream} ${m.key || m.vendorId}`)).slice(0, 20),
    quarantined: sum(stored, 'quarantined'),
    failed: sum(stored, 'failed'),
    ...(repaired !== undefined ? { repaired } : {}),
  };
  if (stored.complete) rt.logger.info(fields, 'reconcile: every event of the day is accounted for');
  else
    rt.logger.warn(
      fields,
      `reconcile: events of ${day} missing at ISP (isp-park-sync reconcile --date ${day} --repair)`,
    );
  return stored;
}

function sum(stored: StoredReconcile, field: 'quarantined' | 'failed'): number {
  return stored.rows.reduce((n, r) => n + r[field], 0);
}

/** The source's own series only, one by one: the other sources' nights stay as they were. */
export function setReconcileGauges(source: string, stored: StoredReconcile): void {
  for (const stream of Object.keys(stored.missingByStream) as EventStreamName[])
    reconcileMissing.set({ source, stream }, stored.missingByStream[stream]);
  reconcileCheckedAt.set({ source }, Math.floor(stored.checkedAt / 1000));
}

/** At start: the gauges from the latest stored night, so a restart does not read as "nothing missing". */
export async function restoreReconcileGauges(rt: Runtime): Promise<void> {
  const [latest] = await reconcileResults(rt).recent(1);
  if (latest) setReconcileGauges(rt.config.source.name, latest);
}

/** One lot's day on the status page: both streams together. */
export interface GridCell {
  verdict: DayVerdict;
  recorded: number;
  delivered: number;
  missing: number;
  quarantined: number;
  failed: number;
}

export interface ReconcileGrid {
  /** Oldest first. */
  days: string[];
  lots: Array<{ parkCode: string; cells: Array<GridCell | null> }>;
  latest: {
    day: string;
    checkedAt: number;
    complete: boolean;
    missingByStream: Record<EventStreamName, number>;
    repaired?: number;
  } | null;
}

/** The status page's lot × day grid from stored nights (any order). Pure. */
export function reconcileGrid(nights: readonly StoredReconcile[]): ReconcileGrid {
  const sorted = [...nights].sort((a, b) => a.day.localeCompare(b.day));
  const days = sorted.map((n) => n.day);
  const byLot = new Map<string, Array<GridCell | null>>();
  sorted.forEach((night, d) => {
    for (const row of night.rows) {
      const cells = byLot.get(row.parkCode) ?? Array.from({ length: days.length }, () => null);
      const cell = cells[d] ?? {
        verdict: 'complete',
        recorded: 0,
        delivered: 0,
        missing: 0,
        quarantined: 0,
        failed: 0,
      };
      cell.recorded += row.recorded;
      cell.delivered += row.delivered;
      cell.missing += row.missingCount;
      cell.quarantined += row.quarantined;
      cell.failed += row.failed;
      cell.verdict = worse(cell.verdict, verdictOf(row));
      cells[d] = cell;
      byLot.set(row.parkCode, cells);
    }
  });
  const last = sorted.at(-1);
  return {
    days,
    lots: [...byLot].sort(([a], [b]) => a.localeCompare(b)).map(([parkCode, cells]) => ({ parkCode, cells })),
    latest: last
      ? {
          day: last.day,
          checkedAt: last.checkedAt,
          complete: last.complete,
          missingByStream: last.missingByStream,
          ...(last.repaired !== undefined ? { repaired: last.repaired } : {}),
        }
      : null,
  };
}

const ORDER: DayVerdict[] = ['complete', 'provisional', 'quarantined', 'failed', 'missing'];
function worse(a: DayVerdict, b: DayVerdict): DayVerdict {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}
