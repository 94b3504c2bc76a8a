/** The report's CSV, JSON and Markdown: escaping of lot codes and names, empty values, the header. */
import { describe, expect, it } from 'vitest';
import type { DailyReport, ReportRow } from '../../../src/pipeline/report/daily-report.js';
import { csvField, formatReport, reportCsv, reportMarkdown } from '../../../src/pipeline/report/format.js';

const row = (over: Partial<ReportRow>): ReportRow => ({
  day: '2026-12-01',
  parkCode: 'ATXL/1',
  lotName: 'North',
  entrances: 10,
  departures: 9,
  delivered: 19,
  missing: 0,
  quarantined: 0,
  failed: 0,
  pending: 0,
  photosMissing: 1,
  replayed: 0,
  latencyP50: 3.4,
  latencyP99: 12.1,
  completeness: 100,
  provisional: false,
  ...over,
});

const report = (rows: ReportRow[], reconciled = true): DailyReport => ({
  zone: 'Asia/Shanghai',
  from: '2026-12-01',
  to: '2026-12-01',
  reconciled,
  rows,
  total: {
    ...rows[0]!,
    day: undefined,
    parkCode: undefined,
    lotName: undefined,
  } as unknown as DailyReport['total'],
});

/** RFC 4180 read back: fields split on commas outside quotes, "" as a quote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      fields.push(field);
      rows.push(fields);
      fields = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('report formats', () => {
  it('CSV: a header, then lot codes and names with commas, quotes, line breaks and Chinese read back unchanged', () => {
    const names = ['北区停车场, 东门', 'the "big" lot', '一号\n二号', '普通', '=SUM(A1)'];
    const rows = names.map((lotName, i) => row({ parkCode: `P,${i}"x"`, lotName }));
    const csv = reportCsv(report(rows));
    const parsed = parseCsv(csv);
    expect(parsed[0]).toEqual([
      'day',
      'park_code',
      'lot_name',
      'entrances',
      'departures',
      'delivered',
      'missing',
      'quarantined',
      'failed',
      'pending',
      'photos_missing',
      'replayed',
      'latency_p50_s',
      'latency_p99_s',
      'completeness_pct',
      'provisional',
    ]);
    expect(parsed.slice(1).map((r) => [r[1], r[2]])).toEqual(names.map((n, i) => [`P,${i}"x"`, n]));
    for (const r of parsed) expect(r).toHaveLength(16);
    expect(csv).toContain('"北区停车场, 东门"');
    expect(csv).toContain('"the ""big"" lot"');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('CSV: a field is quoted only when it must be; unknown values are empty', () => {
    expect(csvField('普通停车场')).toBe('普通停车场');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
    const line = parseCsv(
      reportCsv(report([row({ missing: null, completeness: null, latencyP50: null })], false)),
    )[1]!;
    expect(line[6]).toBe('');
    expect(line[12]).toBe('');
    expect(line[14]).toBe('');
  });

  it('Markdown: one table row per lot, pipes escaped, unknown values as a dash, a total line', () => {
    const md = reportMarkdown(
      report([row({ parkCode: 'A|1', lotName: '北区|南区' }), row({ parkCode: 'B' })], false),
    );
    const lines = md.trimEnd().split('\n');
    const table = lines.filter((l) => l.startsWith('|'));
    expect(table).toHaveLength(2 + 2 + 1); // header, rule, two rows, total
    expect(table[2]).toContain('A\\|1');
    expect(table[2]).toContain('北区\\|南区');
    // Every table line has the same number of unescaped cell borders.
    const borders = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    expect(new Set(table.map(borders)).size).toBe(1);
    expect(md).toContain('Not reconciled');
    expect(table[4]).toContain('**total**');
  });

  it('JSON: the report as built, parseable', () => {
    const r = report([row({ lotName: '北区, "东门"' })]);
    expect(JSON.parse(formatReport(r, 'json'))).toEqual(JSON.parse(JSON.stringify(r)));
  });
});
