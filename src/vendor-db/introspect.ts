/**
 * Reads what `init` needs to draft a mapping: every table of the vendor database with its columns,
 * indexes, comments and row estimate (information_schema), and a few of its newest rows. Bounded
 * reads only, on the read-only pool (its session is READ ONLY with a statement time limit): each
 * sample is `ORDER BY <primary key> DESC LIMIT n` (served from the key) or a bare `LIMIT n`, never
 * a scan of a table; BLOB columns are sampled by length, long texts cut short.
 *
 * Must not write to the vendor database.
 */
import type { VendorPool } from './pool.js';

export interface ColumnInfo {
  name: string;
  /** `datetime`, `int`, `decimal`, `varchar`, `mediumblob`, ... (lower case). */
  dataType: string;
  /** The full type, e.g. `decimal(10,2)`, `tinyint(1)`. */
  columnType: string;
  comment: string;
  nullable: boolean;
}

export interface TableIndex {
  name: string;
  columns: string[];
  unique: boolean;
}

/** A sample row: every value as text (BLOBs as their length in bytes), NULL as null. */
export type SampleRow = Record<string, string | null>;

export interface TableInfo {
  name: string;
  comment: string;
  /** information_schema's estimate (no COUNT(*)). */
  rows: number | null;
  columns: ColumnInfo[];
  indexes: TableIndex[];
  /** The newest rows by primary key (or the first the server returns without one). */
  samples: SampleRow[];
}

export interface IntrospectOptions {
  /** Rows sampled per table. @defaultValue 50 */
  sampleRows?: number;
  /** Tables read at most (the biggest vendor schemas have hundreds). @defaultValue 300 */
  maxTables?: number;
}

const BLOB = /blob|binary/;
const LONG_TEXT = /text$/;

export async function introspectVendor(
  pool: VendorPool,
  options: IntrospectOptions = {},
): Promise<TableInfo[]> {
  const sampleRows = options.sampleRows ?? 50;
  const tables = await pool.query<{ name: string; comment: string | null; rows: string | number | null }>(
    `SELECT TABLE_NAME AS name, TABLE_COMMENT AS comment, TABLE_ROWS AS \`rows\` FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME LIMIT ?`,
    [options.maxTables ?? 300],
    'table list',
  );
  const columns = await pool.query<{
    tableName: string;
    name: string;
    dataType: string;
    columnType: string;
    comment: string | null;
    nullable: string;
  }>(
    `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
            COLUMN_COMMENT AS comment, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [],
    'column list',
  );
  const stats = await pool.query<{
    tableName: string;
    name: string;
    col: string;
    nonUnique: string | number;
  }>(
    `SELECT TABLE_NAME AS tableName, INDEX_NAME AS name, COLUMN_NAME AS col, NON_UNIQUE AS nonUnique
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [],
    'index list',
  );
  const out: TableInfo[] = [];
  for (const t of tables) {
    const cols = columns
      .filter((c) => c.tableName === t.name)
      .map((c) => ({
        name: c.name,
        dataType: c.dataType.toLowerCase(),
        columnType: c.columnType.toLowerCase(),
        comment: c.comment ?? '',
        nullable: c.nullable === 'YES',
      }));
    const indexes = new Map<string, TableIndex>();
    for (const s of stats.filter((x) => x.tableName === t.name)) {
      const index = indexes.get(s.name) ?? { name: s.name, columns: [], unique: Number(s.nonUnique) === 0 };
      index.columns.push(s.col);
      indexes.set(s.name, index);
    }
    const info: TableInfo = {
      name: t.name,
      comment: t.comment ?? '',
      rows: t.rows === null ? null : Number(t.rows),
      columns: cols,
      indexes: [...indexes.values()],
      samples: [],
    };
    info.samples = await sampleTable(pool, info, sampleRows);
    out.push(info);
  }
  return out;
}

/** The newest `n` rows by primary key, each value as text; BLOBs as lengths, long texts cut. */
async function sampleTable(pool: VendorPool, table: TableInfo, n: number): Promise<SampleRow[]> {
  if (!table.columns.length) return [];
  const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;
  const list = table.columns
    .map((c) => {
      if (BLOB.test(c.dataType)) return `LENGTH(${q(c.name)}) AS ${q(c.name)}`;
      if (LONG_TEXT.test(c.dataType)) return `LEFT(${q(c.name)}, 200) AS ${q(c.name)}`;
      return `CAST(${q(c.name)} AS CHAR) AS ${q(c.name)}`;
    })
    .join(', ');
  const primary = table.indexes.find((i) => i.name === 'PRIMARY')?.columns ?? [];
  // Qualified: the select list's aliases (CAST(id AS CHAR) AS id) would sort as text.
  const order = primary.length
    ? ` ORDER BY ${primary.map((c) => `${q(table.name)}.${q(c)} DESC`).join(', ')}`
    : '';
  const rows = await pool.query<Record<string, unknown>>(
    `SELECT ${list} FROM ${q(table.name)}${order} LIMIT ${Math.max(1, Math.floor(n))}`,
    [],
    `sample of ${table.name}`,
  );
  return rows.map((row) => {
    const out: SampleRow = {};
    for (const [k, v] of Object.entries(row)) out[k] = v === null || v === undefined ? null : String(v);
    return out;
  });
}
