/**
 * What a vendor's table or column name means, from its words: English and the pinyin initials
 * Chinese parking systems use (`rcsj` 入场时间 "entry time", `cph` 车牌号 "plate", `tccbh` 停车场编号
 * "lot code"), and what its samples look like (DATETIME text, epoch seconds, URLs, paths, fen).
 * Pure: names and sample texts in, a role or a finding out.
 */
import type { ColumnInfo, SampleRow, TableInfo } from '../../vendor-db/introspect.js';

/** Pinyin abbreviations, each read as the English words it stands for. */
const PINYIN: Record<string, string> = {
  rcsj: 'in_time',
  jcsj: 'in_time',
  ccsj: 'out_time',
  lcsj: 'out_time',
  cph: 'plate',
  hphm: 'plate',
  cllx: 'car_type',
  cx: 'car_type',
  zffs: 'pay_type',
  zfsj: 'pay_time',
  ysje: 'payable_fee',
  ssje: 'paid_fee',
  tccbh: 'park_code',
  tcbh: 'park_code',
  tccmc: 'park_name',
  tcmc: 'park_name',
  jd: 'lng',
  wd: 'lat',
  dz: 'address',
  zcw: 'total_space',
  sycw: 'remain_space',
  kxcw: 'remain_space',
  yycw: 'used_space',
  rczp: 'in_photo',
  cczp: 'out_photo',
  pp: 'brand',
  tcsc: 'duration',
  tcc: 'park',
  jcjl: 'inout_record',
  crjl: 'inout_record',
  rcjl: 'in_record',
  ccjl: 'out_record',
  xx: 'info',
};

/** `rcsj` -> `in_time`, `inTime` -> `in_time`, `t_car_inout` -> `t_car_inout`: words joined by `_`. */
export function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => PINYIN[w] ?? w)
    .join('_');
}

const w = (list: string) => new RegExp(`(?:^|_)(?:${list})(?:_|$)`);
export const IN_WORDS = w('in|entry|enter|entrance|arrive|arrival');
export const OUT_WORDS = w('out|exit|leave|departure|depart');
const TIME_WORDS = w('time|at|date|dt|datetime|ts');

export type ColumnRole =
  | 'inTime'
  | 'outTime'
  | 'payTime'
  | 'plate'
  | 'parkCode'
  | 'parkName'
  | 'longitude'
  | 'latitude'
  | 'address'
  | 'deleted'
  | 'total'
  | 'used'
  | 'remain'
  | 'carType'
  | 'payType'
  | 'payable'
  | 'paid'
  | 'duration'
  | 'brand'
  | 'photo';

/** Each role's test on a column's words; the first role that fits wins. */
const ROLES: Array<[ColumnRole, (n: string, c: ColumnInfo) => boolean]> = [
  ['payTime', (n, c) => /(?:^|_)pay/.test(n) && TIME_WORDS.test(n) && isTimeType(c)],
  ['inTime', (n, c) => IN_WORDS.test(n) && TIME_WORDS.test(n) && isTimeType(c)],
  ['outTime', (n, c) => OUT_WORDS.test(n) && TIME_WORDS.test(n) && isTimeType(c)],
  ['photo', (n) => w('pic|photo|img|image|picture|snapshot').test(n)],
  ['plate', (n) => /plate|license|(?:^|_)car_no(?:_|$)|(?:^|_)vehicle_no(?:_|$)|carno/.test(n)],
  ['parkName', (n) => /^(?:park_|lot_|parking_)?name$/.test(n)],
  ['parkCode', (n) => /^(?:park|lot|parking|yard)_?(?:no|code|id|num|sn)$|^code$/.test(n)],
  ['longitude', (n) => w('lng|lon|long|longitude').test(n)],
  ['latitude', (n) => w('lat|latitude').test(n)],
  ['address', (n) => w('addr|address|location').test(n)],
  ['deleted', (n) => /^(?:is_)?(?:deleted|del|removed)(?:_flag)?$|^del_flag$/.test(n)],
  ['total', (n) => w('total|capacity').test(n) && !/fee|pay|amount|money/.test(n)],
  ['remain', (n) => w('free|remain|left|empty|available|surplus').test(n)],
  ['used', (n) => w('used|occupied').test(n) && !/time/.test(n)],
  ['payType', (n) => /(?:^|_)pay_?(?:type|kind|method|way|mode|channel)(?:_|$)/.test(n)],
  ['carType', (n) => /(?:car|vehicle|auto)_?(?:type|kind|class|category)/.test(n) && !/name$/.test(n)],
  ['payable', (n) => w('should_pay|receivable|payable|payable_fee|total_fee|amount_due|ys').test(n)],
  ['paid', (n) => w('real_pay|received|paid|paid_fee|actual_pay|actual_fee|ss').test(n)],
  ['duration', (n) => w('duration|stay|park_time|parking_time|duration_min|minutes').test(n)],
  ['brand', (n) => w('brand|logo|make').test(n)],
];

export function roleOf(column: ColumnInfo): ColumnRole | undefined {
  const n = words(column.name);
  return ROLES.find(([, test]) => test(n, column))?.[0];
}

/** Columns of `table` with `role`, in table order. */
export function columnsWith(table: TableInfo, role: ColumnRole): ColumnInfo[] {
  return table.columns.filter((c) => roleOf(c) === role);
}

const DATE_TYPES = new Set(['datetime', 'timestamp', 'date']);
const INT_TYPES = new Set(['int', 'bigint', 'mediumint', 'smallint', 'tinyint']);

export function isTimeType(c: ColumnInfo): boolean {
  return DATE_TYPES.has(c.dataType) || c.dataType === 'bigint' || c.dataType === 'int';
}

export function isInteger(c: ColumnInfo): boolean {
  return INT_TYPES.has(c.dataType);
}

export function isDecimal(c: ColumnInfo): boolean {
  return c.dataType === 'decimal' || c.dataType === 'float' || c.dataType === 'double';
}

export function isBlob(c: ColumnInfo): boolean {
  return /blob|binary/.test(c.dataType);
}

/** The non-null sample values of a column. */
export function valuesOf(samples: SampleRow[], column: string): string[] {
  return samples.map((s) => s[column]).filter((v): v is string => v !== null && v !== undefined);
}

export type TimeFormat = 'datetime' | 'epoch-s' | 'epoch-ms';

/** How a time column stores time, with the evidence: "12/12 samples parse as DATETIME". */
export function timeFormatOf(
  c: ColumnInfo,
  samples: SampleRow[],
): { format: TimeFormat; why: string } | undefined {
  const values = valuesOf(samples, c.name);
  const count = (re: RegExp) => values.filter((v) => re.test(v)).length;
  if (DATE_TYPES.has(c.dataType)) {
    const ok = count(/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?$/);
    return {
      format: 'datetime',
      why: `${c.dataType.toUpperCase()} column, ${ok}/${values.length} samples parse as DATETIME`,
    };
  }
  if (!isInteger(c)) return undefined;
  const seconds = count(/^1\d{9}$/);
  const millis = count(/^1\d{12}$/);
  if (values.length && millis === values.length)
    return {
      format: 'epoch-ms',
      why: `${c.columnType} column, ${millis}/${values.length} samples are Unix milliseconds`,
    };
  if (values.length && seconds === values.length)
    return {
      format: 'epoch-s',
      why: `${c.columnType} column, ${seconds}/${values.length} samples are Unix seconds`,
    };
  return undefined;
}

/** Values with how often they occur in the samples, most frequent first. */
export function frequencies(values: string[]): Array<{ value: string; count: number }> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v.trim(), (counts.get(v.trim()) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}
