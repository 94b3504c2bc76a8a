/** The 14-day chart's markup (pure): a bar per day, a dot per reconciled day, the line broken at gaps. */
import { describe, expect, it } from 'vitest';
import type { RecentDay } from '../../src/pipeline/report/recent-days.js';
import { renderDaysChart } from '../../src/web/days-chart.js';

const day = (
  d: number,
  delivered: number,
  completeness: number | null = null,
  missing: number | null = null,
): RecentDay => ({
  day: `2026-12-${String(d).padStart(2, '0')}`,
  delivered,
  recorded: completeness === null ? null : delivered,
  completeness,
  missing,
});

describe('days chart', () => {
  it('draws a bar per day scaled to the busiest, and completeness only where a reconcile ran', () => {
    const svg = renderDaysChart([
      day(1, 50, 100, 0),
      day(2, 100, 99.5, 1),
      day(3, 0),
      day(4, 25, 100, 0),
      day(5, 10, 100, 0),
    ]);
    const bars = [...svg.matchAll(/data-testid="day-bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(bars).toHaveLength(5);
    expect(bars[1]).toBeCloseTo(2 * bars[0]!, 0);
    expect(bars[2]).toBe(0);
    expect(svg.match(/data-testid="day-completeness"/g)).toHaveLength(4);
    // Day 3 has no reconcile: the line is two pieces, days 1-2 and 4-5.
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('class="pct-dot short"');
    expect(svg).toContain('2026-12-03: 0 delivered; no reconcile');
  });

  it('says so when there are no days', () => {
    expect(renderDaysChart([])).toContain('No days yet');
  });
});
