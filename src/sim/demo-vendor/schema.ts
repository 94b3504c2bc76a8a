/**
 * Creates a demo vendor database of either style on any MySQL/MariaDB URL. A marker table records
 * that the database is a demo of ours: seed, traffic and `--drop` refuse a database without it, so
 * the demo tools can never damage a real vendor database they are pointed at by mistake.
 */
import mysql from 'mysql2/promise';
import { redactUrl } from '../../redact.js';
import { entryExit } from './entry-exit.js';
import { connectWriter, DEMO_STYLES, type DemoStyle, type DemoStyleName } from './style.js';
import { visitTable } from './visit-table.js';

export const MARKER_TABLE = '_isp_sync_demo';

export function demoStyle(name: DemoStyleName): DemoStyle {
  return name === 'visit-table' ? visitTable : entryExit;
}

export function isDemoStyle(name: string): name is DemoStyleName {
  return (DEMO_STYLES as readonly string[]).includes(name);
}

/** The demo tools were pointed at something they must not touch. */
export class DemoDatabaseError extends Error {
  override readonly name = 'DemoDatabaseError';
}

export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name)
    throw new DemoDatabaseError(`${redactUrl(url)}: the URL names no database (mysql://host:3306/dbname)`);
  return name;
}

export interface CreateOptions {
  /** Drop the demo tables first (only in a database that carries our marker). */
  drop?: boolean;
}

/** Creates the database if missing, then the style's tables, indexes and the marker. */
export async function createDemoSchema(
  url: string,
  style: DemoStyleName,
  options: CreateOptions = {},
): Promise<void> {
  const database = databaseOf(url);
  const server = new URL(url);
  server.pathname = '/';
  const admin = await mysql.createConnection({ uri: server.toString() });
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }
  const conn = await connectWriter(url);
  try {
    const tables = await tablesIn(conn);
    if (tables.length) {
      if (!tables.includes(MARKER_TABLE)) {
        throw new DemoDatabaseError(
          `database ${database} already has tables (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}) ` +
            'and is not a demo created by `vendor create`: refusing to touch it',
        );
      }
      if (!options.drop) {
        throw new DemoDatabaseError(`database ${database} already holds a demo: use --drop to recreate it`);
      }
      const ours = new Set([...visitTable.tables, ...entryExit.tables, MARKER_TABLE]);
      for (const table of tables.filter((t) => ours.has(t))) await conn.query(`DROP TABLE \`${table}\``);
    }
    for (const ddl of demoStyle(style).ddl) await conn.query(ddl);
    await demoStyle(style).insertReference(conn);
    await conn.query(
      `CREATE TABLE ${MARKER_TABLE} (style VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL) ENGINE=InnoDB`,
    );
    await conn.query(`INSERT INTO ${MARKER_TABLE} VALUES (?, UTC_TIMESTAMP())`, [style]);
  } finally {
    await conn.end();
  }
}

/** The style of the demo in the connected database; throws when it is not one of ours. */
export async function demoStyleOf(conn: mysql.Connection, expected?: DemoStyleName): Promise<DemoStyleName> {
  const tables = await tablesIn(conn);
  if (!tables.includes(MARKER_TABLE)) {
    throw new DemoDatabaseError(
      'this database is not a demo created by `vendor create`: refusing to write to it',
    );
  }
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT style FROM ${MARKER_TABLE} LIMIT 1`);
  const style = String(rows[0]?.style ?? '');
  if (!isDemoStyle(style)) throw new DemoDatabaseError(`unknown demo style '${style}' in ${MARKER_TABLE}`);
  if (expected && style !== expected) {
    throw new DemoDatabaseError(`this demo database has the ${style} style, not ${expected}`);
  }
  return style;
}

async function tablesIn(conn: mysql.Connection): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES');
  return rows.map((r) => String(Object.values(r)[0]));
}
