/**
 * Lots against what ISP last accepted (src/pipeline/lots/poll.ts with the lot changes in Redis): new and
 * changed lots become pending, hard-deleted and soft-deleted ones pending deletion, a malformed
 * row is quarantined and never deleted, and a change during a flush is not lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollLots } from '../../../src/pipeline/lots/poll.js';
import { LOT_STREAMS } from '../../../src/pipeline/streams.js';
import { demoConfig } from '../../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../../src/sim/demo-vendor/seed.js';
import { fingerprint, LotChangeStore } from '../../../src/state/lot-changes.js';
import { createTransformContext } from '../../../src/transform/index.js';
import { createVendorPool, type VendorPool } from '../../../src/vendor-db/pool.js';
import {
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
  type TestRedis,
} from '../../helpers/services.js';

describe('parks against what ISP last accepted', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let pool: VendorPool;
  let store: LotChangeStore;
  const quarantined: string[] = [];
  let flushes = 0;
  let poll: () => ReturnType<typeof pollLots>;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    await createDemoSchema(db.url, 'entry-exit');
    await seedDemo(db.url, 'entry-exit', { lots: 5, visits: 20, photos: false });
    const config = demoConfig('entry-exit', db.url);
    const ctx = createTransformContext(config);
    pool = createVendorPool(config.vendor, { source: config.source.name });
    store = new LotChangeStore(redis.client, redis.prefix);
    poll = () =>
      pollLots({
        stream: 'parks',
        deletesVanished: true,
        maxDeleteShare: 0.5,
        readAll: () => LOT_STREAMS.parks.read(pool, config),
        transform: (row) => LOT_STREAMS.parks.toItem(row, ctx),
        store,
        quarantine: async (o) => {
          quarantined.push(String(o.code));
        },
        requestFlush: async () => {
          flushes++;
        },
      });
  });
  afterAll(async () => {
    await pool.close();
    await redis.cleanup();
    await db.drop();
  });

  /** What a successful flush records: ISP accepted every pending lot and deletion. */
  async function acceptAll() {
    await store.markSent('parks', await store.pending('parks'));
    await store.markDeleted('parks', [...(await store.vanished('parks')).keys()], Date.now());
  }

  it('sends new lots, then nothing while nothing changes', async () => {
    const first = await poll();
    expect(first).toMatchObject({ rows: 5, changed: 5, vanished: 0 });
    expect((await store.pending('parks')).map((p) => p.code)).toEqual([
      'ATXL/1',
      'ATXL/2',
      'ATXL/3',
      'ATXL/4',
      'ATXL/5',
    ]);
    expect(flushes).toBe(1);
    await acceptAll();
    expect(await poll()).toMatchObject({ changed: 0, vanished: 0 });
    expect(flushes).toBe(1);
  });

  it('sees changed, hard-deleted and soft-deleted lots', async () => {
    await db.admin.query("UPDATE t_park SET is_deleted = 1 WHERE code = 'ATXL/2'");
    await db.admin.query("DELETE FROM t_park WHERE code = 'ATXL/3'");
    await db.admin.query("UPDATE t_park SET name = '新名字停车场' WHERE code = 'ATXL/4'");
    expect(await poll()).toMatchObject({ changed: 1, vanished: 2 });
    expect((await store.pending('parks')).map((p) => p.code)).toEqual(['ATXL/4']);
    expect([...(await store.vanished('parks')).keys()].sort()).toEqual(['ATXL/2', 'ATXL/3']);
    await acceptAll();
    expect(await poll()).toMatchObject({ changed: 0, vanished: 0 });
    expect([...(await store.delivered('parks')).keys()].sort()).toEqual(['ATXL/1', 'ATXL/4', 'ATXL/5']);
  });

  it('quarantines a lot whose row became malformed, and never deletes it', async () => {
    // A latitude without a longitude (a pair outside China would be sent without coordinates).
    await db.admin.query("UPDATE t_park SET bd_lng = NULL WHERE code = 'ATXL/5'");
    const result = await poll();
    expect(result).toMatchObject({ changed: 0, vanished: 0, quarantined: 1 });
    expect(quarantined).toContain('ATXL/5');
    expect([...(await store.vanished('parks')).keys()].sort()).toEqual([]);
  });

  it('keeps a change that arrives while the previous value is being sent', async () => {
    await db.admin.query("UPDATE t_park SET name = 'v1' WHERE code = 'ATXL/1'");
    await poll();
    const sending = await store.pending('parks');
    await db.admin.query("UPDATE t_park SET name = 'v2' WHERE code = 'ATXL/1'");
    await poll(); // the newer value overwrites the pending one
    await store.markSent('parks', sending); // ISP accepted v1: v2 must stay pending
    const left = await store.pending('parks');
    expect(left.map((p) => [p.code, p.payload.park_name])).toEqual([['ATXL/1', 'v2']]);
    expect((await store.delivered('parks')).get('ATXL/1')).toBe(fingerprint(sending[0]!.payload));
  });
});
