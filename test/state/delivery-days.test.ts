/** Per-lot-per-day delivery figures (real Redis), and the vendor zone's days. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryDayStore, VendorDays } from '../../src/state/delivery-days.js';
import { percentile } from '../../src/state/latency-buckets.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

/** Unix s of a wall-clock time in Asia/Shanghai (UTC+8, no DST). */
const shanghai = (iso: string) => Date.parse(`${iso}+08:00`) / 1000;

describe('vendor days', () => {
  it('cuts days at the vendor zone’s midnight, not UTC’s', () => {
    const days = new VendorDays('Asia/Shanghai');
    expect(days.dayOf(shanghai('2026-12-01T23:59:59'))).toBe('2026-12-01');
    expect(days.dayOf(shanghai('2026-12-02T00:00:00'))).toBe('2026-12-02');
    // Back again after the cache moved on.
    expect(days.dayOf(shanghai('2026-12-01T00:00:00'))).toBe('2026-12-01');
    expect(days.dayOf(shanghai('2026-11-30T23:59:59'))).toBe('2026-11-30');
    expect(days.bounds('2026-12-01')).toEqual({
      start: shanghai('2026-12-01T00:00:00'),
      end: shanghai('2026-12-02T00:00:00'),
    });
  });

  it('has 23 and 25 hour days where the zone changes its clock', () => {
    const ny = new VendorDays('America/New_York');
    const spring = ny.bounds('2026-03-08');
    const autumn = ny.bounds('2026-11-01');
    expect(spring.end - spring.start).toBe(23 * 3600);
    expect(autumn.end - autumn.start).toBe(25 * 3600);
    expect(ny.dayOf(autumn.end - 1)).toBe('2026-11-01');
    expect(ny.dayOf(autumn.end)).toBe('2026-11-02');
  });

  it('lists a range of days and refuses what is not a day, saying the format', () => {
    const days = new VendorDays('Asia/Shanghai');
    expect(days.range('2026-11-29', '2026-12-02')).toEqual([
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
    ]);
    expect(days.before('2026-12-01', 13)).toBe('2026-11-18');
    expect(() => days.bounds('2026-02-30')).toThrow(/yyyy-MM-dd/);
    expect(() => days.bounds('yesterday')).toThrow(/"yesterday" is not a day/);
  });
});

describe('delivery day store (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis('delivery-days');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('sums batches per day and lot: delivered, photos missing, replayed, latency', async () => {
    const store = new DeliveryDayStore(redis.client, redis.prefix, 'Asia/Shanghai', 35);
    const t = shanghai('2026-12-01T10:00:00');
    const odd = '北区,"东门"|2'; // comma, quotes, a "|" and Chinese in a lot code
    const records = [
      ...Array.from({ length: 90 }, () => ({ time: t, lot: 'ATXL/1' })),
      ...Array.from({ length: 10 }, () => ({ time: t - 100, lot: 'ATXL/1' })),
      { time: t, lot: odd },
      { time: shanghai('2026-12-02T00:00:01'), lot: 'ATXL/1' }, // the next day
    ];
    await store.record(
      'entrances',
      store.tally().add(records, { nowMs: (t + 5) * 1000, withoutPhoto: [records[0]!, records[0]!] }),
    );
    await store.record(
      'entrances',
      store.tally().add([{ time: t, lot: odd }], { nowMs: (t + 5) * 1000, replayed: true }),
    );

    const day = await store.lotDays('entrances', '2026-12-01');
    expect(day.map((l) => [l.parkCode, l.delivered, l.photosMissing, l.replayed])).toEqual([
      ['ATXL/1', 100, 2, 0],
      [odd, 2, 0, 1],
    ]);
    const atxl = day[0]!;
    // 90 records 5 s late, 10 records 105 s late.
    expect(percentile(atxl.latency, 0.5)).toBeGreaterThan(5 / 1.1);
    expect(percentile(atxl.latency, 0.5)).toBeLessThan(5 * 1.1);
    expect(percentile(atxl.latency, 0.99)).toBeGreaterThan(105 / 1.1);
    expect(percentile(atxl.latency, 0.99)).toBeLessThan(105 * 1.1);
    expect((await store.lotDays('entrances', '2026-12-02')).map((l) => l.delivered)).toEqual([1]);
    expect(await store.lotDays('departures', '2026-12-01')).toEqual([]);
    expect(await store.deliveredPerDay('entrances', ['2026-11-30', '2026-12-01', '2026-12-02'])).toEqual([
      0, 102, 1,
    ]);

    // Kept retainDays after the day ends.
    const ttl = await redis.client.expiretime(`${redis.prefix}:state:delivery-days:entrances:2026-12-01`);
    expect(ttl).toBe(shanghai('2026-12-02T00:00:00') + 35 * 86_400);
  });

  it('writes nothing for an empty tally', async () => {
    const store = new DeliveryDayStore(redis.client, redis.prefix, 'Asia/Shanghai', 35);
    await store.record('departures', store.tally());
    expect(await redis.client.keys(`${redis.prefix}:state:delivery-days:departures:*`)).toEqual([]);
  });
});
