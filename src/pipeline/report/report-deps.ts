/**
 * The daily report wired to a Runtime: the delivery figures per day from Redis, the lot names from
 * the vendor's lot table (read only), and the reconciliation's rows through `ReconcileSource`.
 */

import type { LotDayReconcile, ReconcileQuery } from '../reconcile/types.js';
import type { Runtime } from '../runtime.js';
import { LOT_STREAMS } from '../streams.js';
import { buildDailyReport, type DailyReport } from './daily-report.js';

/** The event streams the report covers. */
const REPORTED = ['entrances', 'departures'] as const;

/**
 * Where the report gets recorded / quarantined / failed / missing per lot and day: a
 * reconciliation over the days asked (`reconcileDays` of src/pipeline/reconcile/). Undefined
 * answer: none is available, and the report shows deliveries only.
 */
export type ReconcileSource = (query: ReconcileQuery) => Promise<readonly LotDayReconcile[] | undefined>;

/** The report was asked for a lot that neither the vendor's lot table nor the figures know. */
export class UnknownReportLotError extends Error {
  override readonly name = 'UnknownReportLotError';
}

export async function dailyReport(
  rt: Runtime,
  query: ReconcileQuery,
  reconcile: ReconcileSource,
): Promise<DailyReport> {
  const store = rt.deliveryDays;
  const days = store.days.range(query.from, query.to);
  const [lotNames, deliveries, rows] = await Promise.all([
    readLotNames(rt),
    Promise.all(
      REPORTED.flatMap((stream) =>
        days.map(async (day) => (await store.lotDays(stream, day)).map((d) => ({ ...d, stream }))),
      ),
    ).then((all) => all.flat()),
    reconcile(query),
  ]);
  const report = buildDailyReport({
    zone: store.days.timeZone,
    from: query.from,
    to: query.to,
    lot: query.lot,
    reconcile: rows,
    deliveries,
    lotNames,
  });
  if (query.lot !== undefined && report.rows.length === 0 && !lotNames.has(query.lot)) {
    throw new UnknownReportLotError(
      `no lot "${query.lot}" in the vendor's lot table and no deliveries for it from ${query.from} to ${query.to}; ` +
        `lot codes are case-sensitive (the status page lists them)`,
    );
  }
  return report;
}

/** Lot code → name, from the vendor's lot table as the parks stream reads it. */
async function readLotNames(rt: Runtime): Promise<Map<string, string>> {
  const def = LOT_STREAMS.parks;
  const names = new Map<string, string>();
  for (const row of await def.read(rt.vendor, rt.config)) {
    const outcome = def.toItem(row, rt.transform);
    if (!('item' in outcome) || !outcome.item) continue;
    const name = outcome.item.payload.park_name;
    names.set(outcome.item.code, typeof name === 'string' ? name : '');
  }
  return names;
}
