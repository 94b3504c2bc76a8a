/**
 * Checkpoints and lot snapshots in a real Redis: durable under the configured prefix, a checkpoint
 * never moves backwards unless forced (compared as the vendor sorts: DATETIME text, whole numbers
 * by value), and the snapshot store keeps one fingerprint per lot.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointRegressionError, CheckpointStore } from '../../src/state/checkpoints.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

let redis: TestRedis;
beforeEach(async () => {
  redis = await createTestRedis();
});
afterEach(async () => {
  await redis.cleanup();
});

describe('CheckpointStore', () => {
  it('stores a cursor per stream under the prefix', async () => {
    const store = new CheckpointStore(redis.client, redis.prefix);
    expect(await store.get('entrances')).toBeNull();
    expect(await store.time('entrances')).toBeNull();
    const before = Date.now();
    await store.set('entrances', { time: '2026-03-01 08:00:00', id: '42' });
    await store.set('departures', { time: '2026-03-01 07:00:00', id: '7' });
    const cp = await store.get('entrances');
    expect(cp).toMatchObject({ time: '2026-03-01 08:00:00', id: '42' });
    expect(cp!.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await store.time('departures')).toBe('2026-03-01 07:00:00');
    expect(Object.keys(await store.all()).sort()).toEqual(['departures', 'entrances']);
    const keys = await redis.client.keys(`${redis.prefix}*`);
    expect(keys).toEqual([`${redis.prefix}:state:checkpoints`]);
    // Another prefix is another deployment.
    const other = new CheckpointStore(redis.client, `${redis.prefix}x`);
    expect(await other.get('entrances')).toBeNull();
    await redis.client.del(`${redis.prefix}x:state:checkpoints`);
  });

  it('refuses to move backwards unless forced', async () => {
    const store = new CheckpointStore(redis.client, redis.prefix);
    await store.set('entrances', { time: '2026-03-01 08:00:00', id: '42' });
    await store.set('entrances', { time: '2026-03-01 08:00:00', id: '42' }); // same: fine
    await store.set('entrances', { time: '2026-03-01 08:00:00', id: '43' });
    for (const back of [
      { time: '2026-03-01 08:00:00', id: '9' },
      { time: '2026-03-01 07:59:59', id: '999' },
    ]) {
      const error = await store.set('entrances', back).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointRegressionError);
      expect((error as Error).message).toMatch(/refusing to move it back/);
    }
    expect(await store.get('entrances')).toMatchObject({ id: '43' });
    await store.set('entrances', { time: '2026-02-01 00:00:00', id: '1' }, { force: true });
    expect(await store.get('entrances')).toMatchObject({ time: '2026-02-01 00:00:00', id: '1' });
    await store.reset('entrances');
    expect(await store.get('entrances')).toBeNull();
  });

  it('compares whole numbers by value (ids, epoch times), text otherwise', async () => {
    const store = new CheckpointStore(redis.client, redis.prefix);
    await store.set('s', { time: '2026-03-01 08:00:00', id: '9' });
    await store.set('s', { time: '2026-03-01 08:00:00', id: '10' }); // 10 > 9, though '10' < '9' as text
    await store.set('s', { time: '2026-03-01 08:00:00', id: '18446744073709551615' }); // beyond 2^53
    await expect(store.set('s', { time: '2026-03-01 08:00:00', id: '18446744073709551614' })).rejects.toThrow(
      CheckpointRegressionError,
    );
    await store.set('ms', { time: '999999999999', id: '1' });
    await store.set('ms', { time: '1772323200000', id: '1' });
    await expect(store.set('ms', { time: '999999999999', id: '2' })).rejects.toThrow(
      CheckpointRegressionError,
    );
  });
});
