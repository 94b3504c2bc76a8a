/** Reconcile rows and delivery figures per day → report rows (pure). */
import { describe, expect, it } from 'vitest';
import type { LotDayReconcile } from '../../../src/pipeline/reconcile/types.js';
import { buildDailyReport, completeness } from '../../../src/pipeline/report/daily-report.js';
import { type LatencyHistogram, latencyBucket } from '../../../src/state/latency-buckets.js';

const hist = (...latencies: number[]): LatencyHistogram => {
  const h: LatencyHistogram = new Map();
  for (const s of latencies) h.set(latencyBucket(s), (h.get(latencyBucket(s)) ?? 0) + 1);
  return h;
};

const rec = (over: Partial<LotDayReconcile>): LotDayReconcile => ({
  day: '2026-12-01',
  parkCode: 'ATXL/1',
  stream: 'entrances',
  recorded: 0,
  delivered: 0,
  quarantined: 0,
  failed: 0,
  pending: 0,
  unread: 0,
  missing: [],
  provisional: false,
  ...over,
});

const missing = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    stream: 'entrances' as const,
    parkCode: 'ATXL/2',
    key: `k${i}`,
    vendorId: String(i),
    time: 0,
  }));

describe('daily report', () => {
  it('sums both streams per lot and day, with latency over both, completeness of what was recorded', () => {
    const report = buildDailyReport({
      zone: 'Asia/Shanghai',
      from: '2026-12-01',
      to: '2026-12-01',
      reconcile: [
        rec({ recorded: 10, delivered: 10 }),
        rec({ stream: 'departures', recorded: 8, delivered: 8 }),
        rec({
          parkCode: 'ATXL/2',
          recorded: 7,
          delivered: 3,
          quarantined: 1,
          failed: 1,
          missing: missing(2),
        }),
        rec({ parkCode: 'ATXL/10', recorded: 1, delivered: 0, pending: 1, provisional: true }),
        rec({ day: '2026-12-02', recorded: 99, delivered: 99 }), // outside the range
      ],
      deliveries: [
        {
          stream: 'entrances',
          day: '2026-12-01',
          parkCode: 'ATXL/1',
          delivered: 10,
          photosMissing: 2,
          replayed: 0,
          latency: hist(...Array(10).fill(3)),
        },
        {
          stream: 'departures',
          day: '2026-12-01',
          parkCode: 'ATXL/1',
          delivered: 8,
          photosMissing: 0,
          replayed: 1,
          latency: hist(...Array(7).fill(3), 400),
        },
      ],
      lotNames: new Map([['ATXL/1', '北区']]),
    });
    expect(report.reconciled).toBe(true);
    // Natural lot order: ATXL/2 before ATXL/10.
    expect(report.rows.map((r) => r.parkCode)).toEqual(['ATXL/1', 'ATXL/2', 'ATXL/10']);
    const [one, two, ten] = report.rows;
    expect(one).toMatchObject({
      lotName: '北区',
      entrances: 10,
      departures: 8,
      delivered: 18,
      missing: 0,
      photosMissing: 2,
      replayed: 1,
      completeness: 100,
      provisional: false,
    });
    // 17 of 18 at 3 s, one at 400 s: p50 near 3, p99 the slow one.
    expect(one!.latencyP50).toBeGreaterThan(2.7);
    expect(one!.latencyP50).toBeLessThan(3.3);
    expect(one!.latencyP99).toBeGreaterThan(360);
    expect(one!.latencyP99).toBeLessThan(440);
    expect(two).toMatchObject({ delivered: 3, missing: 2, quarantined: 1, failed: 1, completeness: 42.8 });
    expect(two!.latencyP50).toBeNull();
    expect(ten).toMatchObject({ pending: 1, provisional: true, completeness: 0 });
    expect(report.total).toMatchObject({
      entrances: 18,
      departures: 8,
      delivered: 21,
      missing: 2,
      photosMissing: 2,
    });
    expect(report.total.completeness).toBe(completeness(21, 26));
  });

  it('without a reconciliation shows what was delivered and leaves the rest unknown', () => {
    const report = buildDailyReport({
      zone: 'Asia/Shanghai',
      from: '2026-12-01',
      to: '2026-12-01',
      lot: 'ATXL/1',
      reconcile: undefined,
      deliveries: [
        {
          stream: 'entrances',
          day: '2026-12-01',
          parkCode: 'ATXL/1',
          delivered: 4,
          photosMissing: 0,
          replayed: 0,
          latency: hist(1, 2, 3, 4),
        },
        {
          stream: 'entrances',
          day: '2026-12-01',
          parkCode: 'ATXL/2',
          delivered: 5,
          photosMissing: 0,
          replayed: 0,
          latency: hist(1),
        },
      ],
    });
    expect(report.reconciled).toBe(false);
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({
      entrances: 4,
      departures: 0,
      delivered: 4,
      missing: null,
      completeness: null,
    });
  });

  it('never rounds completeness up to 100 while an event is short', () => {
    expect(completeness(9_999, 10_000)).toBe(99.9);
    expect(completeness(0, 0)).toBe(100);
    expect(completeness(1, 3)).toBe(33.3);
  });
});
