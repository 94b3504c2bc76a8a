/** A day of visits written straight into a visit-table vendor database: `perLot` a lot, spread over the day. */
import { DateTime } from 'luxon';
import type { Harness } from './pipeline.js';

export interface DayVisitOptions {
  /** The plate of visit `k` of lot number `l` (default 鲁A00000, 鲁B00000, ... per lot). */
  plate?(l: number, k: number): string;
  /** The payable fee in fen (a negative one is quarantined). */
  fee?(l: number, k: number): number;
}

/** Visits of `day` (vendor zone): entered every 4 minutes from 00:05, left 30 minutes later. */
export async function insertDayVisits(
  h: Harness,
  day: string,
  lots: readonly string[],
  perLot: number,
  options: DayVisitOptions = {},
): Promise<void> {
  const midnight = DateTime.fromISO(day, { zone: h.config.vendor.timeZone });
  const fmt = (d: DateTime) => d.toFormat('yyyy-MM-dd HH:mm:ss');
  const rows: unknown[][] = [];
  lots.forEach((lot, l) => {
    for (let k = 0; k < perLot; k++) {
      const entered = midnight.plus({ minutes: 5 + k * 4, seconds: l * 7 });
      const plate =
        options.plate?.(l, k) ?? `鲁${String.fromCharCode(65 + (l % 26))}${String(k).padStart(5, '0')}`;
      const fee = options.fee?.(l, k) ?? 500;
      rows.push([
        lot,
        plate,
        fmt(entered),
        fmt(entered.plus({ minutes: 30 })),
        '小型车',
        fee,
        Math.max(fee, 0),
        '微信',
        fmt(entered.plus({ minutes: 29 })),
      ]);
    }
  });
  for (let i = 0; i < rows.length; i += 500) {
    const slice = rows.slice(i, i + 500);
    await h.db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, should_pay, real_pay, pay_kind, pay_time) VALUES ${slice.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      slice.flat(),
    );
  }
}

/** The lot codes of the vendor's lot table. */
export async function lotCodesOf(h: Harness): Promise<string[]> {
  const [rows] = (await h.db.admin.query('SELECT park_no FROM parkinfo ORDER BY park_no')) as unknown as [
    Array<{ park_no: string }>,
  ];
  return rows.map((r) => r.park_no);
}
