/** The low-latency mode's short-lived key sets on real Redis: per name, per slice, expiring. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateKey } from '../../src/state/keys.js';
import { RecentKeys } from '../../src/state/recent-keys.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('recent keys (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('finds what was added, in its slice and under its name only', async () => {
    const read = new RecentKeys(redis.client, redis.prefix, 'read:entrances', 900);
    const other = new RecentKeys(redis.client, redis.prefix, 'read:departures', 900);
    await read.add([
      { slice: 179628560, key: '101' },
      { slice: 179628561, key: '102' },
    ]);
    expect(
      await read.has([
        { slice: 179628560, key: '101' },
        { slice: 179628561, key: '102' },
        { slice: 179628561, key: '101' },
        { slice: 179628560, key: '103' },
      ]),
    ).toEqual([true, true, false, false]);
    expect(await other.has([{ slice: 179628560, key: '101' }])).toEqual([false]);
    // Added again (a poll that read a page twice): still found, nothing else changes.
    await read.add([{ slice: 179628560, key: '101' }]);
    expect(await read.has([{ slice: 179628560, key: '101' }])).toEqual([true]);
  });

  it('lets each slice expire its time-to-live after its last write', async () => {
    const keys = new RecentKeys(redis.client, redis.prefix, 'accepted:entrances', 120);
    await keys.add([{ slice: 5, key: 'ATXL/1|鲁A12345|50' }]);
    const ttl = await redis.client.ttl(`${stateKey(redis.prefix, 'recent', 'accepted:entrances')}:s5`);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
  });
});
