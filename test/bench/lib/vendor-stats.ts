/**
 * What the worker costs the vendor server, from MariaDB's own per-user and per-table statistics
 * (the `userstat` feature: information_schema.USER_STATISTICS, TABLE_STATISTICS,
 * INDEX_STATISTICS). performance_schema is off on these servers and cannot be turned on without a
 * restart; global Handler_read_* counters would include every other client of a shared server.
 * `userstat` is switched on for the measurement and put back as it was.
 */
import type mysql from 'mysql2/promise';
import { undoOnInterrupt } from './cleanup.js';

export interface VendorStats {
  /** Rows the worker's user read (examined), all tables. */
  userRowsRead: number;
  /** Statements the worker's user ran (SELECT + other + update commands). */
  statements: number;
  selects: number;
  /** Rows read per table of the database. */
  tables: Record<string, number>;
  /** Rows read per index (`table.index`) of the database. */
  indexes: Record<string, number>;
}

/** Turns userstat on; the returned function puts the previous setting back. */
export async function enableUserStats(admin: mysql.Connection): Promise<() => Promise<void>> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'userstat'");
  const before = String(rows[0]?.Value ?? 'OFF').toUpperCase();
  if (before === 'ON') return async () => {};
  await admin.query('SET GLOBAL userstat = 1');
  const restore = async () => {
    await admin.query('SET GLOBAL userstat = 0');
  };
  const done = undoOnInterrupt(restore);
  return async () => {
    done();
    await restore();
  };
}

export async function readVendorStats(
  admin: mysql.Connection,
  user: string,
  database: string,
): Promise<VendorStats> {
  const [u] = await admin.query<mysql.RowDataPacket[]>(
    `SELECT ROWS_READ, SELECT_COMMANDS, OTHER_COMMANDS, UPDATE_COMMANDS
       FROM information_schema.USER_STATISTICS WHERE USER = ?`,
    [user],
  );
  const [t] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT TABLE_NAME, ROWS_READ FROM information_schema.TABLE_STATISTICS WHERE TABLE_SCHEMA = ?',
    [database],
  );
  const [i] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT TABLE_NAME, INDEX_NAME, ROWS_READ FROM information_schema.INDEX_STATISTICS WHERE TABLE_SCHEMA = ?',
    [database],
  );
  const row = u[0];
  const selects = Number(row?.SELECT_COMMANDS ?? 0);
  return {
    userRowsRead: Number(row?.ROWS_READ ?? 0),
    selects,
    statements: selects + Number(row?.OTHER_COMMANDS ?? 0) + Number(row?.UPDATE_COMMANDS ?? 0),
    tables: Object.fromEntries(t.map((r) => [String(r.TABLE_NAME), Number(r.ROWS_READ)])),
    indexes: Object.fromEntries(
      i.map((r) => [`${String(r.TABLE_NAME)}.${String(r.INDEX_NAME)}`, Number(r.ROWS_READ)]),
    ),
  };
}

export function diffStats(after: VendorStats, before: VendorStats): VendorStats {
  const sub = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
  return {
    userRowsRead: after.userRowsRead - before.userRowsRead,
    statements: after.statements - before.statements,
    selects: after.selects - before.selects,
    tables: sub(after.tables, before.tables),
    indexes: sub(after.indexes, before.indexes),
  };
}
