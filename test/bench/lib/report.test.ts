/** The benchmark's pure helpers: summaries, targets, the Markdown table, metric scraping. */
import { describe, expect, it } from 'vitest';
import { isMet, makeResult, median, percentile, type ResultsFile, toMarkdown } from './report.js';
import { metricValue } from './worker-process.js';

describe('bench report', () => {
  it('takes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('judges a target on the value or on the ratio', () => {
    const atLeastHalf = { on: 'ratio', op: '>=', bound: 0.5, text: '' } as const;
    expect(isMet(atLeastHalf, 10, 0.6)).toBe(true);
    expect(isMet(atLeastHalf, 10, 0.4)).toBe(false);
    expect(isMet(atLeastHalf, 10, null)).toBe(false);
    expect(isMet({ on: 'value', op: '<', bound: 300, text: '' }, 300, null)).toBe(false);
    expect(isMet(null, 1, 1)).toBe(null);
  });

  it('summarizes runs: median value, min, max, ratio to the ceiling, met', () => {
    const r = makeResult({
      id: 'x',
      unit: 'events/s',
      runs: [{ value: 100 }, { value: 300 }, { value: 200 }],
      ceiling: { id: 'c', value: 400, unit: 'events/s' },
      target: { on: 'ratio', op: '>=', bound: 0.5, text: '≥ 0.5' },
      note: 'n',
      command: 'npm run bench',
    });
    expect(r).toMatchObject({ value: 200, min: 100, max: 300, n: 3, ratio: 0.5, met: true });
    const table = toMarkdown({
      mode: 'quick',
      notes: ['a note'],
      command: 'npm run bench -- --quick',
      startedAt: '2026-01-01T00:00:00Z',
      durationSeconds: 1,
      machine: { cpus: 2, cpuModel: 'cpu', memoryGb: 4, os: 'linux', loadStart: '0', loadEnd: '0' },
      versions: { node: '20' },
      results: [r],
    } satisfies ResultsFile);
    expect(table).toMatch(
      /\| `x` +\| +200 events\/s \| 100–300 \| +3 \| 400 events\/s \(c\) +\| +0\.5 \| ≥ 0\.5 +\| +yes +\|/,
    );
    expect(table).toContain('quick');
    expect(table).toContain('Reproduce: `npm run bench`');
  });

  it('reads counters from a Prometheus page, summing label sets', () => {
    const page = [
      '# HELP isp_sync_photos_total Photos',
      'isp_sync_photos_total{outcome="reencoded"} 7',
      'isp_sync_photos_total{outcome="passthrough"} 3',
      'isp_sync_photo_encodes_total 9',
      'isp_sync_photo_encodes_total_extra 100',
    ].join('\n');
    expect(metricValue(page, 'isp_sync_photos_total')).toBe(10);
    expect(metricValue(page, 'isp_sync_photos_total', { outcome: 'reencoded' })).toBe(7);
    expect(metricValue(page, 'isp_sync_photo_encodes_total')).toBe(9);
  });
});
