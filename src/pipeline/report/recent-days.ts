/**
 * The status page's last days: per day (vendor zone, by event time) the events delivered, from
 * the delivery figures per day, and the completeness a nightly reconcile found for it (none for a
 * day without one, and for today). Reads only.
 */
import { reconcileResults } from '../reconcile/nightly.js';
import type { StoredReconcile } from '../reconcile/types.js';
import type { Runtime } from '../runtime.js';
import { completeness } from './daily-report.js';

export const RECENT_DAYS = 14;

export interface RecentDay {
  /** yyyy-MM-dd, vendor zone. */
  day: string;
  /** Entrances and departures of the day delivered to ISP so far. */
  delivered: number;
  /** From the day's nightly reconcile: events the vendor recorded, and the share delivered (percent). */
  recorded: number | null;
  completeness: number | null;
  /** The nightly reconcile found events missing. */
  missing: number | null;
}

/** The nightly reconcile results kept for `days` (absent for a day without one). */
export type NightlySource = (days: readonly string[]) => Promise<ReadonlyMap<string, StoredReconcile>>;

/** No nightly results (a test of the volume alone). */
export const noNightlyResults: NightlySource = async () => new Map();

/** The nightly reconcile's results as it keeps them in Redis (src/state/reconcile-results.ts). */
export function storedNightlyResults(rt: Runtime): NightlySource {
  const store = reconcileResults(rt);
  return async (days) => {
    const results = await Promise.all(days.map((day) => store.get(day)));
    return new Map(results.flatMap((r, i) => (r ? [[days[i]!, r] as const] : [])));
  };
}

export async function recentDays(
  rt: Pick<Runtime, 'deliveryDays'>,
  nowMs: number,
  nightly: NightlySource = noNightlyResults,
  count = RECENT_DAYS,
): Promise<RecentDay[]> {
  const { days } = rt.deliveryDays;
  const today = days.dayOf(Math.floor(nowMs / 1000));
  const list = days.range(days.before(today, count - 1), today);
  const [entrances, departures, stored] = await Promise.all([
    rt.deliveryDays.deliveredPerDay('entrances', list),
    rt.deliveryDays.deliveredPerDay('departures', list),
    nightly(list),
  ]);
  return list.map((day, i) => {
    const result = stored.get(day);
    const delivered = (entrances[i] ?? 0) + (departures[i] ?? 0);
    if (!result) return { day, delivered, recorded: null, completeness: null, missing: null };
    let recorded = 0;
    let reconciledDelivered = 0;
    let missing = 0;
    for (const row of result.rows) {
      recorded += row.recorded;
      reconciledDelivered += row.delivered;
      missing += row.missingCount;
    }
    return { day, delivered, recorded, completeness: completeness(reconciledDelivered, recorded), missing };
  });
}
