/**
 * Lot states are never rolled back (a real Redis): a state read earlier never replaces one read
 * later, pending or delivered, whatever order the writers finish in (a nightly full sync racing a
 * poll, a flush recording what it sent after a newer read); older states are counted as superseded;
 * a state ISP already has is not set pending again unless forced (a full sync).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LotChangeStore } from '../../src/state/lot-changes.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

const lot = (used: number, at: number) => ({
  code: 'ATXL/1',
  at,
  payload: { park_code: 'ATXL/1', total_spots_num: 50, used_spots_num: used, remain_spots_num: 50 - used },
});

describe('lot changes in Redis', () => {
  let redis: TestRedis;
  let store: LotChangeStore;
  beforeAll(async () => {
    redis = await createTestRedis();
    store = new LotChangeStore(redis.client, redis.prefix);
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('keeps the newer state when a full sync that read earlier finishes after a poll', async () => {
    // The poll read at t=2000 and wrote first; the full sync read at t=1000 and writes after it.
    expect(await store.setPending('spotNums', [lot(9, 2_000)])).toBe(0);
    expect(await store.setPending('spotNums', [lot(7, 1_000)], true)).toBe(1);
    const [pending] = await store.pending('spotNums');
    expect(pending?.payload.used_spots_num).toBe(9);

    // The newer state is delivered; the older one arriving later is still refused.
    await store.markSent('spotNums', [pending!]);
    expect(await store.setPending('spotNums', [lot(7, 1_500)], true)).toBe(1);
    expect(await store.pending('spotNums')).toEqual([]);
    expect((await store.counts('spotNums')).superseded).toBe(2);
  });

  it('never lets an older delivery overwrite what ISP was last sent', async () => {
    await store.setPending('spotNums', [lot(11, 3_000)]);
    const [newer] = await store.pending('spotNums');
    await store.markSent('spotNums', [newer!]);
    // A slow flush reports an older state as sent after the newer one.
    await store.markSent('spotNums', [{ ...lot(4, 2_500), json: JSON.stringify(lot(4, 2_500).payload) }]);
    // What ISP has (by fingerprint) is still the newer state: reading it again sets nothing pending.
    expect(await store.setPending('spotNums', [lot(11, 3_100)])).toBe(0);
    expect(await store.pending('spotNums')).toEqual([]);
    // A full sync sends it again all the same.
    await store.setPending('spotNums', [lot(11, 3_200)], true);
    expect((await store.pending('spotNums')).map((p) => p.payload.used_spots_num)).toEqual([11]);
  });

  it('tells registered, deleted and unknown lots apart, and a refused lot is not registered', async () => {
    await store.setPending('parks', [{ code: 'A/1', at: 1, payload: { park_code: 'A/1' } }]);
    await store.setPending('parks', [{ code: 'A/2', at: 1, payload: { park_code: 'A/2' } }]);
    const pending = await store.pending('parks');
    await store.markSent(
      'parks',
      pending.filter((p) => p.code === 'A/1'),
    );
    await store.markRefused(
      'parks',
      pending.filter((p) => p.code === 'A/2'),
    );
    expect(await store.standing(['A/1', 'A/2', 'A/3'])).toEqual(['registered', 'unknown', 'unknown']);
    await store.markDeleted('parks', ['A/1'], 10);
    expect(await store.standing(['A/1'])).toEqual(['deleted']);
    // Back at the vendor and sent again: registered.
    await store.setPending('parks', [{ code: 'A/1', at: 20, payload: { park_code: 'A/1' } }], true);
    await store.markSent('parks', await store.pending('parks'));
    expect(await store.standing(['A/1'])).toEqual(['registered']);
  });
});
