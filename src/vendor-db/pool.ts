/**
 * The read-only connection pool to the vendor database (mysql2). Owns the session settings every
 * read relies on: READ ONLY transactions, a server-side statement time limit and lock wait limit
 * (so a locked vendor table cannot hang us), the charset, and times as strings (`dateStrings`: the
 * driver never converts a DATETIME in the process's zone). A connection that died under us (server
 * restart, KILL, idle timeout) is dropped and the read retried once on a fresh one.
 *
 * Must not write: it has no API for writes and the session refuses them anyway.
 */
import mysql from 'mysql2/promise';
import type { Config } from '../config/index.js';
import { redactUrl } from '../redact.js';
import { VendorQueryError, VendorTimeoutError, VendorUnavailableError } from './errors.js';

export type VendorConfig = Config['vendor'];
export type SqlParam = string | number | null;

export interface QueryResult<T> {
  rows: T[];
  fields: mysql.FieldPacket[];
}

export interface VendorPool {
  /** The source this database belongs to (config.source.name): the `source` label of the rows read. */
  readonly source: string;
  /** Database name from the URL. */
  readonly database: string;
  /** `host:port/db` for messages (no credentials). */
  readonly where: string;
  readonly queryTimeoutMs: number;
  /** Prepared statement (binary protocol); for statements whose text is fixed per stream. */
  execute<T = Record<string, unknown>>(sql: string, params: SqlParam[], what: string): Promise<T[]>;
  /**
   * Text protocol: one-off statements (EXPLAIN, SHOW, variable-length IN lists), and the event
   * pages, whose many DATETIME columns it returns as text without rebuilding them.
   */
  query<T = Record<string, unknown>>(sql: string, params: SqlParam[], what: string): Promise<T[]>;
  /** Text protocol, with the result's column metadata. */
  queryWithFields<T = Record<string, unknown>>(
    sql: string,
    params: SqlParam[],
    what: string,
  ): Promise<QueryResult<T>>;
  close(): Promise<void>;
}

export interface VendorPoolOptions {
  /** Whose vendor database this is (config.source.name): what the readers count its rows under. */
  source: string;
  /** Extra statements run once on every new session, after ours (tests, special servers). */
  initSql?: string[];
}

/** Client-side cut-off beyond the server's own limit: the server normally answers first. */
const CLIENT_GRACE_MS = 2_000;

/** Error codes meaning the connection is gone (not the statement's fault): retry on a new one. */
const CONNECTION_LOST = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ECONNRESET',
  'EPIPE',
  'ER_NET_READ_ERROR',
  'ER_NET_WRITE_INTERRUPTED',
]);
/** The same by errno: 1927 MariaDB connection killed, 1053 server shutdown, 2006/2013 gone/lost. */
const CONNECTION_LOST_ERRNO = new Set([1927, 1053, 2006, 2013]);
/**
 * The server gave up on the statement, by errno (mysql2 names MySQL's codes, not MariaDB's):
 * 1969 MariaDB max_statement_time, 3024 MySQL max_execution_time, 1205 lock wait timeout.
 */
const SERVER_TIMEOUT = new Set([1969, 3024, 1205]);
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  sqlMessage?: string;
  message?: string;
}

export function createVendorPool(vendor: VendorConfig, options: VendorPoolOptions): VendorPool {
  const url = new URL(vendor.url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const where = redactUrl(`${url.hostname}:${url.port || 3306}/${database}`);
  const pool = mysql.createPool({
    uri: vendor.url,
    connectionLimit: vendor.connectionLimit,
    maxIdle: vendor.connectionLimit,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    connectTimeout: Math.min(vendor.queryTimeoutMs, 10_000),
    waitForConnections: true,
    charset: vendor.charset,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  });
  // Swallow pool-level errors of idle connections (they are removed and replaced on next use).
  pool.pool.on('error', () => undefined);
  const initialized = new WeakSet<object>();
  const seconds = Math.max(1, Math.ceil(vendor.queryTimeoutMs / 1000));
  const clientTimeout = vendor.queryTimeoutMs + CLIENT_GRACE_MS;

  async function initSession(conn: mysql.PoolConnection): Promise<void> {
    await conn.query('SET SESSION TRANSACTION READ ONLY');
    try {
      await conn.query('SET SESSION max_statement_time = ?', [vendor.queryTimeoutMs / 1000]);
    } catch (error) {
      if ((error as DriverError).errno !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
      await conn.query('SET SESSION max_execution_time = ?', [vendor.queryTimeoutMs]); // MySQL
    }
    // Metadata locks (ALTER TABLE, LOCK TABLES) are waited for under lock_wait_timeout.
    await conn.query('SET SESSION lock_wait_timeout = ?', [seconds]);
    if (vendor.sessionTimeZone) await conn.query('SET SESSION time_zone = ?', [vendor.sessionTimeZone]);
    for (const sql of options.initSql ?? []) await conn.query(sql);
  }

  async function run<T>(
    protocol: 'execute' | 'query',
    sql: string,
    params: SqlParam[],
    what: string,
  ): Promise<QueryResult<T>> {
    for (let attempt = 1; ; attempt++) {
      let conn: mysql.PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (error) {
        throw new VendorUnavailableError(describe(error), where);
      }
      try {
        if (!initialized.has(conn.connection)) {
          await initSession(conn);
          initialized.add(conn.connection);
        }
        const [rows, fields] =
          protocol === 'execute'
            ? await conn.execute({ sql, timeout: clientTimeout }, params)
            : await conn.query({ sql, timeout: clientTimeout }, params);
        conn.release();
        return { rows: rows as T[], fields: (fields ?? []) as mysql.FieldPacket[] };
      } catch (error) {
        const e = error as DriverError;
        if (e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
          conn.destroy(); // the statement may still run on the server: never reuse this session
          throw new VendorTimeoutError(vendor.queryTimeoutMs, what);
        }
        if (e.errno !== undefined && SERVER_TIMEOUT.has(e.errno)) {
          conn.release();
          throw new VendorTimeoutError(vendor.queryTimeoutMs, what);
        }
        if (
          e.fatal ||
          (e.code && CONNECTION_LOST.has(e.code)) ||
          (e.errno && CONNECTION_LOST_ERRNO.has(e.errno))
        ) {
          conn.destroy();
          if (attempt < 2) continue; // a stale pooled connection: once more on a fresh one
          throw new VendorUnavailableError(describe(error), where);
        }
        conn.release();
        throw new VendorQueryError(e.code, e.sqlMessage ?? e.message ?? String(error), what);
      }
    }
  }

  return {
    source: options.source,
    database,
    where,
    queryTimeoutMs: vendor.queryTimeoutMs,
    async execute<T>(sql: string, params: SqlParam[], what: string): Promise<T[]> {
      return (await run<T>('execute', sql, params, what)).rows;
    },
    async query<T>(sql: string, params: SqlParam[], what: string): Promise<T[]> {
      return (await run<T>('query', sql, params, what)).rows;
    },
    queryWithFields: <T>(sql: string, params: SqlParam[], what: string) => run<T>('query', sql, params, what),
    close: () => pool.end(),
  };
}

function describe(error: unknown): string {
  const e = error as DriverError;
  const text = e.sqlMessage ?? e.message ?? String(error);
  return redactUrl(e.code && !text.includes(e.code) ? `${text} [${e.code}]` : text);
}
