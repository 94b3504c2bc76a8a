/**
 * The status page's chart of delivered records per minute, rendered server-side as inline SVG (no
 * script, no CDN). Pure: points in, markup out. Long ranges are summed into at most MAX_BARS bars
 * so the chart stays legible on a phone.
 */
import { formatClock } from './time-format.js';

const MAX_BARS = 240;
const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 40, right: 20, top: 12, bottom: 24 };

export interface ChartPoint {
  /** Unix seconds of the minute's start. */
  minute: number;
  count: number;
}

export interface Bar {
  start: number;
  count: number;
}

/** Sums consecutive minutes so there are at most `maxBars` bars; returns the bars and minutes per bar. */
export function bucketPoints(
  points: ChartPoint[],
  maxBars = MAX_BARS,
): { bars: Bar[]; minutesPerBar: number } {
  const minutesPerBar = Math.max(1, Math.ceil(points.length / maxBars));
  const bars: Bar[] = [];
  for (let i = 0; i < points.length; i += minutesPerBar) {
    const group = points.slice(i, i + minutesPerBar);
    bars.push({ start: group[0]!.minute, count: group.reduce((sum, p) => sum + p.count, 0) });
  }
  return { bars, minutesPerBar };
}

/** A "nice" axis maximum (1, 2, 5 × 10^n) at or above `value`. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

export function renderDeliveriesChart(points: ChartPoint[], zone: string): string {
  const total = points.reduce((sum, p) => sum + p.count, 0);
  if (points.length === 0) return '<p class="muted">No chart data.</p>';
  const { bars, minutesPerBar } = bucketPoints(points);
  const top = niceMax(Math.max(...bars.map((b) => b.count)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const barW = plotW / bars.length;
  const y = (count: number) => PAD.top + plotH - (count / top) * plotH;
  const unit = minutesPerBar === 1 ? 'minute' : `${minutesPerBar} minutes`;
  const parts: string[] = [];
  parts.push(
    `<svg data-testid="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="chart-title">Records delivered per ${unit}; ${total} in total</title>`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" class="axis"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${WIDTH - PAD.right}" y2="${PAD.top}" class="grid"/>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + 4}" text-anchor="end" class="label">${top}</text>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end" class="label">0</text>`,
  );
  bars.forEach((bar, i) => {
    if (bar.count === 0) return;
    const h = Math.max(1, (bar.count / top) * plotH);
    parts.push(
      `<rect x="${fix(PAD.left + i * barW)}" y="${fix(y(bar.count))}" width="${fix(Math.max(barW - 0.5, 0.5))}" height="${fix(h)}" class="bar"><title>${formatClock(bar.start, zone)}: ${bar.count}</title></rect>`,
    );
  });
  // About six time labels, on whole bars.
  const every = Math.max(1, Math.round(bars.length / 6));
  for (let i = 0; i < bars.length; i += every) {
    const x = PAD.left + i * barW;
    parts.push(
      `<line x1="${fix(x)}" y1="${PAD.top + plotH}" x2="${fix(x)}" y2="${PAD.top + plotH + 4}" class="axis"/>`,
      `<text x="${fix(x)}" y="${HEIGHT - 6}" text-anchor="middle" class="label">${formatClock(bars[i]!.start, zone)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function fix(n: number): string {
  return n.toFixed(1);
}
