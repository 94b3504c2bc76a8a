/**
 * What a demo vendor schema style provides: its DDL, how it stores lots and visits in bulk (seed)
 * and one at a time (traffic), and how it changes space counts. Also the writer connection and the
 * multi-row INSERT helper both styles use. The demo databases are ours to write; the sync's own
 * vendor code (src/vendor-db) never writes.
 */
import mysql from 'mysql2/promise';
import type { DemoLot, Random, Visit } from './data.js';
import type { PhotoPool } from './photo-pool.js';

export const DEMO_STYLES = ['visit-table', 'entry-exit'] as const;
export type DemoStyleName = (typeof DEMO_STYLES)[number];

export type SqlValue = string | number | Buffer | null;

/** How photos are stored while writing: pool of JPEGs, and the picture folder for file styles. */
export interface PhotoSink {
  pool: PhotoPool | null;
  /** Picture folder root (entry-exit style); without it photo paths are left NULL. */
  dir?: string;
}

/** A lot as the traffic generator sees it. */
export interface LotState {
  code: string;
  total: number;
  used: number;
}

export interface DemoStyle {
  name: DemoStyleName;
  /** CREATE TABLE statements, parents first. */
  ddl: string[];
  /** Every table of the style, children first (for DROP). */
  tables: string[];
  /** The tables a seed empties first (lookup tables keep their reference rows). */
  dataTables: string[];
  /** Reference rows a vendor installs with the schema (lookup tables). */
  insertReference(conn: mysql.Connection): Promise<void>;
  insertLots(
    conn: mysql.Connection,
    lots: DemoLot[],
    state: { used: Map<string, number>; deleted: Set<string>; zone: string },
  ): Promise<void>;
  /** Historical visits in bulk, ids already assigned (entry-exit: exitId for those that left). */
  insertVisits(
    conn: mysql.Connection,
    visits: Visit[],
    photos: PhotoSink,
    zone: string,
  ): Promise<{ photos: number }>;
  /** A car enters now; returns the entrance's vendor key. */
  insertEntrance(conn: mysql.Connection, visit: Visit, photos: PhotoSink, zone: string): Promise<string>;
  /** The car of `visit` leaves (visit.outEpoch etc. set); returns the departure's vendor key. */
  insertDeparture(conn: mysql.Connection, visit: Visit, photos: PhotoSink, zone: string): Promise<string>;
  /** Cars in / out (delta +1 / -1), or a correction (set) of a lot's occupied count. */
  changeUsed(
    conn: mysql.Connection,
    parkCode: string,
    change: { delta: number } | { set: number },
  ): Promise<void>;
  loadLots(conn: mysql.Connection): Promise<LotState[]>;
  /** The most recent cars still inside (good rows only), for the traffic generator's exits. */
  loadInside(conn: mysql.Connection, limit: number, zone: string, rnd: Random): Promise<Visit[]>;
}

/** A connection for writing the demo database (never the sync's pool). */
export async function connectWriter(url: string): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({
    uri: url,
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  // Legacy vendors run without NO_ZERO_DATE; the bad rows need '0000-00-00 00:00:00'.
  await conn.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
  return conn;
}

export function sqlValue(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NULL';
  if (Buffer.isBuffer(value)) return value.length ? `X'${value.toString('hex')}'` : "''";
  return mysql.escape(value);
}

/** Largest statement text; max_allowed_packet is 16 MB by default, photos count twice as hex. */
const MAX_STATEMENT_CHARS = 3_000_000;

/**
 * Multi-row INSERTs of `rows`, each statement up to a few MB. The next statement is built while
 * the server runs the previous one.
 */
export async function bulkInsert(
  conn: mysql.Connection,
  table: string,
  columns: string[],
  rows: Iterable<SqlValue[]>,
): Promise<number> {
  const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
  let inflight: Promise<unknown> | undefined;
  let parts: string[] = [];
  let size = 0;
  let count = 0;
  for (const row of rows) {
    let text = '(';
    for (let i = 0; i < row.length; i++) text += (i ? ',' : '') + sqlValue(row[i]!);
    text += ')';
    parts.push(text);
    size += text.length + 1;
    count++;
    if (size >= MAX_STATEMENT_CHARS) {
      await inflight;
      inflight = conn.query(head + parts.join(','));
      parts = [];
      size = 0;
    }
  }
  await inflight;
  if (parts.length) await conn.query(head + parts.join(','));
  return count;
}

/** `ATXL/1` -> `ATXL_1`: a lot code as a folder name. */
export function lotFolder(code: string): string {
  return code.replace(/[^\w-]+/g, '_');
}
