import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveredLedger, hash64, type LedgerEntry, SLICE_SECONDS } from '../../src/state/ledger.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('delivered-key ledger (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  const start = 1772323200; // a slice boundary (a multiple of 60)
  const S = SLICE_SECONDS;
  const entry = (key: string, time = start): LedgerEntry => ({ key, time });

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
      key: `ATXL/${i % 7}|鲁A${String(i).padStart(5, '0')}|${1772323200 + i * 7}#${i}`,
      time: 1772323200 + i * 7, // a few entries a slice, over a hundred slices
    }));
    const marked = entries.filter((_, i) => i % 3 === 0);
    await ledger.markDelivered(marked);
    expect(await ledger.delivered(entries)).toEqual(entries.map((_, i) => i % 3 === 0));
    const keys = new Set(await redis.client.keys(`${redis.prefix}:state:ledger:mixed:*`));
    expect(keys).toEqual(new Set(marked.map((e) => ledger.locate(e).bucket)));
    expect(keys.size).toBeGreaterThan(100);
    const { bucket, digest } = ledger.locate(marked[5]!);
    expect(bucket).toBe(`${redis.prefix}:state:ledger:mixed:m${Math.floor(marked[5]!.time / S)}`);
    const [h1, h2] = hash64(marked[5]!.key);
    expect([digest.readUInt32BE(0), digest.readUInt32BE(4)]).toEqual([h1, h2]);
    const stored = (await redis.client.getBuffer(bucket))!;
    expect(stored.length % 8).toBe(0);
    expect(stored.indexOf(digest) % 8).toBe(0);
  });

  it('keeps the digest stable: a change would forget every delivered key (and send them again)', () => {
    expect(hash64('ATXL/1|鲁A12345|1772323200#1')).toEqual([2544946435, 1571852929]);
    expect(hash64('')).toEqual([451841411, 1217125560]);
    const distinct = new Set<string>();
    for (let i = 0; i < 200_000; i++)
      distinct.add(hash64(`ATXL/${i % 20}|鲁A${i}|${1772323200 + i}#${i}`).join(':'));
    expect(distinct.size).toBe(200_000);
  });

  it('expires a bucket ttlDays after its event day, or after its delivery if later', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'ttl', 3);
    const now = Math.floor(Date.now() / 1000);
    await ledger.markDelivered([{ key: 'k', time: now }]);
    const keys = await redis.client.keys(`${redis.prefix}:state:ledger:ttl:*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.client.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(3 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(4 * 86_400);
    // An old event delivered today is remembered ttlDays from today, not from its own day.
    const old = { key: 'old', time: 1_600_000_000 };
    await ledger.markDelivered([old]);
    expect(await ledger.delivered([old])).toEqual([true]);
    expect(await redis.client.ttl(ledger.locate(old).bucket)).toBeGreaterThan(3 * 86_400 - 60);
  });

  it('never takes a digest straddling two stored ones for a delivered key', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'aligned', 7);
    const target = entry('ATXL/1|鲁A00001|1772323200#1');
    const { bucket, digest } = ledger.locate(target);
    // Two stored digests whose concatenation holds target's at offset 3: neither is target's.
    const x = Buffer.concat([Buffer.from([1, 2, 3]), digest.subarray(0, 5)]);
    const y = Buffer.concat([digest.subarray(5), Buffer.from([4, 5, 6, 7, 8])]);
    await redis.client.set(bucket, Buffer.concat([x, y]));
    expect(await ledger.delivered([target])).toEqual([false]);
    await ledger.forget([target]); // nothing aligned to remove
    expect(await redis.client.strlen(bucket)).toBe(16);
    // Marking it appends it (the straddling match does not count as present) ...
    await ledger.markDelivered([target]);
    expect(await redis.client.strlen(bucket)).toBe(24);
    // ... and now the search finds it past the straddling match.
    expect(await ledger.delivered([target])).toEqual([true]);
    await ledger.forget([target]);
    expect(await redis.client.getBuffer(bucket)).toEqual(Buffer.concat([x, y]));
  });

  it('does not grow a bucket when the same entries are marked again', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'twice', 7);
    const entries = Array.from({ length: 50 }, (_, i) => entry(`P|A${i}`, start + i * Math.ceil(S / 10)));
    await ledger.markDelivered(entries);
    const buckets = [...new Set(entries.map((e) => ledger.locate(e).bucket))];
    expect(buckets.length).toBeGreaterThan(1);
    const lengths = await Promise.all(buckets.map((b) => redis.client.strlen(b)));
    expect(lengths.reduce((a, b) => a + b)).toBe(50 * 8);
    await ledger.markDelivered([...entries].reverse());
    await ledger.markDelivered(entries.slice(10, 20));
    expect(await Promise.all(buckets.map((b) => redis.client.strlen(b)))).toEqual(lengths);
  });

  it('forgets only the given entries, keeping their neighbours and the bucket expiry', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'forget', 7);
    const entries = Array.from({ length: 5 }, (_, i) => entry(`P|F${i}`, start + (i % S)));
    await ledger.markDelivered(entries);
    const { bucket } = ledger.locate(entries[0]!);
    const ttl = await redis.client.ttl(bucket);
    await ledger.forget([entries[2]!]);
    expect(await ledger.delivered(entries)).toEqual([true, true, false, true, true]);
    expect(await redis.client.strlen(bucket)).toBe(32);
    expect(await redis.client.ttl(bucket)).toBeGreaterThanOrEqual(ttl - 1);
    // Forgetting the rest (and one twice, and one never marked) deletes the bucket.
    await ledger.forget([...entries, entries[0]!, entry('P|never', start)]);
    expect(await ledger.delivered(entries)).toEqual([false, false, false, false, false]);
    expect(await redis.client.exists(bucket)).toBe(0);
  });

  it('marks a batch spanning several slices with duplicates within it', async () => {
    const ledger = new DeliveredLedger(redis.client, redis.prefix, 'dups', 7);
    const distinct = [
      entry('P|D0', start),
      entry('P|D1', start + S - 1),
      entry('P|D2', start + S),
      entry('P|D3', start + S + 1),
      entry('P|D4', start + 3 * S + 5),
    ];
    const batch = [...distinct, distinct[0]!, distinct[3]!, distinct[3]!, distinct[4]!];
    await ledger.markDelivered(batch);
    const strlen = (e: LedgerEntry) => redis.client.strlen(ledger.locate(e).bucket);
    expect(await Promise.all([distinct[0]!, distinct[2]!, distinct[4]!].map(strlen))).toEqual([16, 16, 8]);
    const absent = [entry('P|D5', start + 2), entry('P|D6', start + S + 2), entry('P|D7', start + 3 * S + 6)];
    expect(await ledger.delivered([...batch, ...absent])).toEqual([
      ...batch.map(() => true),
      false,
      false,
      false,
    ]);
  });

  it('keeps 100,000 keys compact (8 bytes a key in strings)', async () => {
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
    expect(keys).toHaveLength(3600 / S);
    let bytes = 0;
    let length = 0;
    for (const key of keys) {
      bytes += Number(await redis.client.memory('USAGE', key));
      length += await redis.client.strlen(key);
    }
    expect(length).toBe(100_000 * 8);
    console.info(`ledger memory: ${(bytes / 100_000).toFixed(1)} bytes a delivered key`);
    // 8 bytes a key plus allocator rounding and the keys' overhead (~8.6 measured with 60 keys; the listpack hash
    // buckets this replaced took ~17, a plain SET of the natural keys ~90).
    expect(bytes / 100_000).toBeLessThan(10);
    const probe = await ledger.delivered([{ key: 'P|A77|1772323277', time: day + 77 }]);
    expect(probe).toEqual([true]);
  });
});
