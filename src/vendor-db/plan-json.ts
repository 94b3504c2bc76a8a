/**
 * Reads `EXPLAIN FORMAT=JSON` into a flat list of table accesses, each with the select it belongs
 * to, the conditions the server attached to it, and the derived table it is materialized into. The
 * tabular EXPLAIN does not say which conditions reached a derived table's parts (MariaDB pushes a
 * WHERE on a derived table down into each SELECT of its UNION); the JSON form does. MariaDB's
 * `materialized` and MySQL's `materialized_from_subquery` are both read. Pure.
 */

export interface JsonPlanTable {
  /** The select this access belongs to (EXPLAIN's `id`). */
  selectId: number | null;
  /** `table_name`: a table or alias, `<derived2>`, `<union2,3>`. */
  table: string;
  accessType: string | null;
  key: string | null;
  usedKeyParts: string[];
  rows: number | null;
  /** attached_condition and index_condition, as the server prints them. */
  conditions: string[];
  /** The `<derivedN>` this table is read for (its materialization), when it is one's part. */
  partOf?: string;
}

/** Every table access of the plan, outer ones first. */
export function planTables(plan: unknown): JsonPlanTable[] {
  const out: JsonPlanTable[] = [];
  walk(plan, { selectId: null }, out);
  return out;
}

interface Context {
  selectId: number | null;
  partOf?: string;
}

function walk(node: unknown, ctx: Context, out: JsonPlanTable[]): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, ctx, out);
    return;
  }
  if (!isObject(node)) return;
  let here = ctx;
  if (typeof node.select_id === 'number') here = { ...ctx, selectId: node.select_id };
  if (typeof node.table_name === 'string' && ('access_type' in node || 'materialized' in node)) {
    out.push(tableOf(node, here));
    const materialized = node.materialized ?? node.materialized_from_subquery;
    if (materialized !== undefined) walk(materialized, { ...here, partOf: node.table_name }, out);
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'materialized' && key !== 'materialized_from_subquery') walk(value, here, out);
    }
    return;
  }
  for (const value of Object.values(node)) walk(value, here, out);
}

function tableOf(node: Record<string, unknown>, ctx: Context): JsonPlanTable {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const rows = node.rows ?? node.rows_examined_per_scan;
  return {
    selectId: ctx.selectId,
    table: String(node.table_name),
    accessType: text(node.access_type),
    key: text(node.key),
    usedKeyParts: Array.isArray(node.used_key_parts) ? node.used_key_parts.map(String) : [],
    rows: typeof rows === 'number' ? rows : null,
    conditions: [node.attached_condition, node.index_condition].filter(
      (c): c is string => typeof c === 'string',
    ),
    ...(ctx.partOf ? { partOf: ctx.partOf } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
