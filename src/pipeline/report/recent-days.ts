/**
 * The status page's last days: per day (vendor zone, by event time) the events delivered, from
 * the delivery figures per day, and the completeness a nightly reconcile found for it (from the
 * nights the status page's grid already read; none for a day without one, and for today).
 */
import type { ReconcileGrid } from '../reconcile/nightly.js';
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

/** What a nightly reconcile found for a day, every lot and stream together. */
export interface NightTotals {
  recorded: number;
  delivered: number;
  missing: number;
}

/** Per day, the totals of the nights the status page's grid holds (no second read of them). Pure. */
export function nightTotals(grid: ReconcileGrid | undefined): Map<string, NightTotals> {
  const out = new Map<string, NightTotals>();
  for (const [d, day] of (grid?.days ?? []).entries()) {
    const t = { recorded: 0, delivered: 0, missing: 0 };
    for (const lot of grid!.lots) {
      const cell = lot.cells[d];
      if (!cell) continue;
      t.recorded += cell.recorded;
      t.delivered += cell.delivered;
      t.missing += cell.missing;
    }
    out.set(day, t);
  }
  return out;
}

export async function recentDays(
  rt: Pick<Runtime, 'deliveryDays'>,
  nowMs: number,
  nights: ReadonlyMap<string, NightTotals> = new Map(),
  count = RECENT_DAYS,
): Promise<RecentDay[]> {
  const { days } = rt.deliveryDays;
  const today = days.dayOf(Math.floor(nowMs / 1000));
  const list = days.range(days.before(today, count - 1), today);
  const [entrances, departures] = await Promise.all([
    rt.deliveryDays.deliveredPerDay('entrances', list),
    rt.deliveryDays.deliveredPerDay('departures', list),
  ]);
  return list.map((day, i) => {
    const delivered = (entrances[i] ?? 0) + (departures[i] ?? 0);
    const night = nights.get(day);
    if (!night) return { day, delivered, recorded: null, completeness: null, missing: null };
    return {
      day,
      delivered,
      recorded: night.recorded,
      completeness: completeness(night.delivered, night.recorded),
      missing: night.missing,
    };
  });
}
