/**
 * The payloads ISP should receive for a demo vendor database, computed here from the vendor rows
 * with the test's own small rules, independently of src/transform, so an end-to-end test compares
 * the pipeline's output with a second opinion rather than with itself.
 */
import { DateTime } from 'luxon';
import type mysql from 'mysql2/promise';
import type { DemoStyleName } from '../../src/sim/demo-vendor/index.js';
import type { RecordKind, Simulator } from '../../src/sim/isp/index.js';

const CAR: Record<string, string> = {
  小型车: '2',
  大型车: '1',
  新能源车: '6',
  新能源小型车: '6',
  新能源大型车: '6',
  警车: '3',
  临时车: '4',
  临时车辆: '4',
  无牌车: '5',
};
const PAY: Record<string, string> = {
  微信: '3',
  微信支付: '3',
  微信扫码: '3',
  支付宝: '4',
  支付宝扫码: '4',
  现金: '1',
  ETC: '2',
  银联: '5',
  银联卡: '5',
  储值卡: '6',
  月卡: '7',
  月租车: '7',
  月租: '7',
};
const NO_PLATE = new Set(['', '无牌车', '_无_', '未知']);

export interface ExpectedEvent {
  key: string;
  fields: Record<string, string | number>;
  /** The vendor row had a photo. */
  photo: boolean;
  /** Departures: the natural key of the same visit's entrance, when the vendor has it. */
  enterKey?: string;
}

const epoch = (local: string | null) =>
  local === null ? NaN : DateTime.fromSQL(local, { zone: 'Asia/Shanghai' }).toSeconds();
const yuan = (fen: number) => Math.round(fen) / 100;
const plateOf = (raw: string | null) => {
  const p = (raw ?? '').trim();
  return NO_PLATE.has(p) ? '无牌车' : p;
};
const carType = (plate: string, kind: string | null) =>
  plate === '无牌车' ? '5' : (CAR[(kind ?? '').trim()] ?? '2');

export async function expectedEvents(
  db: mysql.Connection,
  style: DemoStyleName,
): Promise<{ entrances: ExpectedEvent[]; departures: ExpectedEvent[] }> {
  if (style !== 'visit-table') return expectedEntryExit(db);
  const [rows] = await db.query<mysql.RowDataPacket[]>(
    `SELECT id, park_no, in_time, out_time, in_plate, out_plate, car_kind, car_brand, should_pay, real_pay,
            pay_time, pay_kind, in_pic IS NOT NULL AS has_in, out_pic IS NOT NULL AS has_out FROM car_inout ORDER BY id`,
  );
  const entrances: ExpectedEvent[] = [];
  const departures: ExpectedEvent[] = [];
  for (const r of rows) {
    const plate = plateOf(r.in_plate);
    const enter = epoch(r.in_time);
    entrances.push({
      key: `${r.park_no}|${plate}|${enter}`,
      fields: {
        park_code: r.park_no,
        plate_number: plate,
        enter_time: enter,
        car_type: carType(plate, r.car_kind),
        car_logo: r.car_brand ?? '',
      },
      photo: Boolean(r.has_in),
    });
    if (r.out_time === null) continue;
    const outPlate = r.out_plate && String(r.out_plate).trim() ? plateOf(r.out_plate) : plate;
    const depart = epoch(r.out_time);
    const paid = Number(r.real_pay);
    departures.push({
      key: `${r.park_no}|${outPlate}|${depart}`,
      fields: {
        park_code: r.park_no,
        plate_number: outPlate,
        depart_time: depart,
        car_type: carType(outPlate, r.car_kind),
        car_logo: r.car_brand ?? '',
        use_time: Math.ceil((depart - enter) / 60),
        payable_fee: yuan(Number(r.should_pay)),
        paid_fee: yuan(paid),
        pay_time: paid === 0 || r.pay_time === null ? depart : epoch(r.pay_time),
        pay_type: PAY[(r.pay_kind ?? '').trim()] ?? '1',
      },
      photo: Boolean(r.has_out),
      enterKey: `${r.park_no}|${plate}|${enter}`,
    });
  }
  return { entrances, departures };
}

async function expectedEntryExit(
  db: mysql.Connection,
): Promise<{ entrances: ExpectedEvent[]; departures: ExpectedEvent[] }> {
  const [ins] = await db.query<mysql.RowDataPacket[]>(
    `SELECT e.entry_id, e.park_code, e.plate_no, e.entry_time, ct.type_name, e.brand, e.photo_path
       FROM t_entry e LEFT JOIN t_car_type ct ON ct.type_id = e.car_type_id ORDER BY e.entry_id`,
  );
  const [outs] = await db.query<mysql.RowDataPacket[]>(
    `SELECT x.exit_id, x.park_code, x.plate_no, x.exit_time, e.entry_time, e.plate_no AS entry_plate, ct.type_name, x.brand, x.duration_min,
            x.receivable, x.received, x.pay_at, x.pay_method, x.photo_path
       FROM t_exit x LEFT JOIN t_entry e ON e.entry_id = x.entry_id LEFT JOIN t_car_type ct ON ct.type_id = x.car_type_id
      ORDER BY x.exit_id`,
  );
  const entrances = ins.map((r) => {
    const plate = plateOf(r.plate_no);
    const enter = epoch(r.entry_time);
    return {
      key: `${r.park_code}|${plate}|${enter}`,
      fields: {
        park_code: r.park_code,
        plate_number: plate,
        enter_time: enter,
        car_type: carType(plate, r.type_name),
        car_logo: r.brand ?? '',
      },
      photo: Boolean(r.photo_path),
    };
  });
  const departures = outs.map((r) => {
    const plate = plateOf(r.plate_no);
    const depart = epoch(r.exit_time);
    const paid = Math.round(Number(r.received) * 100);
    const useTime =
      r.duration_min === null ? Math.ceil((depart - epoch(r.entry_time)) / 60) : Number(r.duration_min);
    return {
      key: `${r.park_code}|${plate}|${depart}`,
      fields: {
        park_code: r.park_code,
        plate_number: plate,
        depart_time: depart,
        car_type: carType(plate, r.type_name),
        car_logo: r.brand ?? '',
        use_time: useTime,
        payable_fee: Math.round(Number(r.receivable) * 100) / 100,
        paid_fee: paid / 100,
        pay_time: paid === 0 || r.pay_at === null ? depart : epoch(r.pay_at),
        pay_type: PAY[String(r.pay_method ?? '').trim()] ?? '1',
      },
      photo: Boolean(r.photo_path),
      ...(r.entry_time === null
        ? {}
        : { enterKey: `${r.park_code}|${plateOf(r.entry_plate)}|${epoch(r.entry_time)}` }),
    };
  });
  return { entrances, departures };
}

/**
 * Asserts that no departure reached ISP before the entrance of its visit: receipt times from the
 * simulator, visit links from the vendor rows. ISP tells entrances apart by their natural key only,
 * and two cars without a plate entering one lot in the same second share one: so, per entrance
 * key, the k-th departure naming it must have come after the k-th receipt of that key (each
 * departure can be paired with an entrance of its own received before it).
 */
export function departuresAfterEntrances(
  departures: ExpectedEvent[],
  entranceReceivedAt: Map<string, number[]>,
  departureReceivedAt: Map<string, number[]>,
  /** Entrances parked in the failed set (rejected): their departures were released on purpose. */
  exceptEntrances: ReadonlySet<string> = new Set(),
): string[] {
  // The entrance keys each departure key names (two plate-less departures can share a key too).
  const named = new Map<string, Set<string>>();
  for (const d of departures) {
    if (!d.enterKey || exceptEntrances.has(d.enterKey)) continue;
    named.set(d.key, (named.get(d.key) ?? new Set()).add(d.enterKey));
  }
  const departedByEntrance = new Map<string, Array<{ key: string; at: number }>>();
  const violations: string[] = [];
  for (const [key, enterKeys] of named) {
    const receipts = departureReceivedAt.get(key) ?? [];
    if (enterKeys.size > 1) {
      // Which receipt is whose cannot be told: each must at least follow some entrance it names.
      const first = Math.min(...[...enterKeys].map((k) => Math.min(...(entranceReceivedAt.get(k) ?? [0]))));
      for (const at of receipts)
        if (at < first)
          violations.push(`${key} at ${at} before any of its entrances ${[...enterKeys].join(', ')}`);
      continue;
    }
    const [enterKey] = enterKeys;
    const list = departedByEntrance.get(enterKey!) ?? [];
    for (const at of receipts) list.push({ key, at });
    departedByEntrance.set(enterKey!, list);
  }
  for (const [enterKey, departed] of departedByEntrance) {
    const entered = [...(entranceReceivedAt.get(enterKey) ?? [])].sort((a, b) => a - b);
    departed.sort((a, b) => a.at - b.at);
    departed.forEach((d, k) => {
      const enteredAt = entered[k];
      if (enteredAt !== undefined && d.at < enteredAt)
        violations.push(`${d.key} at ${d.at} before its entrance ${enterKey} at ${enteredAt}`);
    });
  }
  return violations;
}

/** Receipt times (ms) at the simulator per natural key, in the order received. */
export function receivedAt(h: { sim: Simulator }, kind: 'entrance' | 'departure'): Map<string, number[]> {
  const timeField = kind === 'entrance' ? 'enter_time' : 'depart_time';
  const out = new Map<string, number[]>();
  for (const e of h.sim.state.received(kind, 0, 1_000_000)) {
    const r = e.record as Record<string, unknown>;
    const key = `${r.park_code}|${r.plate_number}|${r[timeField]}`;
    const list = out.get(key) ?? [];
    list.push(e.receivedAt);
    out.set(key, list);
  }
  return out;
}

/**
 * Per lot prefix (a park code up to its "/", `ATXL` of `ATXL/3`), the client ids whose tokens
 * delivered records of `kind` to the simulator: a source with credentials of its own must show
 * its prefix delivered by its client alone.
 */
export function sendersByLotPrefix(sim: Simulator, kind: RecordKind): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const entry of sim.state.received(kind, 0, Number.MAX_SAFE_INTEGER)) {
    // Every kind's natural key starts with the park code (a deletion's key is the code).
    const code = entry.key.split('|')[0]!;
    const prefix = code.includes('/') ? code.slice(0, code.indexOf('/')) : code;
    const senders = out.get(prefix) ?? new Set<string>();
    senders.add(entry.clientId);
    out.set(prefix, senders);
  }
  return out;
}
