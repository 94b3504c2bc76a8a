/**
 * The SQL every stream runs, built from its config, in one place, as pure functions: an operator
 * (and `check`) can see exactly what we send the vendor server. Only SELECTs are built.
 *
 * Event pages use a keyset cursor on (time, id): `t > ? OR (t = ? AND id > ?)`, never OFFSET and
 * never the row-value form `(t, id) > (?, ?)`, which MariaDB 10.11 does not serve from the index.
 * Every page is also bounded by the commit-lag guard, computed by the server in the same statement
 * (`t < vendor-now - lag`), so a transaction that commits late with an older timestamp is still
 * ahead of the cursor when it becomes visible. "Vendor-now" is UTC_TIMESTAMP(3) moved to the vendor
 * zone's offset: it does not depend on the server's or the session's time_zone. It keeps its
 * milliseconds: against a whole-second `now` a strict `<` held every row back a further second
 * (a row stamped 10:00:00 became readable at 10:00:06 with a 5 s lag, not at 10:00:05).
 *
 * The texts are built once per stream config; a statement is a text plus its parameters.
 */
import type { Config } from '../config/index.js';
import type { Cursor } from '../config/vendor-rows.js';
import type { SqlParam } from './pool.js';
import type { TimeFormat } from './zone.js';

type Streams = Config['streams'];
export type EventStreamConfig = Streams['entrances'] | Streams['departures'];
export type SnapshotStreamConfig = Streams['parks'] | Streams['spotNums'];

/** Where a page starts: the beginning, an inclusive time (`--from`), or after a cursor. */
export type LowerBound = 'start' | 'from' | 'after';
/** Where it stops besides the lag guard: nowhere, before a time (exclusive), at a cursor (inclusive). */
export type UpperBound = 'none' | 'time' | 'cursor';

export interface PageBounds {
  /** Inclusive lower bound, used only when there is no cursor; as the column stores time. */
  from?: string | number;
  /** Exclusive upper time bound as the column stores time, or an inclusive cursor. */
  upTo?: string | number | Cursor;
  lagSeconds: number;
  /** The vendor zone's current offset, e.g. '+08:00' (datetime format only). */
  zoneOffset: string;
}

export interface Statement {
  sql: string;
  params: SqlParam[];
}

export interface EventPageQuery {
  /**
   * The SQL text of each bound combination, built once, ending in `LIMIT ` (the page size is
   * written into the text: MySQL 8 refuses some LIMIT placeholder types in prepared statements).
   */
  readonly texts: Readonly<Record<`${LowerBound}/${UpperBound}`, string>>;
  statement(after: Cursor | null, limit: number, bounds: PageBounds): Statement;
}

const LOWER: LowerBound[] = ['start', 'from', 'after'];
const UPPER: UpperBound[] = ['none', 'time', 'cursor'];

/**
 * The server's Unix time with milliseconds, whatever its time_zone: UNIX_TIMESTAMP() alone is whole
 * seconds, and UNIX_TIMESTAMP(NOW(3)) goes through the session zone (ambiguous in a DST fold). Both
 * functions read the statement's start time, so the sum is one instant.
 */
export const UNIX_NOW_SQL = 'UNIX_TIMESTAMP() + MICROSECOND(UTC_TIMESTAMP(6)) / 1000000';

/** The server-side bound `vendor-now - lag`, as the cursor column stores time. */
export function lagGuardSql(format: TimeFormat): { sql: string; params: (bounds: PageBounds) => SqlParam[] } {
  switch (format) {
    case 'epoch-s':
      return { sql: `${UNIX_NOW_SQL} - ?`, params: (b) => [b.lagSeconds] };
    case 'epoch-ms':
      return { sql: `(${UNIX_NOW_SQL} - ?) * 1000`, params: (b) => [b.lagSeconds] };
    default:
      return {
        sql: "CONVERT_TZ(UTC_TIMESTAMP(3), '+00:00', ?) - INTERVAL ? SECOND",
        params: (b) => [b.zoneOffset, b.lagSeconds],
      };
  }
}

/** `CAST(id AS CHAR) AS vendorKey, ..., <expr> AS \`plateNumber\``: canonical names straight from SQL. */
function selectList(columns: Record<string, string | undefined>): string {
  return Object.entries(columns)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([field, expr]) => `${expr} AS \`${field}\``)
    .join(', ');
}

/**
 * `select: 'keys'`: only the cursor (time and id), for the low-latency sweep, which looks the keys up
 * in what the live poll read and fetches whole rows only for the few it did not
 * (`buildRowsAtQuery`). Served from the (time, id) index alone when `from` is one table.
 */
export function buildEventPageQuery(
  cfg: EventStreamConfig,
  select: 'rows' | 'keys' = 'rows',
): EventPageQuery {
  const t = cfg.cursor.time;
  const id = cfg.cursor.id;
  const guard = lagGuardSql(cfg.timeFormat);
  const numericTime = cfg.timeFormat !== 'datetime';
  const head =
    `SELECT CAST(${t} AS CHAR) AS cursorTime, CAST(${id} AS CHAR) AS vendorKey` +
    `${select === 'rows' ? `, ${selectList(cfg.columns)}` : ''} FROM ${cfg.from} WHERE `;
  const tail = ` ORDER BY ${t}, ${id} LIMIT `;

  const text = (lower: LowerBound, upper: UpperBound): string => {
    const where: string[] = [];
    if (cfg.where) where.push(`(${cfg.where})`);
    if (lower === 'after') where.push(`(${t} > ? OR (${t} = ? AND ${id} > ?))`);
    if (lower === 'from') where.push(`${t} >= ?`);
    where.push(`${t} < ${guard.sql}`);
    if (upper === 'time') where.push(`${t} < ?`);
    if (upper === 'cursor') where.push(`(${t} < ? OR (${t} = ? AND ${id} <= ?))`);
    return head + where.join(' AND ') + tail;
  };
  const texts = {} as Record<`${LowerBound}/${UpperBound}`, string>;
  for (const lower of LOWER) for (const upper of UPPER) texts[`${lower}/${upper}`] = text(lower, upper);

  const withLimit = new Map<string, string>();
  // Epoch columns compare with numbers; DATETIMEs with their text.
  const time = (value: string | number): SqlParam => (numericTime ? Number(value) : value);

  return {
    texts,
    statement(after, limit, bounds) {
      const params: SqlParam[] = [];
      let lower: LowerBound = 'start';
      if (after) {
        lower = 'after';
        params.push(time(after.time), time(after.time), after.id);
      } else if (bounds.from !== undefined) {
        lower = 'from';
        params.push(time(bounds.from));
      }
      params.push(...guard.params(bounds));
      let upper: UpperBound = 'none';
      const upTo = bounds.upTo;
      if (typeof upTo === 'object' && upTo !== null) {
        upper = 'cursor';
        params.push(time(upTo.time), time(upTo.time), upTo.id);
      } else if (upTo !== undefined) {
        upper = 'time';
        params.push(time(upTo));
      }
      const key = `${lower}/${upper}/${limit}`;
      let sql = withLimit.get(key);
      if (sql === undefined) {
        if (!Number.isSafeInteger(limit) || limit <= 0)
          throw new RangeError(`page size must be a positive integer, got ${limit}`);
        sql = texts[`${lower}/${upper}`] + limit;
        withLimit.set(key, sql);
      }
      return { sql, params };
    },
  };
}

/**
 * Whole rows at `count` cursors (time, id), for the sweep: an OR of point ranges on the (time, id)
 * index the keyset already needs, so it examines only those rows. Parameters: time, id per cursor.
 */
export function buildRowsAtQuery(cfg: EventStreamConfig, count: number): string {
  const t = cfg.cursor.time;
  const id = cfg.cursor.id;
  const points = new Array(count).fill(`(${t} = ? AND ${id} = ?)`).join(' OR ');
  const where = cfg.where ? `(${cfg.where}) AND ` : '';
  return (
    `SELECT CAST(${t} AS CHAR) AS cursorTime, CAST(${id} AS CHAR) AS vendorKey, ${selectList(cfg.columns)} ` +
    `FROM ${cfg.from} WHERE ${where}(${points}) ORDER BY ${t}, ${id}`
  );
}

/**
 * Whole rows at `count` ids, for the id-gap probe: a primary-key lookup each, in cursor order. An
 * id not (yet) committed examines no row. Parameters: the ids.
 */
export function buildRowsByIdQuery(cfg: EventStreamConfig, count: number): string {
  const t = cfg.cursor.time;
  const id = cfg.cursor.id;
  const marks = new Array(count).fill('?').join(', ');
  const where = cfg.where ? `(${cfg.where}) AND ` : '';
  return (
    `SELECT CAST(${t} AS CHAR) AS cursorTime, CAST(${id} AS CHAR) AS vendorKey, ${selectList(cfg.columns)} ` +
    `FROM ${cfg.from} WHERE ${where}${t} IS NOT NULL AND ${id} IN (${marks}) ORDER BY ${t}, ${id}`
  );
}

/** Parks and spot counts: the whole (small) table, keyed by the park code as text. */
export function buildSnapshotQuery(cfg: SnapshotStreamConfig): string {
  const where = cfg.where ? ` WHERE (${cfg.where})` : '';
  return `SELECT CAST(${cfg.columns.parkCode} AS CHAR) AS vendorKey, ${selectList(cfg.columns)} FROM ${cfg.from}${where}`;
}

/** Photos of some rows by vendor key (push time only; the poller never reads photos). */
export function buildPhotoQuery(cfg: EventStreamConfig, count: number): string | undefined {
  if (!cfg.photo) return undefined;
  const marks = new Array(count).fill('?').join(', ');
  return (
    `SELECT CAST(${cfg.cursor.id} AS CHAR) AS vendorKey, ${cfg.photo.column} AS photo ` +
    `FROM ${cfg.from} WHERE ${cfg.cursor.id} IN (${marks})`
  );
}

/** Does `expr` resolve against `from`? Reads no row (the optimizer sees an impossible WHERE). */
export function buildProbeQuery(from: string, expr: string, where?: string): string {
  return `SELECT ${expr} AS probe FROM ${from} WHERE ${where ? `(${where}) AND ` : ''}1 = 0`;
}
