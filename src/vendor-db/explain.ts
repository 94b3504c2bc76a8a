/**
 * Asks the vendor server how it would run each event stream's page query (EXPLAIN), the poll's and
 * reconcile's (a day from its start), and whether an
 * index leads with the cursor's time column, so `check` can refuse a configuration that would scan
 * a whole vendor table every second, and say which index to ask the vendor's DBA for.
 *
 * Must not write to the vendor database (it only advises a CREATE INDEX; it never runs one).
 */
import type { Config, EventStreamName } from '../config/index.js';
import { eventPageQuery } from './events.js';
import { columnRef, tableFor } from './from-clause.js';
import type { VendorPool } from './pool.js';
import { vendorTimeOf, zoneOffset } from './zone.js';

/** The page size reconcile reads with (RECONCILE_PAGE_ROWS in src/pipeline/reconcile/reconcile-deps.ts). */
export const RECONCILE_EXPLAIN_ROWS = 5_000;

/** A table at least this big must be read through a range on the cursor index. */
export const BIG_TABLE_ROWS = 10_000;

export interface PlanRow {
  table: string | null;
  type: string | null;
  possible_keys: string | null;
  key: string | null;
  rows: number | null;
  Extra: string | null;
}

export interface IndexInfo {
  name: string;
  columns: string[];
}

/** Which of a stream's reads: the poll's page after a cursor, or reconcile's page of one day. */
export type PlannedQuery = 'poll' | 'reconcile';

export interface StreamPlan {
  stream: EventStreamName;
  query: PlannedQuery;
  /** The table the cursor lives in, when the cursor columns are plain columns. */
  table?: string;
  timeColumn?: string;
  idColumn?: string;
  /** The server's row estimate for that table. */
  tableRows: number | null;
  /** The index used for the cursor: the first one that leads with the time column. */
  timeIndex: IndexInfo | null;
  /** EXPLAIN's line for the cursor table (or the first line). */
  plan?: PlanRow;
  explain: PlanRow[];
  sql: string;
  verdict: 'ok' | 'warn' | 'fail';
  reasons: string[];
  /** What to ask the vendor's DBA for, when the verdict is not ok. */
  advice?: string;
}

export async function explainStreams(
  pool: VendorPool,
  config: Config,
  options: { bigTableRows?: number } = {},
): Promise<StreamPlan[]> {
  const out: StreamPlan[] = [];
  for (const query of ['poll', 'reconcile'] as const)
    for (const stream of ['entrances', 'departures'] as const) {
      out.push(await explainStream(pool, config, stream, query, options.bigTableRows ?? BIG_TABLE_ROWS));
    }
  return out;
}

async function explainStream(
  pool: VendorPool,
  config: Config,
  stream: EventStreamName,
  query: PlannedQuery,
  bigTableRows: number,
): Promise<StreamPlan> {
  const cfg = config.streams[stream];
  const timeRef = columnRef(cfg.cursor.time);
  const idRef = columnRef(cfg.cursor.id);
  const from = timeRef ? tableFor(cfg.from, timeRef.qualifier) : undefined;
  const at = (ago: number) => vendorTimeOf(Date.now() / 1000 - ago, cfg.timeFormat, config.vendor.timeZone);
  const bounds = {
    lagSeconds: config.vendor.commitLagSeconds,
    zoneOffset: zoneOffset(config.vendor.timeZone),
  };
  // The poll: a typical steady-state page after a cursor an hour old. Reconcile: the first page of
  // a day (from its start, before its end), as src/pipeline/reconcile/reconcile-deps.ts reads it.
  const statement =
    query === 'poll'
      ? eventPageQuery(cfg).statement({ time: String(at(3600)), id: '0' }, cfg.pageSize, bounds)
      : eventPageQuery(cfg).statement(null, RECONCILE_EXPLAIN_ROWS, {
          ...bounds,
          from: at(2 * 86_400),
          upTo: at(86_400),
        });
  const raw = await pool.query<Record<string, unknown>>(
    `EXPLAIN ${statement.sql}`,
    statement.params,
    'explain',
  );
  const explain = raw.map(toPlanRow);
  const plan = (from && explain.find((r) => r.table === from.alias || r.table === from.table)) ?? explain[0];

  let tableRows: number | null = null;
  let timeIndex: IndexInfo | null = null;
  let primary: string[] = [];
  if (from && timeRef) {
    const indexes = await tableIndexes(pool, from.table);
    primary = indexes.find((i) => i.name === 'PRIMARY')?.columns ?? [];
    timeIndex = indexes.find((i) => sameName(i.columns[0], timeRef.column)) ?? null;
    tableRows = await tableRowEstimate(pool, from.table);
  }
  const judged = judgePlan({
    plan,
    tableRows,
    timeIndex,
    cursorTable: from?.table,
    timeColumn: timeRef?.column,
    idColumn: idRef?.column,
    primary,
    bigTableRows,
  });
  return {
    stream,
    query,
    table: from?.table,
    timeColumn: timeRef?.column,
    idColumn: idRef?.column,
    tableRows,
    timeIndex,
    plan,
    explain,
    sql: statement.sql,
    ...judged,
  };
}

export interface PlanFacts {
  plan: PlanRow | undefined;
  tableRows: number | null;
  timeIndex: IndexInfo | null;
  cursorTable: string | undefined;
  timeColumn: string | undefined;
  idColumn: string | undefined;
  /** Primary key columns of the cursor table (InnoDB appends them to every secondary index). */
  primary: string[];
  bigTableRows: number;
}

/** The verdict on one stream's plan, from what EXPLAIN and the index list say. Pure. */
export function judgePlan(f: PlanFacts): Pick<StreamPlan, 'verdict' | 'reasons' | 'advice'> {
  const reasons: string[] = [];
  let verdict: StreamPlan['verdict'] = 'ok';
  const fail = (why: string) => {
    verdict = 'fail';
    reasons.push(why);
  };
  const warn = (why: string) => {
    if (verdict === 'ok') verdict = 'warn';
    reasons.push(why);
  };
  const big = f.tableRows === null || f.tableRows >= f.bigTableRows;
  const size = f.tableRows === null ? 'unknown size' : `~${f.tableRows} rows`;
  if (f.cursorTable && f.timeColumn && !f.timeIndex) {
    fail(`no index of ${f.cursorTable} starts with the cursor time column ${f.timeColumn}`);
  } else if (f.timeIndex && f.idColumn && f.timeColumn) {
    const second = f.timeIndex.columns[1];
    const idFollows =
      sameName(second, f.idColumn) ||
      (second === undefined && f.primary.length === 1 && sameName(f.primary[0], f.idColumn));
    if (!idFollows) {
      warn(
        `index ${f.timeIndex.name} (${f.timeIndex.columns.join(', ')}) does not continue with ${f.idColumn}: rows with equal times are sorted`,
      );
    }
  }
  if (!f.plan) fail('EXPLAIN returned no plan');
  else if (f.plan.type === 'ALL') fail(`EXPLAIN: full table scan of ${f.plan.table} (${size}) on every page`);
  else if (f.plan.type === 'index') {
    const why = `EXPLAIN: full index scan (${f.plan.key}) of ${f.plan.table} (${size}) instead of a range`;
    if (big) fail(why);
    else warn(`${why}; tolerable while the table is small`);
  } else if (big && f.plan.Extra?.includes('filesort')) {
    warn(`EXPLAIN: sorts the matching rows of ${f.plan.table} (${size}) on every page`);
  }
  const advice =
    verdict !== 'ok' && f.cursorTable && f.timeColumn
      ? `ask the vendor's DBA for: CREATE INDEX idx_${f.timeColumn}_${f.idColumn ?? 'id'} ON ${f.cursorTable} (${[f.timeColumn, f.idColumn].filter(Boolean).join(', ')})`
      : undefined;
  return { verdict, reasons, advice };
}

function sameName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

function toPlanRow(r: Record<string, unknown>): PlanRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    table: text(r.table),
    type: text(r.type),
    possible_keys: text(r.possible_keys),
    key: text(r.key),
    rows: r.rows === null || r.rows === undefined ? null : Number(r.rows),
    Extra: text(r.Extra),
  };
}

async function tableIndexes(pool: VendorPool, table: string): Promise<IndexInfo[]> {
  const rows = await pool.query<{ name: string; col: string }>(
    `SELECT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [table],
    'index list',
  );
  const byName = new Map<string, string[]>();
  for (const row of rows) {
    const columns = byName.get(row.name) ?? [];
    columns.push(row.col);
    byName.set(row.name, columns);
  }
  return [...byName].map(([name, columns]) => ({ name, columns }));
}

async function tableRowEstimate(pool: VendorPool, table: string): Promise<number | null> {
  const rows = await pool.query<{ n: string | number | null }>(
    'SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
    'table size',
  );
  const n = rows[0]?.n;
  return n === null || n === undefined ? null : Number(n);
}
