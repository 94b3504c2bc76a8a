/**
 * A visit that lives in two tables: the visit-table demo's older visits moved into a history table
 * of the same shape (ids kept, so they stay unique across both), and the event streams' mapping
 * that reads both through one derived table (`FROM (SELECT ... UNION ALL SELECT ...) v`), photos
 * through one subquery per table.
 */
import type mysql from 'mysql2/promise';

const VISIT_COLUMNS =
  'id, park_no, in_plate, out_plate, in_time, out_time, car_kind, car_brand, should_pay, real_pay, pay_kind, pay_time';

/** Moves the visits with an id up to `upToId` from car_inout into `history`; returns how many. */
export async function splitVisits(
  admin: mysql.Connection,
  history: string,
  upToId: number,
  options: { dropTimeIndexes?: boolean } = {},
): Promise<number> {
  await admin.query(`CREATE TABLE ${history} LIKE car_inout`);
  if (options.dropTimeIndexes) {
    await admin.query(`ALTER TABLE ${history} DROP INDEX idx_in_time, DROP INDEX idx_out_time`);
  }
  const [moved] = await admin.query<mysql.ResultSetHeader>(
    `INSERT INTO ${history} SELECT * FROM car_inout WHERE id <= ?`,
    [upToId],
  );
  await admin.query('DELETE FROM car_inout WHERE id <= ?', [upToId]);
  await admin.query(`ANALYZE TABLE ${history}, car_inout`);
  return moved.affectedRows;
}

/** The entrances and departures of the visit-table preset, read from `tables` as one. */
export function unionMapping(tables: string[]): Record<string, unknown> {
  const from = `(${tables.map((t) => `SELECT ${VISIT_COLUMNS} FROM ${t}`).join(' UNION ALL ')}) v`;
  const photo = (column: string) =>
    `COALESCE(${tables.map((t) => `(SELECT ${column} FROM ${t} p WHERE p.id = v.id)`).join(', ')})`;
  return {
    streams: {
      entrances: {
        from,
        cursor: { time: 'v.in_time', id: 'v.id' },
        columns: {
          parkCode: 'v.park_no',
          plateNumber: 'v.in_plate',
          enterTime: 'v.in_time',
          carType: 'v.car_kind',
          carLogo: 'v.car_brand',
        },
        photo: { column: photo('in_pic'), source: 'blob' },
      },
      departures: {
        from,
        cursor: { time: 'v.out_time', id: 'v.id' },
        columns: {
          parkCode: 'v.park_no',
          plateNumber: "COALESCE(NULLIF(v.out_plate, ''), v.in_plate)",
          departTime: 'v.out_time',
          enterTime: 'v.in_time',
          carType: 'v.car_kind',
          carLogo: 'v.car_brand',
          payableFee: 'v.should_pay',
          paidFee: 'v.real_pay',
          payTime: 'v.pay_time',
          payType: 'v.pay_kind',
        },
        photo: { column: photo('out_pic'), source: 'blob' },
      },
    },
  };
}
