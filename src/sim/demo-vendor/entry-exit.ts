/**
 * Long by design: one demo schema style whole (tables, seed writes, traffic writes), read in one place.
 *
 * Demo schema style 2, "entry/exit tables" (config/presets/entry-exit.yaml): `t_entry` and
 * `t_exit` rows (GBK tables, as old Chinese systems have them), photos as file paths relative to a
 * picture folder, car types through the `t_car_type` lookup table, the pay method as free text,
 * fees as DECIMAL yuan; lots in `t_park` with BD-09 coordinates and a soft-delete flag, free
 * spaces in `t_park_space`. DATETIMEs are the vendor's wall clock.
 */
import { DateTime } from 'luxon';
import type mysql from 'mysql2/promise';
import { DATETIME_FORMAT } from '../../vendor-db/zone.js';
import { type CarKind, insideVisit, type PayKind, toBd09, type Visit, wallClock } from './data.js';
import { placePhotoFile } from './photo-pool.js';
import { bulkInsert, type DemoStyle, lotFolder, type PhotoSink, type SqlValue } from './style.js';
import { ZERO_DATETIME } from './visit-table.js';

/** t_car_type: id -> name. 9 is a name no dictionary knows (the "unknown kind" bad row uses it). */
const CAR_TYPES: ReadonlyArray<readonly [number, string]> = [
  [1, '小型车'],
  [2, '大型车'],
  [3, '新能源小型车'],
  [4, '警车'],
  [5, '临时车辆'],
  [6, '无牌车'],
  [7, '新能源大型车'],
  [9, '特种车辆'],
];
const TYPE_ID: Record<CarKind, number> = {
  small: 1,
  large: 2,
  newEnergy: 3,
  police: 4,
  visitor: 5,
  noPlate: 6,
  unknown: 9,
};
/** Free text as cashiers and pay terminals wrote it, spaces included. */
const PAY_TEXT: Record<PayKind, string[]> = {
  wechat: ['微信支付', '微信扫码', ' 微信支付'],
  alipay: ['支付宝扫码', '支付宝'],
  cash: ['现金'],
  etc: ['ETC'],
  unionpay: ['银联卡', '银联'],
  stored: ['储值卡'],
  monthly: ['月租车', '月租'],
  unknown: ['数字人民币'],
};
const GATES = ['1号岗亭', '2号岗亭', '地库入口', '地面出口'];

const DDL = [
  `CREATE TABLE t_car_type (
    type_id INT NOT NULL,
    type_name VARCHAR(20) NOT NULL,
    remark VARCHAR(64) DEFAULT NULL,
    PRIMARY KEY (type_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE t_park (
    park_id INT NOT NULL AUTO_INCREMENT,
    code VARCHAR(32) NOT NULL,
    name VARCHAR(64) DEFAULT NULL,
    address VARCHAR(128) DEFAULT NULL,
    bd_lng DECIMAL(10,6) DEFAULT NULL COMMENT 'BD-09',
    bd_lat DECIMAL(10,6) DEFAULT NULL COMMENT 'BD-09',
    is_deleted TINYINT(1) NOT NULL DEFAULT 0,
    create_time DATETIME DEFAULT NULL,
    update_time DATETIME DEFAULT NULL,
    PRIMARY KEY (park_id),
    UNIQUE KEY uk_code (code)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE t_park_space (
    park_code VARCHAR(32) NOT NULL,
    total_space INT NOT NULL,
    free_space INT NOT NULL,
    update_time DATETIME DEFAULT NULL,
    PRIMARY KEY (park_code)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE t_entry (
    entry_id BIGINT NOT NULL AUTO_INCREMENT,
    park_code VARCHAR(32) NOT NULL,
    plate_no VARCHAR(16) CHARACTER SET gbk DEFAULT NULL,
    entry_time DATETIME DEFAULT NULL,
    car_type_id INT DEFAULT NULL,
    brand VARCHAR(32) DEFAULT NULL,
    gate_name VARCHAR(32) DEFAULT NULL,
    photo_path VARCHAR(255) DEFAULT NULL COMMENT 'relative to the picture folder',
    PRIMARY KEY (entry_id),
    KEY idx_entry_time (entry_time, entry_id),
    KEY idx_plate (plate_no)
  ) ENGINE=InnoDB DEFAULT CHARSET=gbk`,
  `CREATE TABLE t_exit (
    exit_id BIGINT NOT NULL AUTO_INCREMENT,
    entry_id BIGINT DEFAULT NULL,
    park_code VARCHAR(32) NOT NULL,
    plate_no VARCHAR(16) CHARACTER SET gbk DEFAULT NULL,
    exit_time DATETIME DEFAULT NULL,
    car_type_id INT DEFAULT NULL,
    brand VARCHAR(32) DEFAULT NULL,
    gate_name VARCHAR(32) DEFAULT NULL,
    duration_min INT DEFAULT NULL,
    receivable DECIMAL(10,2) DEFAULT NULL COMMENT 'yuan',
    received DECIMAL(10,2) DEFAULT NULL COMMENT 'yuan',
    pay_at DATETIME DEFAULT NULL,
    pay_method VARCHAR(32) DEFAULT NULL,
    photo_path VARCHAR(255) DEFAULT NULL,
    PRIMARY KEY (exit_id),
    KEY idx_exit_time (exit_time, exit_id),
    KEY idx_entry (entry_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=gbk`,
];

const ENTRY_COLUMNS = [
  'entry_id',
  'park_code',
  'plate_no',
  'entry_time',
  'car_type_id',
  'brand',
  'gate_name',
  'photo_path',
];
const EXIT_COLUMNS = [
  'exit_id',
  'entry_id',
  'park_code',
  'plate_no',
  'exit_time',
  'car_type_id',
  'brand',
  'gate_name',
  'duration_min',
  'receivable',
  'received',
  'pay_at',
  'pay_method',
  'photo_path',
];

const yuan = (fen: number) => (fen / 100).toFixed(2);

/** `20260301/ATXL_1/in_123.jpg`: the folder layout of a gate camera's picture store. */
function photoPath(visit: Visit, side: 'in' | 'out', id: number, wall: (e: number) => string): string {
  const day = wall(side === 'in' ? visit.inEpoch : visit.outEpoch!)
    .slice(0, 10)
    .replace(/-/g, '');
  return `${day}/${lotFolder(visit.parkCode)}/${side}_${id}.jpg`;
}

interface PhotoFile {
  index: number;
  path: string;
}

/** The photo path a row stores, and the file to write for it (none for the missing-photo row). */
function photoFor(
  visit: Visit,
  side: 'in' | 'out',
  id: number,
  sink: PhotoSink,
  wall: (e: number) => string,
): { path: string | null; file?: PhotoFile } {
  if (visit.bad === 'missing-photo') return { path: photoPath(visit, side, id, wall) };
  const index = side === 'in' ? visit.inPhoto : visit.outPhoto;
  if (index === null || !sink.pool || !sink.dir) return { path: null };
  const path = photoPath(visit, side, id, wall);
  return { path, file: { index, path } };
}

function entryRow(visit: Visit, path: string | null, wall: (e: number) => string): SqlValue[] {
  return [
    visit.id,
    visit.parkCode,
    visit.plate,
    visit.bad === 'zero-date' ? ZERO_DATETIME : wall(visit.inEpoch),
    TYPE_ID[visit.kind],
    visit.brand,
    GATES[visit.id % 2]!,
    path,
  ];
}

function exitRow(
  visit: Visit,
  exitId: number | null,
  path: string | null,
  wall: (e: number) => string,
): SqlValue[] {
  const out = visit.outEpoch!;
  const texts = PAY_TEXT[visit.pay];
  return [
    exitId,
    visit.id,
    visit.parkCode,
    // The system matched the entry: an unread exit plate shows the entry's.
    visit.outPlate === '' || visit.outPlate === null ? visit.plate : visit.outPlate,
    wall(out),
    TYPE_ID[visit.kind],
    visit.brand,
    GATES[2 + (visit.id % 2)]!,
    Math.ceil((out - visit.inEpoch) / 60),
    yuan(visit.payableFen),
    yuan(visit.paidFen),
    visit.bad === 'zero-pay-time' ? ZERO_DATETIME : visit.payEpoch === null ? null : wall(visit.payEpoch),
    texts[visit.id % texts.length]!,
    path,
  ];
}

async function writeFiles(sink: PhotoSink, files: PhotoFile[]): Promise<void> {
  if (!sink.pool || !sink.dir || files.length === 0) return;
  const pool = sink.pool;
  const dir = sink.dir;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      await placePhotoFile(pool, file.index, dir, file.path);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

export const entryExit: DemoStyle = {
  name: 'entry-exit',
  ddl: DDL,
  tables: ['t_exit', 't_entry', 't_park_space', 't_park', 't_car_type'],
  dataTables: ['t_exit', 't_entry', 't_park_space', 't_park'],

  async insertReference(conn) {
    await bulkInsert(
      conn,
      't_car_type',
      ['type_id', 'type_name'],
      CAR_TYPES.map(([id, name]) => [id, name]),
    );
  },

  async insertLots(conn, lots, { used, deleted, zone }) {
    const now = wallClock(zone)(Math.floor(Date.now() / 1000));
    await bulkInsert(
      conn,
      't_park',
      ['code', 'name', 'address', 'bd_lng', 'bd_lat', 'is_deleted', 'create_time', 'update_time'],
      lots.map((lot) => {
        const [lng, lat] = toBd09(lot.lng, lot.lat);
        return [lot.code, lot.name, lot.address, lng, lat, deleted.has(lot.code) ? 1 : 0, now, now];
      }),
    );
    await bulkInsert(
      conn,
      't_park_space',
      ['park_code', 'total_space', 'free_space', 'update_time'],
      lots.map((lot) => [lot.code, lot.total, Math.max(0, lot.total - (used.get(lot.code) ?? 0)), now]),
    );
  },

  async insertVisits(conn, visits, sink, zone) {
    const wall = wallClock(zone);
    const files: PhotoFile[] = [];
    await bulkInsert(
      conn,
      't_entry',
      ENTRY_COLUMNS,
      (function* () {
        for (const visit of visits) {
          const photo = photoFor(visit, 'in', visit.id, sink, wall);
          if (photo.file) files.push(photo.file);
          yield entryRow(visit, photo.path, wall);
        }
      })(),
    );
    const left = visits.filter((v) => v.outEpoch !== null && v.exitId !== undefined);
    left.sort((a, b) => a.exitId! - b.exitId!);
    await bulkInsert(
      conn,
      't_exit',
      EXIT_COLUMNS,
      (function* () {
        for (const visit of left) {
          const photo = photoFor(visit, 'out', visit.exitId!, sink, wall);
          if (photo.file) files.push(photo.file);
          yield exitRow(visit, visit.exitId!, photo.path, wall);
        }
      })(),
    );
    await writeFiles(sink, files);
    return { photos: files.length };
  },

  async insertEntrance(conn, visit, sink, zone) {
    const wall = wallClock(zone);
    const columns = ENTRY_COLUMNS.slice(1);
    const [result] = await conn.query<mysql.ResultSetHeader>(
      `INSERT INTO t_entry (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      entryRow(visit, null, wall).slice(1),
    );
    visit.id = result.insertId;
    await storePhoto(conn, visit, 'in', visit.id, sink, wall);
    return String(visit.id);
  },

  async insertDeparture(conn, visit, sink, zone) {
    const wall = wallClock(zone);
    const row = exitRow(visit, null, null, wall);
    const columns = EXIT_COLUMNS.slice(1);
    const [result] = await conn.query<mysql.ResultSetHeader>(
      `INSERT INTO t_exit (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      row.slice(1),
    );
    visit.exitId = result.insertId;
    await storePhoto(conn, visit, 'out', visit.exitId, sink, wall);
    return String(visit.exitId);
  },

  async changeUsed(conn, parkCode, change) {
    if ('delta' in change) {
      await conn.query(
        'UPDATE t_park_space SET free_space = LEAST(total_space, GREATEST(0, free_space - ?)) WHERE park_code = ?',
        [change.delta, parkCode],
      );
    } else {
      await conn.query(
        'UPDATE t_park_space SET free_space = LEAST(total_space, GREATEST(0, total_space - ?)) WHERE park_code = ?',
        [change.set, parkCode],
      );
    }
  },

  async loadLots(conn) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT s.park_code AS code, s.total_space AS total, s.total_space - s.free_space AS used
         FROM t_park_space s JOIN t_park p ON p.code = s.park_code AND p.is_deleted = 0`,
    );
    return rows.map((r) => ({ code: String(r.code), total: Number(r.total), used: Number(r.used) }));
  },

  async loadInside(conn, limit, zone, rnd) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT e.entry_id, e.park_code, e.plate_no, CAST(e.entry_time AS CHAR) AS entry_time, e.car_type_id, e.brand
         FROM t_entry e LEFT JOIN t_exit x ON x.entry_id = e.entry_id
        WHERE x.exit_id IS NULL AND e.entry_time > '2000-01-01' AND e.plate_no IS NOT NULL
        ORDER BY e.entry_id DESC LIMIT ?`,
      [limit],
    );
    return rows.map((r) => {
      const kind = kindOf(Number(r.car_type_id));
      return insideVisit(
        {
          id: Number(r.entry_id),
          parkCode: String(r.park_code),
          plate: String(r.plate_no),
          kind,
          brand: String(r.brand ?? ''),
          inEpoch: DateTime.fromFormat(String(r.entry_time), DATETIME_FORMAT, { zone }).toSeconds(),
        },
        rnd,
      );
    });
  },
};

/** The id of a row is known only once it is inserted: its photo file is named after it, as a camera store does. */
async function storePhoto(
  conn: mysql.Connection,
  visit: Visit,
  side: 'in' | 'out',
  id: number,
  sink: PhotoSink,
  wall: (e: number) => string,
): Promise<void> {
  const photo = photoFor(visit, side, id, sink, wall);
  if (!photo.path) return;
  if (photo.file) await writeFiles(sink, [photo.file]);
  const [table, idColumn] = side === 'in' ? ['t_entry', 'entry_id'] : ['t_exit', 'exit_id'];
  await conn.query(`UPDATE ${table} SET photo_path = ? WHERE ${idColumn} = ?`, [photo.path, id]);
}

function kindOf(typeId: number): CarKind {
  const found = (Object.keys(TYPE_ID) as CarKind[]).find((k) => TYPE_ID[k] === typeId);
  return found ?? 'small';
}
