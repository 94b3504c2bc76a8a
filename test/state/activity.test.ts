/** What the status page reads about deliveries (real Redis): counts per minute and per-lot times. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityStore } from '../../src/state/activity.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('activity store (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis('activity');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('counts deliveries per minute and keeps each lot’s latest times, in one call per batch', async () => {
    const activity = new ActivityStore(redis.client, redis.prefix);
    const again = new ActivityStore(redis.client, redis.prefix); // a second store on the same client
    const now = Date.UTC(2026, 10, 29, 4, 30, 15);
    await activity.recordDelivered(
      'entrances',
      100,
      {
        field: 'lastEntrance',
        times: new Map([
          ['ATXL/1', 1_772_323_200],
          ['ATXL/2', 1_772_323_260],
        ]),
      },
      now,
    );
    // A batch that finishes later but holds older events does not move a lot's time back.
    await again.recordDelivered(
      'entrances',
      5,
      { field: 'lastEntrance', times: new Map([['ATXL/1', 1_772_300_000]]) },
      now + 1_000,
    );
    await activity.recordDelivered(
      'departures',
      7,
      { field: 'lastDeparture', times: new Map([['ATXL/1', 1_772_326_800]]) },
      now,
    );
    await activity.recordDelivered(
      'spotNums',
      1,
      { spotNums: [{ park_code: 'ATXL/3', total_spots_num: 50, remain_spots_num: 20, used_spots_num: 30 }] },
      now,
    );
    await activity.recordDelivered('parks', 2, {}, now);

    expect(await activity.deliveredSince('entrances', now - 60_000, now + 60_000)).toBe(105);
    expect(await activity.deliveredSince('departures', now - 60_000, now + 60_000)).toBe(7);
    expect(await activity.deliveredSince('parks', now - 60_000, now + 60_000)).toBe(2);
    expect(await activity.lots()).toEqual([
      { parkCode: 'ATXL/1', lastEntrance: 1_772_323_200, lastDeparture: 1_772_326_800 },
      { parkCode: 'ATXL/2', lastEntrance: 1_772_323_260 },
      {
        parkCode: 'ATXL/3',
        lastSpotNum: { at: Math.floor(now / 1000), total: 50, remain: 20, used: 30 },
      },
    ]);
    const perMinute = `${redis.prefix}:state:activity:per-minute:entrances:${Math.floor(now / 86_400_000)}`;
    expect(await redis.client.ttl(perMinute)).toBeGreaterThan(2 * 86_400);
  });
});
