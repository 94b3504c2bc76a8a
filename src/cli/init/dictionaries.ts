/**
 * The car and pay type dictionaries of a draft: the values a column holds in the samples, with how
 * often each occurs, mapped to ISP's codes (src/isp-spec/codes.ts) where a guess is possible: by the
 * words config/default.yaml already maps, by a lookup table's name for an id, or by the word. Pure.
 */
import type { ColumnInfo } from '../../vendor-db/introspect.js';
import { frequencies, isInteger, valuesOf, words } from './columns.js';
import type { Classified, DictionaryDraft, DictionaryEntry } from './draft.js';

/** car type code from a vendor word, when the word says it. */
export function guessCarType(label: string): string | undefined {
  const l = label.toLowerCase();
  if (/新能源|电动|纯电|混动|\bev\b|new.?energy|electric/.test(l)) return '6';
  if (/警|police/.test(l)) return '3';
  if (/无牌|无号牌|no.?plate/.test(l)) return '5';
  if (/临时|访客|外来|visitor|temp/.test(l)) return '4';
  if (/大|large|big|truck|bus|货车|客车/.test(l)) return '1';
  if (/小|small|car|轿车/.test(l)) return '2';
  return undefined;
}

/** pay type code from a vendor word, when the word says it. */
export function guessPayType(label: string): string | undefined {
  const l = label.toLowerCase();
  if (/微信|wechat|weixin|\bwx\b/.test(l)) return '3';
  if (/支付宝|alipay|zfb/.test(l)) return '4';
  if (/现金|cash/.test(l)) return '1';
  if (/etc/.test(l)) return '2';
  if (/银联|信用卡|银行卡|credit|union.?pay|bank/.test(l)) return '5';
  if (/储值|余额|stored|balance|prepaid/.test(l)) return '6';
  if (/月卡|月租|包月|monthly|month/.test(l)) return '7';
  return undefined;
}

/**
 * The values of a car or pay type column with their frequencies, each mapped: by the default
 * dictionaries, by a lookup table's name for an id (`t_car_type` says 3 = 警车), or by its words.
 * With a lookup table, its ids that the sample lacks follow, counted 0.
 */
export function dictionaryDraft(
  t: Classified | undefined,
  column: ColumnInfo | undefined,
  tables: Classified[],
  known: Record<string, string>,
  guessCode: (label: string) => string | undefined,
): DictionaryDraft {
  if (!t || !column) return { sampled: 0, entries: [] };
  const values = valuesOf(t.table.samples, column.name);
  const lookup = isInteger(column) ? lookupTable(column, t, tables) : undefined;
  const counted = frequencies(values);
  // Every id the lookup table defines, not only those in the sample: a rare type (a police car in
  // a few hundred rows) would otherwise be missing from the draft and unmapped in production.
  const seen = new Set(counted.map((c) => c.value));
  const unseen = [...(lookup?.labels.keys() ?? [])]
    .filter((id) => !seen.has(id))
    .sort((a, b) => Number(a) - Number(b))
    .map((value) => ({ value, count: 0 }));
  const entries = [...counted, ...unseen].map(({ value, count }): DictionaryEntry => {
    const label = lookup?.labels.get(value);
    if (label !== undefined) {
      const code = known[label.trim()] ?? guessCode(label);
      return {
        value,
        count,
        ...(code ? { code } : {}),
        why: `${lookup!.table} says ${value} = ${label}`,
        known: false,
      };
    }
    const mapped = known[value];
    if (mapped)
      return { value, count, code: mapped, why: 'mapped by config/default.yaml', known: !isInteger(column) };
    const code = guessCode(value);
    return {
      value,
      count,
      ...(code ? { code } : {}),
      why: code ? `the word ${value}` : 'no guess',
      known: false,
    };
  });
  return { column: `${t.table.name}.${column.name}`, sampled: t.table.samples.length, entries };
}

/** A small table whose primary key the id column names (car_type_id -> t_car_type.type_id), read whole. */
function lookupTable(
  column: ColumnInfo,
  owner: Classified,
  tables: Classified[],
): { table: string; labels: Map<string, string> } | undefined {
  const stem = words(column.name).replace(/_id$/, '');
  for (const t of tables) {
    if (t === owner || (t.table.rows ?? 0) > 1000) continue;
    const primary = t.table.indexes.find((i) => i.name === 'PRIMARY');
    if (primary?.columns.length !== 1) continue;
    if (!words(t.table.name).includes(stem) && words(primary.columns[0]!) !== words(column.name)) continue;
    const label = t.table.columns.find((c) => c.name !== primary.columns[0] && /char|text/.test(c.dataType));
    if (!label) continue;
    const labels = new Map<string, string>();
    for (const row of t.table.samples) {
      const id = row[primary.columns[0]!];
      const text = row[label.name];
      if (id != null && text != null) labels.set(id, text);
    }
    return { table: `${t.table.name}.${label.name}`, labels };
  }
  return undefined;
}
