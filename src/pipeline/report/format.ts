/**
 * The daily report as text: CSV (RFC 4180, a header line, UTF-8, fields quoted when they hold a
 * comma, quote or line break), JSON (the report as built), or a Markdown table. Pure.
 */
import type { DailyReport, ReportRow } from './daily-report.js';

export const REPORT_FORMATS = ['csv', 'json', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

type Cell = string | number | boolean | null;

/** The columns, in order: CSV header name, Markdown title, value. */
const COLUMNS: ReadonlyArray<{ csv: string; md: string; value: (r: ReportRow) => Cell }> = [
  { csv: 'day', md: 'day', value: (r) => r.day },
  { csv: 'park_code', md: 'lot', value: (r) => r.parkCode },
  { csv: 'lot_name', md: 'name', value: (r) => r.lotName },
  { csv: 'entrances', md: 'entrances', value: (r) => r.entrances },
  { csv: 'departures', md: 'departures', value: (r) => r.departures },
  { csv: 'delivered', md: 'delivered', value: (r) => r.delivered },
  { csv: 'missing', md: 'missing', value: (r) => r.missing },
  { csv: 'quarantined', md: 'quarantined', value: (r) => r.quarantined },
  { csv: 'failed', md: 'failed', value: (r) => r.failed },
  { csv: 'pending', md: 'pending', value: (r) => r.pending },
  { csv: 'photos_missing', md: 'photos missing', value: (r) => r.photosMissing },
  { csv: 'replayed', md: 'replayed', value: (r) => r.replayed },
  { csv: 'latency_p50_s', md: 'p50 (s)', value: (r) => r.latencyP50 },
  { csv: 'latency_p99_s', md: 'p99 (s)', value: (r) => r.latencyP99 },
  { csv: 'completeness_pct', md: 'complete', value: (r) => r.completeness },
  { csv: 'provisional', md: 'provisional', value: (r) => r.provisional },
];

export function formatReport(report: DailyReport, format: ReportFormat): string {
  switch (format) {
    case 'csv':
      return reportCsv(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'md':
      return reportMarkdown(report);
  }
}

/** One CSV field: quoted (quotes doubled) when it holds a comma, quote, CR or LF; null is empty. */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line, then one line per lot and day (CRLF, as RFC 4180 has it); no total line. */
export function reportCsv(report: DailyReport): string {
  const lines = [COLUMNS.map((c) => c.csv).join(',')];
  for (const row of report.rows) lines.push(COLUMNS.map((c) => csvField(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The reports of several sources as one CSV: the same columns after a leading `source`, one header
 * line, the sources' rows in the order given.
 */
export function sourcesReportCsv(parts: ReadonlyArray<{ source: string; report: DailyReport }>): string {
  const lines = [['source', ...COLUMNS.map((c) => c.csv)].join(',')];
  for (const { source, report } of parts)
    for (const row of report.rows)
      lines.push([csvField(source), ...COLUMNS.map((c) => csvField(c.value(row)))].join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A Markdown cell: pipes escaped, line breaks as spaces; null as an en dash. */
function mdCell(value: Cell): string {
  if (value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : '';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return String(value)
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
}

export function reportMarkdown(report: DailyReport): string {
  const range = report.from === report.to ? report.from : `${report.from} to ${report.to}`;
  const out = [
    `## Delivery report ${range} (${report.zone})${report.lot ? `, lot ${mdCell(report.lot)}` : ''}`,
    '',
  ];
  if (!report.reconciled)
    out.push(
      'Not reconciled: entrances and departures are what was delivered; missing, quarantined, failed and completeness are unknown (–).',
      '',
    );
  out.push(`| ${COLUMNS.map((c) => c.md).join(' | ')} |`);
  out.push(`|${COLUMNS.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);
  for (const row of report.rows) out.push(`| ${COLUMNS.map((c) => mdCell(c.value(row))).join(' | ')} |`);
  const t = report.total;
  const total: ReportRow = { ...t, day: '**total**', parkCode: '', lotName: '' };
  out.push(`| ${COLUMNS.map((c) => mdCell(c.value(total))).join(' | ')} |`);
  if (report.rows.length === 0) out.push('', 'No events recorded or delivered in this range.');
  return `${out.join('\n')}\n`;
}
