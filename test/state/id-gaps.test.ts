/** The ids a low-latency live poll skipped (src/state/id-gaps.ts), on real Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdGaps, isSafeId, MAX_NEW_GAPS_PER_NOTE } from '../../src/state/id-gaps.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('id gaps (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('opens the ids skipped below the highest read, and closes them when read', async () => {
    const gaps = new IdGaps(redis.client, redis.prefix, 'entrances');
    // The first read starts just below its lowest id: 100 and 104 are read, 101–103 are gaps.
    expect(await gaps.note(['100', '104', '102'], 1_000)).toBe(2);
    expect((await gaps.open(0, 10)).ids).toEqual(['101', '103']);
    // A later page reads 103 (committed meanwhile) and 105–107; 106 skipped.
    expect(await gaps.note(['103', '105', '107'], 2_000)).toBe(1);
    expect((await gaps.open(0, 10)).ids).toEqual(['101', '106']);
    // Ids below the highest read close their gap, and open none.
    expect(await gaps.note(['101'], 3_000)).toBe(0);
    expect((await gaps.open(0, 10)).ids).toEqual(['106']);
    await gaps.resolve(['106']);
    expect((await gaps.summary()).open).toBe(0);
  });

  it('drops gaps first seen before the bound, oldest first, up to the limit', async () => {
    const gaps = new IdGaps(redis.client, redis.prefix, 'departures');
    await gaps.note(['10', '12'], 1_000);
    await gaps.note(['15'], 5_000);
    expect(await gaps.open(0, 1)).toEqual({ expired: 0, ids: ['11'] });
    // 11 was first seen at 1,000: older than a bound of 2,000, gone; 13 and 14 stay.
    expect(await gaps.open(2_000, 10)).toEqual({ expired: 1, ids: ['13', '14'] });
    // What the status page shows: how many are open, and when the oldest was first seen.
    expect(await gaps.summary()).toEqual({ open: 2, oldestFirstSeenMs: 5_000 });
    await gaps.resolve(['13', '14']);
    expect(await gaps.summary()).toEqual({ open: 0, oldestFirstSeenMs: null });
  });

  it('takes a jump (a backlog, deleted rows) as no gaps, and leaves unsafe ids out', async () => {
    const gaps = new IdGaps(redis.client, redis.prefix, 'jumps');
    await gaps.note(['1'], 1_000);
    expect(await gaps.note([String(2 + MAX_NEW_GAPS_PER_NOTE + 1)], 1_000)).toBe(0);
    expect(await gaps.note([String(MAX_NEW_GAPS_PER_NOTE + 5)], 1_000)).toBe(1);
    expect(isSafeId('9007199254740993')).toBe(false);
    expect(isSafeId('12a')).toBe(false);
    expect(await gaps.note(['9007199254740993'], 1_000)).toBe(0);
    await gaps.clear();
    expect((await gaps.summary()).open).toBe(0);
    // Cleared: the next read starts afresh below its lowest id.
    expect(await gaps.note(['50', '52'], 1_000)).toBe(1);
  });
});
