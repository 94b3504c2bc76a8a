/**
 * Long by design: the plan of a plain table, of a derived table's parts, and the facts each needs.
 *
 * Asks the vendor server how it would run each event stream's page query (EXPLAIN), the poll's and
 * reconcile's (a day from its start), and whether an index leads with the cursor's time column, so `check` can refuse a configuration that would scan
 * a whole vendor table every second, and say which index to ask the vendor's DBA for.
 *
 * Must not write to the vendor database (it only advises a CREATE INDEX; it never runs one).
 */
import type { Config, EventStreamName } from '../config/index.js';
import { eventPageQuery } from './events.js';
import {
  columnRef,
  type DerivedTable,
  type FromTable,
  maskNested,
  partSources,
  tableFor,
  tablesOf,
} from './from-clause.js';
import { type JsonPlanTable, planTables } from './plan-json.js';
import {
  BIG_TABLE_ROWS,
  type IndexInfo,
  judgePlan,
  type PartFacts,
  type PartVerdict,
  type PlanFacts,
  type PlanRow,
  sameName,
} from './plan-verdict.js';
import type { VendorPool } from './pool.js';
import { vendorTimeOf, zoneOffset } from './zone.js';

export { BIG_TABLE_ROWS, type IndexInfo, judgePlan, type PlanFacts, type PlanRow } from './plan-verdict.js';

/** The page size reconcile reads with (RECONCILE_PAGE_ROWS in src/pipeline/reconcile/reconcile-deps.ts). */
export const RECONCILE_EXPLAIN_ROWS = 5_000;

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
  /** EXPLAIN's line for the cursor table (or its derived table, or the first line). */
  plan?: PlanRow;
  explain: PlanRow[];
  sql: string;
  verdict: 'ok' | 'warn' | 'fail';
  reasons: string[];
  /** What to ask the vendor's DBA for, or to change in the mapping, when the verdict is not ok. */
  advice?: string;
  /** The cursor lives in a derived table: each of its parts, judged. */
  parts?: PartVerdict[];
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
  const base = {
    stream,
    query,
    explain,
    sql: statement.sql,
    timeColumn: timeRef?.column,
    idColumn: idRef?.column,
  };
  const sizes = await scannedTableSizes(pool, cfg.from, explain);

  if (from?.derived && timeRef) {
    const json = await pool.query<Record<string, unknown>>(
      `EXPLAIN FORMAT=JSON ${statement.sql}`,
      statement.params,
      'explain',
    );
    const facts = await derivedFacts(pool, from.derived, timeRef.column, idRef?.column, explain, json);
    const photo = cfg.photo ? columnRef(cfg.photo.column) : undefined;
    const photoColumn =
      photo &&
      (photo.qualifier === undefined || sameName(photo.qualifier, from.alias)) &&
      from.derived.names.some((n) => sameName(n, photo.column))
        ? photo.column
        : undefined;
    if (facts) {
      const plan = explain.find((r) => r.table === facts.table);
      const judged = judgePlan({
        plan,
        tableRows: null,
        timeIndex: null,
        cursorTable: undefined,
        timeColumn: timeRef.column,
        idColumn: idRef?.column,
        primary: [],
        bigTableRows,
        rows: explain,
        sizes,
        derived: { ...facts, ...(photoColumn ? { photoColumn } : {}) },
      });
      return { ...base, table: from.alias, tableRows: null, timeIndex: null, plan, ...judged };
    }
  }

  // A plain table, or a one-part derived table the server merged into the outer query.
  const merged =
    from?.derived?.parts.length === 1 && timeRef ? partSources(from.derived, timeRef.column) : undefined;
  const cursorTable = merged ? merged[0]?.table : from?.derived ? undefined : from?.table;
  const cursorAlias = merged ? tablesOf(from!.derived!.parts[0]!.from)[0]?.alias : from?.alias;
  const timeColumn = merged ? merged[0]?.column : timeRef?.column;
  const idColumn = merged && idRef ? partSources(from!.derived!, idRef.column)?.[0]?.column : idRef?.column;
  const plan =
    (cursorTable ? explain.find((r) => r.table === cursorAlias || r.table === cursorTable) : undefined) ??
    explain[0];

  let tableRows: number | null = null;
  let timeIndex: IndexInfo | null = null;
  let primary: string[] = [];
  if (cursorTable && timeColumn) {
    const indexes = await tableIndexes(pool, cursorTable);
    primary = indexes.find((i) => i.name === 'PRIMARY')?.columns ?? [];
    timeIndex = indexes.find((i) => sameName(i.columns[0], timeColumn)) ?? null;
    tableRows = await tableRowEstimate(pool, cursorTable);
  }
  const judged = judgePlan({
    plan,
    tableRows,
    timeIndex,
    cursorTable,
    timeColumn,
    idColumn,
    primary,
    bigTableRows,
    rows: explain,
    sizes,
  });
  return { ...base, table: cursorTable, tableRows, timeIndex, plan, ...judged };
}

/**
 * The facts of each part of the derived table the cursor lives in, from EXPLAIN FORMAT=JSON: its
 * access, whether the cursor condition reached it, and its table's indexes. Undefined when the
 * server merged the derived table (no materialization holds our parts).
 */
async function derivedFacts(
  pool: VendorPool,
  derived: DerivedTable,
  timeName: string,
  idName: string | undefined,
  explain: PlanRow[],
  json: Record<string, unknown>[],
): Promise<PlanFacts['derived'] | undefined> {
  const text = json[0] ? String(Object.values(json[0])[0] ?? '') : '';
  let accesses: JsonPlanTable[] = [];
  try {
    accesses = planTables(JSON.parse(text));
  } catch {
    accesses = [];
  }
  const times = partSources(derived, timeName);
  if (!times) return undefined;
  const ids = idName ? partSources(derived, idName) : undefined;
  const used = new Set<JsonPlanTable>();
  const blockers = await pushdownBlockers(pool);
  const parts: PartFacts[] = [];
  let table: string | undefined;
  for (const [i, part] of derived.parts.entries()) {
    const source = times[i]!;
    const named = tablesOf(part.from).find((t) => t.table === source.table);
    const access = accesses.find(
      (a) => a.partOf && !used.has(a) && (a.table === named?.alias || a.table === source.table),
    );
    if (access) used.add(access);
    table ??= access?.partOf;
    const plan = access
      ? explain.find(
          (r) => r.id === access.selectId && (r.table === access.table || r.table === source.table),
        )
      : undefined;
    const indexes = await tableIndexes(pool, source.table);
    const idColumn = ids?.[i]?.column;
    parts.push({
      plan,
      tableRows: await tableRowEstimate(pool, source.table),
      timeIndex: source.column ? (indexes.find((x) => sameName(x.columns[0], source.column)) ?? null) : null,
      cursorTable: source.table,
      timeColumn: source.column,
      idColumn,
      primary: indexes.find((x) => x.name === 'PRIMARY')?.columns ?? [],
      timeExpr: source.expr,
      pushed: access !== undefined && (access.conditions.length > 0 || access.accessType === 'range'),
      blocker: blockerOf(part.sql, blockers),
    });
  }
  if (!table) return undefined;
  return { table, unionDistinct: derived.distinct, parts };
}

/** What stops the server from pushing a condition into any derived table, from its settings. */
async function pushdownBlockers(pool: VendorPool): Promise<string | undefined> {
  const [row] = await pool.query<{ sw: string }>('SELECT @@optimizer_switch AS sw', [], 'optimizer switch');
  const off = /\b(condition_pushdown_for_derived|derived_condition_pushdown)=off\b/.exec(row?.sw ?? '');
  return off
    ? `the server's optimizer_switch has ${off[1]}=off, so no condition reaches a derived table: ask the vendor's DBA for SET GLOBAL optimizer_switch='${off[1]}=on', or read the table directly in \`from\``
    : undefined;
}

/** Why the cursor condition could not reach this part, as the mapping should change. */
function blockerOf(partSql: string, server: string | undefined): string | undefined {
  const masked = maskNested(partSql);
  if (/\bLIMIT\b/i.test(masked)) {
    return 'the part has a LIMIT, which stops the server from pushing the cursor condition into it: remove the LIMIT from the part';
  }
  if (/\bOVER\s*\(/i.test(partSql)) {
    return 'the part computes a window function (OVER ...), which stops the server from pushing the cursor condition into it: select plain columns';
  }
  return server;
}

/** Row estimates of the tables EXPLAIN reads whole (ALL, index), keyed by the name EXPLAIN shows. */
async function scannedTableSizes(
  pool: VendorPool,
  from: string,
  explain: PlanRow[],
): Promise<Record<string, number | null>> {
  const names = new Map<string, string>();
  const add = (tables: FromTable[]) => {
    for (const t of tables) {
      if (t.derived) for (const part of t.derived.parts) add(tablesOf(part.from));
      else {
        names.set(t.alias, t.table);
        names.set(t.table, t.table);
      }
    }
  };
  add(tablesOf(from));
  const sizes: Record<string, number | null> = {};
  for (const row of explain) {
    if (!row.table || (row.type !== 'ALL' && row.type !== 'index')) continue;
    const table = names.get(row.table);
    if (table) sizes[row.table] = await tableRowEstimate(pool, table);
  }
  return sizes;
}

function toPlanRow(r: Record<string, unknown>): PlanRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: r.id === null || r.id === undefined ? null : Number(r.id),
    select_type: text(r.select_type),
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
