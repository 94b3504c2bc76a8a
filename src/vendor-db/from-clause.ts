/**
 * Names the tables of a stream's FROM clause and of a column expression, so that a problem can be
 * reported as "unknown column 'in_plat' in car_inout" and an index advice names the right table.
 * A light reading of the clause (table [AS] alias, JOIN ... ON/USING, commas), not a SQL parser:
 * derived tables are skipped.
 */

export interface FromTable {
  table: string;
  alias: string;
}

const JOIN_WORDS =
  /\b(?:(?:NATURAL\s+)?(?:LEFT|RIGHT|FULL)?\s*(?:OUTER\s+|INNER\s+|CROSS\s+)?JOIN|STRAIGHT_JOIN)\b/i;
const KEYWORDS = new Set([
  'on',
  'using',
  'where',
  'left',
  'right',
  'inner',
  'outer',
  'cross',
  'join',
  'natural',
]);

export function unquote(name: string): string {
  return name.replace(/`/g, '');
}

/** `t_exit x LEFT JOIN t_entry e ON ...` -> [{table: 't_exit', alias: 'x'}, {table: 't_entry', alias: 'e'}]. */
export function tablesOf(from: string): FromTable[] {
  const out: FromTable[] = [];
  for (const segment of from.split(new RegExp(`${JOIN_WORDS.source}|,`, 'i'))) {
    const head = segment.split(/\b(?:ON|USING)\b/i)[0]?.trim() ?? '';
    if (!head || head.startsWith('(')) continue;
    const words = head.split(/\s+/).filter((w) => w.toUpperCase() !== 'AS');
    const name = words[0];
    if (!name || !/^[`\w.$]+$/.test(name)) continue;
    const table = unquote(name).split('.').at(-1) ?? name;
    const aliasWord = words[1];
    const alias = aliasWord && !KEYWORDS.has(aliasWord.toLowerCase()) ? unquote(aliasWord) : table;
    out.push({ table, alias });
  }
  return out;
}

/** A plain column reference `col`, `t.col` or `` `t`.`col` ``; undefined for an expression. */
export function columnRef(expr: string): { qualifier?: string; column: string } | undefined {
  const m = /^\s*(?:(`[^`]+`|\w+)\s*\.\s*)?(`[^`]+`|\w+)\s*$/.exec(expr);
  if (!m) return undefined;
  const column = unquote(m[2]!);
  return m[1] ? { qualifier: unquote(m[1]), column } : { column };
}

/** The table a qualifier (alias or name) refers to; the only table when unqualified. */
export function tableFor(from: string, qualifier: string | undefined): FromTable | undefined {
  const tables = tablesOf(from);
  if (qualifier === undefined) return tables.length === 1 ? tables[0] : undefined;
  const q = qualifier.toLowerCase();
  return tables.find((t) => t.alias.toLowerCase() === q) ?? tables.find((t) => t.table.toLowerCase() === q);
}

/** "car_inout" or "t_exit, t_entry, t_car_type": where an unqualified column was looked for. */
export function describeTables(from: string, qualifier?: string): string {
  const one = tableFor(from, qualifier);
  if (one) return one.table;
  const all = tablesOf(from).map((t) => t.table);
  return all.length ? all.join(', ') : from;
}
