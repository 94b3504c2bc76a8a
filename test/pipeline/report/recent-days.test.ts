/** The 14 days of the status page: totals per night from the reconcile grid (pure), volume from Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileGrid } from '../../../src/pipeline/reconcile/nightly.js';
import type { StoredReconcile } from '../../../src/pipeline/reconcile/types.js';
import { nightTotals, recentDays } from '../../../src/pipeline/report/recent-days.js';
import { DeliveryDayStore } from '../../../src/state/delivery-days.js';
import { createTestRedis, type TestRedis } from '../../helpers/services.js';

const row = (
  day: string,
  parkCode: string,
  stream: 'entrances' | 'departures',
  recorded: number,
  delivered: number,
) => ({
  day,
  parkCode,
  stream,
  recorded,
  delivered,
  quarantined: 0,
  failed: 0,
  pending: 0,
  unread: 0,
  missing: [],
  missingCount: recorded - delivered,
  provisional: false,
});

const night = (day: string, rows: StoredReconcile['rows']): StoredReconcile => ({
  day,
  checkedAt: 0,
  complete: rows.every((r) => r.missingCount === 0),
  missingByStream: { entrances: 0, departures: 0 },
  rows,
});

describe('recent days', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis('recent-days');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('sums every lot and stream of a night, and puts volume and completeness on the last 14 days', async () => {
    const grid = reconcileGrid([
      night('2026-12-01', [
        row('2026-12-01', 'A', 'entrances', 10, 10),
        row('2026-12-01', 'B', 'departures', 5, 4),
      ]),
      night('2026-11-30', [row('2026-11-30', 'A', 'entrances', 3, 3)]),
    ]);
    const totals = nightTotals(grid);
    expect(totals.get('2026-12-01')).toEqual({ recorded: 15, delivered: 14, missing: 1 });
    expect(totals.get('2026-11-30')).toEqual({ recorded: 3, delivered: 3, missing: 0 });
    expect(nightTotals(undefined).size).toBe(0);

    const store = new DeliveryDayStore(redis.client, redis.prefix, 'Asia/Shanghai', 35);
    const at = (day: string) => store.days.bounds(day).start + 3_600;
    await store.record('entrances', store.tally().add([{ time: at('2026-12-01'), lot: 'A' }], { nowMs: 0 }));
    await store.record('departures', store.tally().add([{ time: at('2026-12-01'), lot: 'B' }], { nowMs: 0 }));
    await store.record('entrances', store.tally().add([{ time: at('2026-11-18'), lot: 'A' }], { nowMs: 0 }));
    // Noon of 2026-12-02 in Shanghai: the 14 days are 11-19 .. 12-02 (11-18 is out).
    const days = await recentDays({ deliveryDays: store }, Date.parse('2026-12-02T12:00:00+08:00'), totals);
    expect(days).toHaveLength(14);
    expect(days[0]!.day).toBe('2026-11-19');
    expect(days.at(-1)!.day).toBe('2026-12-02');
    expect(days.map((d) => d.delivered).reduce((a, b) => a + b)).toBe(2);
    expect(days.find((d) => d.day === '2026-12-01')).toEqual({
      day: '2026-12-01',
      delivered: 2,
      recorded: 15,
      completeness: 93.3,
      missing: 1,
    });
    expect(days.find((d) => d.day === '2026-12-02')!.completeness).toBeNull();
  });
});
