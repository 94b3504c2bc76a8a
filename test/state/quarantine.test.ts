import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { RawEntrance } from '../../src/config/vendor-rows.js';
import { rowsQuarantined } from '../../src/metrics.js';
import { QuarantineStore } from '../../src/state/quarantine.js';
import { createTransformContext, transformEntrance } from '../../src/transform/index.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

const reason = (code: string) => ({ code, field: 'enterTime', message: `${code} on enterTime` });

async function quarantinedCount(source: string, stream: string, code: string): Promise<number> {
  return (
    (await rowsQuarantined.get()).values.find(
      (v) => v.labels.source === source && v.labels.stream === stream && v.labels.reason === code,
    )?.value ?? 0
  );
}

describe('quarantine store (real Redis)', () => {
  let redis: TestRedis;
  let store: QuarantineStore;

  beforeEach(async () => {
    redis = await createTestRedis();
    store = new QuarantineStore(redis.client, redis.prefix, 5, 'north');
  });

  afterEach(async () => {
    await redis.cleanup();
  });

  it('keeps stream, vendor key, reasons, raw row and time; lists newest first with counts', async () => {
    const row = {
      vendorKey: '17',
      cursorTime: '2024-05-01 08:00:00',
      enterTime: '0000-00-00 00:00:00',
      parkCode: 'P1',
    };
    const id = await store.add({
      stream: 'entrances',
      vendorKey: '17',
      reasons: [reason('zero-date')],
      row,
      at: 1_000,
    });
    await store.add({
      stream: 'departures',
      vendorKey: '9',
      reasons: [reason('negative-fee')],
      row: { paidFee: -1 },
      at: 2_000,
    });
    await store.add({
      stream: 'entrances',
      vendorKey: '18',
      reasons: [reason('future-time')],
      row: {},
      at: 3_000,
    });

    expect(id).toBe('entrances:17');
    expect(await store.get(id)).toEqual({
      id,
      stream: 'entrances',
      vendorKey: '17',
      reasons: [reason('zero-date')],
      row,
      at: 1_000,
      firstAt: 1_000,
      count: 1,
    });
    const all = await store.list();
    expect(all.total).toBe(3);
    expect(all.entries.map((e) => e.id)).toEqual(['entrances:18', 'departures:9', 'entrances:17']);
    const entrances = await store.list({ stream: 'entrances', limit: 1 });
    expect(entrances.total).toBe(2);
    expect(entrances.entries.map((e) => e.id)).toEqual(['entrances:18']);
    expect((await store.list({ stream: 'entrances', limit: 1, offset: 1 })).entries.map((e) => e.id)).toEqual(
      ['entrances:17'],
    );
    expect(await store.counts()).toEqual({ parks: 0, spotNums: 0, entrances: 2, departures: 1 });
    expect(await store.get('entrances:404')).toBeUndefined();
  });

  it('replaces an entry quarantined again and counts how often', async () => {
    await store.add({
      stream: 'parks',
      vendorKey: 'ATXL/1',
      reasons: [reason('out-of-china')],
      row: { a: 1 },
      at: 1_000,
    });
    await store.add({
      stream: 'parks',
      vendorKey: 'ATXL/1',
      reasons: [reason('swapped-coordinates')],
      row: { a: 2 },
      at: 5_000,
    });
    const entry = await store.get('parks:ATXL/1');
    expect(entry).toMatchObject({
      reasons: [reason('swapped-coordinates')],
      row: { a: 2 },
      at: 5_000,
      firstAt: 1_000,
      count: 2,
    });
    expect((await store.list()).total).toBe(1);
  });

  it('keeps only the newest `max` entries, in every index', async () => {
    for (let i = 1; i <= 8; i++) {
      await store.add({
        stream: i % 2 ? 'entrances' : 'departures',
        vendorKey: String(i),
        reasons: [reason('bad-time')],
        row: { i },
        at: i * 1_000,
      });
    }
    const all = await store.list({ limit: 100 });
    expect(all.total).toBe(5);
    expect(all.entries.map((e) => e.vendorKey)).toEqual(['8', '7', '6', '5', '4']);
    expect(await store.counts()).toEqual({ parks: 0, spotNums: 0, entrances: 2, departures: 3 });
    expect(await store.get('entrances:1')).toBeUndefined();
    expect(await redis.client.hlen(`${redis.prefix}:state:quarantine:entries`)).toBe(5);
    expect(await redis.client.hlen(`${redis.prefix}:state:quarantine:seen`)).toBe(5);
  });

  it('removes entries by id', async () => {
    await store.add({ stream: 'spotNums', vendorKey: 'A', reasons: [reason('bad-spot-count')], row: {} });
    await store.add({ stream: 'spotNums', vendorKey: 'B', reasons: [reason('bad-spot-count')], row: {} });
    expect(await store.remove('spotNums:A')).toBe(1);
    expect(await store.remove(['spotNums:A', 'spotNums:B', 'nope'])).toBe(1);
    expect(await store.counts()).toEqual({ parks: 0, spotNums: 0, entrances: 0, departures: 0 });
    expect(await redis.client.keys(`${redis.prefix}*`)).toEqual([]);
  });

  it('re-drives: take returns raw rows (atomically removed) for a re-transform with the fixed config', async () => {
    // A deployment configured with the wrong vendor zone reads 10:00 as 17:00 UTC: in the future.
    const broken = loadConfig({ env: {}, overrides: { vendor: { timeZone: 'America/Los_Angeles' } } });
    const fixed = loadConfig({ env: {}, overrides: { vendor: { timeZone: 'Asia/Shanghai' } } });
    const now = () => Date.UTC(2024, 4, 1, 4, 0, 0);
    const row: RawEntrance = {
      vendorKey: '41',
      cursorTime: '2024-05-01 10:00:00',
      parkCode: 'P1',
      plateNumber: '鲁A12345',
      enterTime: '2024-05-01 10:00:00',
    };
    const first = transformEntrance(row, createTransformContext(broken, { now, onWarnings: null }));
    expect(first).toMatchObject({ ok: false, reasons: [{ code: 'future-time' }] });
    if (first.ok) return;
    await store.add({ stream: 'entrances', vendorKey: row.vendorKey, reasons: first.reasons, row, at: 1 });
    await store.add({
      stream: 'entrances',
      vendorKey: '42',
      reasons: [reason('bad-time')],
      row: { ...row, vendorKey: '42' },
      at: 2,
    });
    await store.add({ stream: 'parks', vendorKey: 'X', reasons: [reason('out-of-china')], row: {}, at: 3 });

    const taken = await store.take({ stream: 'entrances', limit: 1 });
    expect(taken.map((e) => e.id)).toEqual(['entrances:41']); // oldest first
    expect(await store.get('entrances:41')).toBeUndefined();
    const again = transformEntrance(
      taken[0]!.row as RawEntrance,
      createTransformContext(fixed, { now, onWarnings: null }),
    );
    expect(again).toMatchObject({ ok: true, value: { enter_time: Date.UTC(2024, 4, 1, 2) / 1000 } });

    expect((await store.take(['parks:X', 'parks:missing'])).map((e) => e.id)).toEqual(['parks:X']);
    expect((await store.take({})).map((e) => e.id)).toEqual(['entrances:42']);
    expect(await store.take({})).toEqual([]);
    expect(await store.counts()).toEqual({ parks: 0, spotNums: 0, entrances: 0, departures: 0 });
  });

  it('counts quarantined rows per source, stream and reason, and stays under its prefix', async () => {
    const before = await quarantinedCount('north', 'departures', 'negative-fee');
    const southBefore = await quarantinedCount('south', 'departures', 'negative-fee');
    await store.add({
      stream: 'departures',
      vendorKey: '5',
      reasons: [reason('negative-fee'), reason('negative-fee'), reason('zero-date')],
      row: {},
    });
    expect(await quarantinedCount('north', 'departures', 'negative-fee')).toBe(before + 1);
    expect(await quarantinedCount('south', 'departures', 'negative-fee')).toBe(southBefore);
    const keys = await redis.client.keys(`${redis.prefix}:state:quarantine:*`);
    expect(keys.sort()).toEqual(
      [
        `${redis.prefix}:state:quarantine:all`,
        `${redis.prefix}:state:quarantine:entries`,
        `${redis.prefix}:state:quarantine:s:departures`,
        `${redis.prefix}:state:quarantine:seen`,
      ].sort(),
    );
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new QuarantineStore(redis.client, redis.prefix, 0, 'north')).toThrow(RangeError);
  });
});
