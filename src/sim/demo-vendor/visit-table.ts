/**
 * Demo schema style 1, "visit table" (config/presets/visit-table.yaml): one `car_inout` row per
 * visit, written at entry and updated at exit (`out_time` NULL while the car is inside), plates at
 * entry and exit, photos as BLOBs, car and pay kinds as Chinese text, fees in integer fen, and
 * `parkinfo` with each lot's total and used spaces. DATETIMEs are the vendor's wall clock.
 */
import { DateTime } from 'luxon';
import type mysql from 'mysql2/promise';
import { DATETIME_FORMAT } from '../../vendor-db/zone.js';
import { type CarKind, insideVisit, type PayKind, type Visit, wallClock } from './data.js';
import { bulkInsert, type DemoStyle, type PhotoSink, type SqlValue } from './style.js';

export const ZERO_DATETIME = '0000-00-00 00:00:00';

const KIND_TEXT: Record<CarKind, string> = {
  small: '小型车',
  large: '大型车',
  newEnergy: '新能源车',
  police: '警车',
  visitor: '临时车',
  noPlate: '无牌车',
  unknown: '特种车辆',
};
const PAY_TEXT: Record<PayKind, string> = {
  wechat: '微信',
  alipay: '支付宝',
  cash: '现金',
  etc: 'ETC',
  unionpay: '银联',
  stored: '储值卡',
  monthly: '月卡',
  unknown: '数字人民币',
};
const GATES = ['东门', '西门', '南门', '北门'];

const DDL = [
  `CREATE TABLE parkinfo (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    park_no VARCHAR(32) NOT NULL COMMENT '车场编号',
    park_name VARCHAR(64) NOT NULL DEFAULT '' COMMENT '车场名称',
    park_addr VARCHAR(128) DEFAULT NULL,
    lng DECIMAL(10,6) DEFAULT NULL COMMENT 'GCJ-02',
    lat DECIMAL(10,6) DEFAULT NULL COMMENT 'GCJ-02',
    total_num INT NOT NULL DEFAULT 0 COMMENT '总车位',
    used_num INT NOT NULL DEFAULT 0 COMMENT '已用车位',
    update_time DATETIME DEFAULT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uk_park_no (park_no)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='车场信息'`,
  `CREATE TABLE car_inout (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    park_no VARCHAR(32) NOT NULL,
    in_plate VARCHAR(16) DEFAULT NULL COMMENT '入场车牌',
    out_plate VARCHAR(16) DEFAULT NULL COMMENT '出场车牌',
    in_time DATETIME DEFAULT NULL,
    out_time DATETIME DEFAULT NULL COMMENT 'NULL: 在场',
    car_kind VARCHAR(16) DEFAULT NULL COMMENT '车辆类型',
    car_brand VARCHAR(32) DEFAULT NULL,
    in_gate VARCHAR(32) DEFAULT NULL,
    out_gate VARCHAR(32) DEFAULT NULL,
    should_pay INT NOT NULL DEFAULT 0 COMMENT '应收(分)',
    real_pay INT NOT NULL DEFAULT 0 COMMENT '实收(分)',
    pay_kind VARCHAR(16) DEFAULT NULL COMMENT '支付方式',
    pay_time DATETIME DEFAULT NULL,
    in_pic MEDIUMBLOB,
    out_pic MEDIUMBLOB,
    PRIMARY KEY (id),
    KEY idx_in_time (in_time, id),
    KEY idx_out_time (out_time, id),
    KEY idx_park_plate (park_no, in_plate)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='车辆进出记录'`,
];

const VISIT_COLUMNS = [
  'id',
  'park_no',
  'in_plate',
  'out_plate',
  'in_time',
  'out_time',
  'car_kind',
  'car_brand',
  'in_gate',
  'out_gate',
  'should_pay',
  'real_pay',
  'pay_kind',
  'pay_time',
  'in_pic',
  'out_pic',
];

function photo(sink: PhotoSink, index: number | null): Buffer | null {
  return index === null ? null : (sink.pool?.jpegs[index] ?? null);
}

/** The BLOBs of a visit; the "missing photo" bad row has an empty one and a truncated one. */
function photos(visit: Visit, sink: PhotoSink): [Buffer | null, Buffer | null] {
  if (visit.bad === 'missing-photo') {
    const some = sink.pool?.jpegs[0];
    return [Buffer.alloc(0), some ? some.subarray(0, 2048) : Buffer.from('not a jpeg')];
  }
  return [photo(sink, visit.inPhoto), photo(sink, visit.outPhoto)];
}

function visitRow(visit: Visit, sink: PhotoSink, wall: (epoch: number) => string): SqlValue[] {
  const [inPic, outPic] = photos(visit, sink);
  const out = visit.outEpoch !== null;
  return [
    visit.id,
    visit.parkCode,
    visit.plate,
    out ? visit.outPlate : null,
    visit.bad === 'zero-date' ? ZERO_DATETIME : wall(visit.inEpoch),
    out ? wall(visit.outEpoch!) : null,
    KIND_TEXT[visit.kind],
    visit.brand,
    `${GATES[visit.id % 4]}入口`,
    out ? `${GATES[(visit.id >> 2) % 4]}出口` : null,
    out ? visit.payableFen : 0,
    out ? visit.paidFen : 0,
    out ? PAY_TEXT[visit.pay] : null,
    visit.bad === 'zero-pay-time' ? ZERO_DATETIME : visit.payEpoch === null ? null : wall(visit.payEpoch),
    inPic,
    out ? outPic : null,
  ];
}

export const visitTable: DemoStyle = {
  name: 'visit-table',
  ddl: DDL,
  tables: ['car_inout', 'parkinfo'],
  dataTables: ['car_inout', 'parkinfo'],
  async insertReference() {},

  async insertLots(conn, lots, { used }) {
    await bulkInsert(
      conn,
      'parkinfo',
      ['park_no', 'park_name', 'park_addr', 'lng', 'lat', 'total_num', 'used_num'],
      lots.map((lot) => [
        lot.code,
        lot.name,
        lot.address,
        lot.lng,
        lot.lat,
        lot.total,
        used.get(lot.code) ?? 0,
      ]),
    );
  },

  async insertVisits(conn, visits, sink, zone) {
    const wall = wallClock(zone);
    await bulkInsert(
      conn,
      'car_inout',
      VISIT_COLUMNS,
      (function* () {
        for (const visit of visits) yield visitRow(visit, sink, wall);
      })(),
    );
    let count = 0;
    for (const v of visits) count += (v.inPhoto !== null ? 1 : 0) + (v.outPhoto !== null ? 1 : 0);
    return { photos: sink.pool ? count : 0 };
  },

  async insertEntrance(conn, visit, sink, zone) {
    const row = visitRow({ ...visit, outEpoch: null }, sink, wallClock(zone));
    const columns = VISIT_COLUMNS.slice(1);
    const [result] = await conn.query<mysql.ResultSetHeader>(
      `INSERT INTO car_inout (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      row.slice(1),
    );
    visit.id = result.insertId;
    return String(result.insertId);
  },

  async insertDeparture(conn, visit, sink, zone) {
    const row = visitRow(visit, sink, wallClock(zone));
    const at = (name: string) => row[VISIT_COLUMNS.indexOf(name)] ?? null;
    await conn.query(
      `UPDATE car_inout SET out_plate = ?, out_time = ?, out_gate = ?, should_pay = ?, real_pay = ?,
         pay_kind = ?, pay_time = ?, out_pic = ? WHERE id = ?`,
      [
        at('out_plate'),
        at('out_time'),
        at('out_gate'),
        at('should_pay'),
        at('real_pay'),
        at('pay_kind'),
        at('pay_time'),
        at('out_pic'),
        visit.id,
      ],
    );
    return String(visit.id);
  },

  async changeUsed(conn, parkCode, change) {
    if ('delta' in change) {
      await conn.query(
        'UPDATE parkinfo SET used_num = LEAST(total_num, GREATEST(0, used_num + ?)) WHERE park_no = ?',
        [change.delta, parkCode],
      );
    } else {
      await conn.query('UPDATE parkinfo SET used_num = LEAST(total_num, GREATEST(0, ?)) WHERE park_no = ?', [
        change.set,
        parkCode,
      ]);
    }
  },

  async loadLots(conn) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT park_no AS code, total_num AS total, used_num AS used FROM parkinfo',
    );
    return rows.map((r) => ({ code: String(r.code), total: Number(r.total), used: Number(r.used) }));
  },

  async loadInside(conn, limit, zone, rnd) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT id, park_no, in_plate, CAST(in_time AS CHAR) AS in_time, car_kind, car_brand FROM car_inout
        WHERE out_time IS NULL AND in_time > '2000-01-01' AND in_plate IS NOT NULL ORDER BY id DESC LIMIT ?`,
      [limit],
    );
    return rows.map((r) => {
      const kind = kindOf(String(r.car_kind));
      return insideVisit(
        {
          id: Number(r.id),
          parkCode: String(r.park_no),
          plate: String(r.in_plate),
          kind,
          brand: String(r.car_brand ?? ''),
          inEpoch: DateTime.fromFormat(String(r.in_time), DATETIME_FORMAT, { zone }).toSeconds(),
        },
        rnd,
      );
    });
  },
};

function kindOf(text: string): CarKind {
  const found = (Object.keys(KIND_TEXT) as CarKind[]).find((k) => KIND_TEXT[k] === text);
  return found ?? 'small';
}
