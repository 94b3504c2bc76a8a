/**
 * Names the tables of a stream's FROM clause and of a column expression, so that a problem can be
 * reported as "unknown column 'in_plat' in car_inout" and an index advice names the right table.
 * A light reading of the clause (table [AS] alias, JOIN ... ON/USING, commas, and a derived table
 * `(SELECT ... UNION ALL SELECT ...) alias` read part by part), not a SQL parser: what sits inside
 * parentheses or quotes never splits the clause.
 */

export interface FromTable {
  /** The table's name; for a derived table, a description such as `(t1 UNION ALL t2)`. */
  table: string;
  alias: string;
  /** Set for a derived table: its parts (one per SELECT of a UNION). */
  derived?: DerivedTable;
}

export interface DerivedTable {
  /** The derived table's column names (the first part's: a UNION takes its names from it). */
  names: string[];
  parts: DerivedPart[];
  /** A UNION without ALL: the server compares every row read to drop duplicates. */
  distinct: boolean;
}

export interface DerivedPart {
  /** The part's own FROM clause (up to WHERE, GROUP BY, ...). */
  from: string;
  /** The part's select list, in order: the expression giving each of `names`. */
  exprs: string[];
  /** The whole part as written, e.g. `SELECT id, in_time FROM visits_2025 WHERE ...`. */
  sql: string;
}

const JOIN_WORDS =
  /\b(?:(?:NATURAL\s+)?(?:LEFT|RIGHT|FULL)?\s*(?:OUTER\s+|INNER\s+|CROSS\s+)?JOIN|STRAIGHT_JOIN)\b/gi;
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

/**
 * The text with everything inside parentheses and quotes replaced by `_` (same length), so that a
 * regular expression over it finds only top-level words and commas.
 */
export function maskNested(text: string): string {
  let out = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      out += ch === quote ? ch : '_';
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote !== '`' && i + 1 < text.length) {
        out += '_';
        i++;
      }
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch;
      out += depth > 0 ? '_' : ch;
      continue;
    }
    if (ch === '(') {
      out += depth === 0 ? '(' : '_';
      depth++;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      out += depth === 0 ? ')' : '_';
    } else out += depth > 0 ? '_' : ch;
  }
  return out;
}

/** Splits `text` where `separator` matches at the top level (not inside parentheses or quotes). */
function splitTopLevel(text: string, separator: RegExp): string[] {
  const masked = maskNested(text);
  const flags = separator.flags.includes('g') ? separator.flags : `${separator.flags}g`;
  const re = new RegExp(separator.source, flags);
  const out: string[] = [];
  let start = 0;
  for (const m of masked.matchAll(re)) {
    out.push(text.slice(start, m.index));
    start = m.index + m[0].length;
  }
  out.push(text.slice(start));
  return out;
}

/** Index of the first top-level match of `word` in `text`, or -1. */
function topLevelIndex(text: string, word: RegExp): number {
  const m = word.exec(maskNested(text));
  return m ? m.index : -1;
}

/** `t_exit x LEFT JOIN t_entry e ON ...` -> [{table: 't_exit', alias: 'x'}, {table: 't_entry', alias: 'e'}]. */
export function tablesOf(from: string): FromTable[] {
  const out: FromTable[] = [];
  for (const segment of splitTopLevel(from, new RegExp(`${JOIN_WORDS.source}|,`, 'i'))) {
    const on = topLevelIndex(segment, /\b(?:ON|USING)\b/i);
    const head = (on >= 0 ? segment.slice(0, on) : segment).trim();
    if (!head) continue;
    if (head.startsWith('(')) {
      const derived = derivedTableOf(head);
      if (derived) out.push(derived);
      continue;
    }
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

/** `(SELECT ... UNION ALL SELECT ...) [AS] v` -> the derived table `v` with its parts. */
function derivedTableOf(head: string): FromTable | undefined {
  const masked = maskNested(head);
  const close = masked.indexOf(')');
  if (close < 0) return undefined;
  const inner = head.slice(1, close).trim();
  const aliasWord = head
    .slice(close + 1)
    .trim()
    .split(/\s+/)
    .filter((w) => w && w.toUpperCase() !== 'AS')[0];
  if (!aliasWord || !/^\(*\s*SELECT\b/i.test(inner)) return undefined;
  const parts = splitTopLevel(inner, /\bUNION(?:\s+(?:ALL|DISTINCT))?\b/i)
    .map((p) => stripParentheses(p.trim()))
    .map(partOf)
    .filter((p): p is DerivedPart => p !== undefined);
  if (!parts.length) return undefined;
  const names = parts[0]!.exprs.map(outputName);
  const partTables = parts.map((p) => tablesOf(p.from)[0]?.table ?? '?');
  const unions = [...maskNested(inner).matchAll(/\bUNION(\s+ALL)?\b/gi)];
  const distinct = unions.some((u) => !u[1]);
  return {
    table: `(${partTables.join(distinct ? ' UNION ' : ' UNION ALL ')})`,
    alias: unquote(aliasWord),
    derived: { names, parts: parts.map((p) => ({ ...p, exprs: p.exprs.map(expressionOf) })), distinct },
  };
}

function stripParentheses(text: string): string {
  let t = text;
  while (t.startsWith('(') && maskNested(t).indexOf(')') === t.length - 1) t = t.slice(1, -1).trim();
  return t;
}

/** `SELECT a, b AS c FROM t WHERE ...` -> its select items (with aliases) and its FROM clause. */
function partOf(sql: string): DerivedPart | undefined {
  const m = /^SELECT\s+(?:(?:ALL|DISTINCT|DISTINCTROW|STRAIGHT_JOIN|SQL_\w+)\s+)*/i.exec(sql);
  if (!m) return undefined;
  const body = sql.slice(m[0].length);
  const fromAt = topLevelIndex(body, /\bFROM\b/i);
  if (fromAt < 0) return undefined;
  const list = body.slice(0, fromAt);
  const rest = body.slice(fromAt + 4);
  const end = topLevelIndex(
    rest,
    /\b(?:WHERE|GROUP\s+BY|HAVING|WINDOW|ORDER\s+BY|LIMIT|FOR\s+UPDATE|LOCK\s+IN|INTO)\b/i,
  );
  return {
    from: (end >= 0 ? rest.slice(0, end) : rest).trim(),
    exprs: splitTopLevel(list, /,/).map((s) => s.trim()),
    sql,
  };
}

const ALIAS_OF = /^([\s\S]*?\S)\s+(?:AS\s+)?(`[^`]+`|\w+)$/i;
const NOT_AN_ALIAS =
  /[-+*/%=<>!|&^,(~]$|\b(?:AND|OR|NOT|XOR|IS|IN|LIKE|THEN|ELSE|WHEN|CASE|BINARY|DIV|MOD)$/i;

/** `x.in_time` -> in_time, `COALESCE(a, b) AS t` -> t, `a + 1` -> `a + 1` (the server's name). */
function outputName(item: string): string {
  const alias = aliasOf(item);
  if (alias) return alias.name;
  const ref = columnRef(item);
  return ref ? ref.column : item;
}

/** `COALESCE(a, b) AS t` -> `COALESCE(a, b)`; an item without an alias is its own expression. */
function expressionOf(item: string): string {
  return aliasOf(item)?.expr ?? item;
}

function aliasOf(item: string): { expr: string; name: string } | undefined {
  const m = ALIAS_OF.exec(item);
  if (!m) return undefined;
  const [, expr, name] = m as unknown as [string, string, string];
  // `a + b` and `CASE ... END` have no alias: the last word belongs to the expression.
  if (NOT_AN_ALIAS.test(maskNested(expr)) || name.toUpperCase() === 'END') return undefined;
  return { expr: expr.trim(), name: unquote(name) };
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

/** Where one column of a derived table comes from in one part: a table's column, or an expression. */
export interface PartSource {
  /** The part's table the column is read from (its first table when the source is an expression). */
  table: string;
  /** The plain column, when the part selects one. */
  column?: string;
  /** The part's expression for the column, as written. */
  expr: string;
}

/** The source of the derived table's column `name` in each part; undefined when `name` is not one. */
export function partSources(derived: DerivedTable, name: string): PartSource[] | undefined {
  const at = derived.names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
  if (at < 0) return undefined;
  return derived.parts.map((part) => {
    const expr = part.exprs[at] ?? '';
    const ref = columnRef(expr);
    const table = (ref && tableFor(part.from, ref.qualifier)) ?? tablesOf(part.from)[0];
    return {
      table: table?.table ?? '?',
      expr,
      ...(ref && table && !table.derived ? { column: ref.column } : {}),
    };
  });
}

/** "car_inout" or "t_exit, t_entry, t_car_type": where an unqualified column was looked for. */
export function describeTables(from: string, qualifier?: string): string {
  const one = tableFor(from, qualifier);
  if (one) return one.table;
  const all = tablesOf(from).map((t) => t.table);
  return all.length ? all.join(', ') : from;
}
