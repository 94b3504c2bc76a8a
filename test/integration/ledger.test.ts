import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveredLedger, hash64 } from '../../src/state/ledger.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('delivered-key ledger (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('remembers delivered natural keys per stream and forgets on request', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'entrances', 7);
    const other = new DeliveredLedger(redis.client, redis.prefix, 'departures', 7);
    const a = { key: 'ATXL/1|鲁A12345|1772323200', time: 1772323200 };
    const b = { key: 'ATXL/1|鲁A12346|1772323260', time: 1772323260 };
    expect(await ledger.delivered([a, b])).toEqual([false, false]);
    await ledger.markDelivered([a]);
    expect(await ledger.delivered([a, b])).toEqual([true, false]);
    expect(await other.delivered([a])).toEqual([false]);
    await ledger.forget([a]);
    expect(await ledger.delivered([a])).toEqual([false]);
  });

  it('checks and marks a mixed batch in one call each, in buckets named as locate() says', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'mixed', 7);
    const entries = Array.from({ length: 1_000 }, (_, i) => ({
      key: `ATXL/${i % 7}|鲁A${String(i).padStart(5, '0')}|${1772323200 + i * 300}#${i}`,
      time: 1772323200 + i * 300,
    }));
    const marked = entries.filter((_, i) => i % 3 === 0);
    await ledger.markDelivered(marked);
    expect(await ledger.delivered(entries)).toEqual(entries.map((_, i) => i % 3 === 0));
    const keys = new Set(await redis.client.keys(`${redis.prefix}:state:ledger:mixed:*`));
    expect(keys).toEqual(new Set(marked.map((e) => ledger.locate(e).bucket)));
    const { bucket, field } = ledger.locate(marked[5]!);
    expect(bucket).toBe(
      `${redis.prefix}:state:ledger:mixed:${Math.floor(marked[5]!.time / 86_400)}:${bucket.split(':').at(-1)}`,
    );
    expect(await redis.client.hexists(bucket, field)).toBe(1);
  });

  it('keeps the digest stable: a change would forget every delivered key (and send them again)', () => {
    expect(hash64('ATXL/1|鲁A12345|1772323200#1')).toEqual([2544946435, 1571852929]);
    expect(hash64('')).toEqual([451841411, 1217125560]);
    const distinct = new Set<string>();
    for (let i = 0; i < 200_000; i++)
      distinct.add(hash64(`ATXL/${i % 20}|鲁A${i}|${1772323200 + i}#${i}`).join(':'));
    expect(distinct.size).toBe(200_000);
  });

  it('expires a bucket ttlDays after its event day', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'ttl', 3);
    const now = Math.floor(Date.now() / 1000);
    await ledger.markDelivered([{ key: 'k', time: now }]);
    const keys = await redis.client.keys(`${redis.prefix}:state:ledger:ttl:*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.client.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(3 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(4 * 86_400);
    // An old event delivered today is remembered ttlDays from today, not from its own day.
    await ledger.markDelivered([{ key: 'old', time: 1_600_000_000 }]);
    expect(await ledger.delivered([{ key: 'old', time: 1_600_000_000 }])).toEqual([true]);
  });

  it('keeps 100,000 keys compact (listpack buckets)', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'mem', 7);
    const day = 1772323200;
    for (let i = 0; i < 100_000; i += 5_000) {
      const entries = Array.from({ length: 5_000 }, (_, j) => ({
        key: `P|A${i + j}|${day + j}`,
        time: day + (j % 3600),
      }));
      await ledger.markDelivered(entries);
    }
    // Memory of this ledger's own keys (MEMORY USAGE), not the server's total: other tests share
    // this Redis.
    const keys = await redis.client.keys(`${redis.prefix}:state:ledger:mem:*`);
    expect(await redis.client.object('ENCODING', keys[0]!)).toBe('listpack');
    let bytes = 0;
    for (const key of keys) bytes += Number(await redis.client.memory('USAGE', key));
    // Under 40 bytes a delivered key (a plain SET of the natural keys takes ~90).
    expect(bytes / 100_000).toBeLessThan(40);
    const probe = await ledger.delivered([{ key: 'P|A77|1772323277', time: day + 77 }]);
    expect(probe).toEqual([true]);
  });
});
