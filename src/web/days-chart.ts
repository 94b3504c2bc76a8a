/**
 * The status page's chart of the last days: events delivered per day (bars, left axis) and the
 * completeness a nightly reconcile found (dots joined by a line, right axis, percent), as inline
 * SVG. Pure: days in, markup out; every text escaped.
 */
import type { RecentDay } from '../pipeline/report/recent-days.js';
import { niceMax } from './chart.js';
import { escapeHtml } from './redaction.js';

const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 48, right: 44, top: 14, bottom: 24 };

export function renderDaysChart(days: readonly RecentDay[]): string {
  if (days.length === 0) return '<p class="muted">No days yet.</p>';
  const top = niceMax(Math.max(...days.map((d) => d.delivered)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const base = PAD.top + plotH;
  const yPct = (pct: number) => base - (pct / 100) * plotH;
  const xMid = (i: number) => PAD.left + (i + 0.5) * slot;
  const total = days.reduce((n, d) => n + d.delivered, 0);
  const parts: string[] = [
    `<svg data-testid="days-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="days-chart-title" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="days-chart-title">Events delivered per day (bars) and completeness per day (line), last ${days.length} days; ${total} delivered</title>`,
    `<line x1="${PAD.left}" y1="${base}" x2="${WIDTH - PAD.right}" y2="${base}" class="axis"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${WIDTH - PAD.right}" y2="${PAD.top}" class="grid"/>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + 4}" text-anchor="end" class="label">${top}</text>`,
    `<text x="${PAD.left - 4}" y="${base}" text-anchor="end" class="label">0</text>`,
    `<text x="${WIDTH - PAD.right + 4}" y="${PAD.top + 4}" class="label pct">100%</text>`,
    `<text x="${WIDTH - PAD.right + 4}" y="${base}" class="label pct">0%</text>`,
  ];
  days.forEach((d, i) => {
    const complete = d.completeness === null ? 'no reconcile' : `${d.completeness}% complete`;
    const missing = d.missing ? `, ${d.missing} missing` : '';
    const title = escapeHtml(`${d.day}: ${d.delivered} delivered; ${complete}${missing}`);
    const h = d.delivered === 0 ? 0 : Math.max(1, (d.delivered / top) * plotH);
    parts.push(
      `<rect data-testid="day-bar" data-day="${escapeHtml(d.day)}" data-value="${d.delivered}" x="${fix(PAD.left + i * slot + slot * 0.15)}" y="${fix(base - h)}" width="${fix(slot * 0.7)}" height="${fix(h)}" class="bar"><title>${title}</title></rect>`,
    );
  });
  // Completeness: a line through the days a nightly reconcile checked, broken where none did.
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) parts.push(`<polyline points="${run.join(' ')}" class="pct-line"/>`);
    run = [];
  };
  for (const [i, d] of days.entries()) {
    if (d.completeness === null) flush();
    else run.push(`${fix(xMid(i))},${fix(yPct(d.completeness))}`);
  }
  flush();
  for (const [i, d] of days.entries()) {
    if (d.completeness === null) continue;
    const cls = d.missing ? 'pct-dot short' : 'pct-dot';
    parts.push(
      `<circle data-testid="day-completeness" data-day="${escapeHtml(d.day)}" data-value="${d.completeness}" cx="${fix(xMid(i))}" cy="${fix(yPct(d.completeness))}" r="4" class="${cls}"><title>${escapeHtml(`${d.day}: ${d.completeness}% complete`)}</title></circle>`,
    );
  }
  const every = Math.max(1, Math.ceil(days.length / 7));
  for (let i = 0; i < days.length; i += every) {
    parts.push(
      `<text x="${fix(xMid(i))}" y="${HEIGHT - 6}" text-anchor="middle" class="label">${escapeHtml(days[i]!.day.slice(5))}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function fix(n: number): string {
  return n.toFixed(1);
}
