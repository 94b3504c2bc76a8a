/**
 * The keyset reader against a real MariaDB: ties on the time column across page boundaries, a row
 * that commits late with an older timestamp (caught by the commit-lag guard, missed without it),
 * and a restart from a checkpoint stored in Redis.
 */
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { Cursor } from '../../src/config/vendor-rows.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { wallClock } from '../../src/sim/demo-vendor/data.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { CheckpointStore } from '../../src/state/checkpoints.js';
import { readEventPage } from '../../src/vendor-db/events.js';
import { createVendorPool, type VendorPool } from '../../src/vendor-db/pool.js';
import {
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
  type TestRedis,
} from '../helpers/services.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function visitTableDb(
  overrides: Record<string, unknown> = {},
): Promise<{ db: TestDatabase; config: Config; pool: VendorPool }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  await createDemoSchema(db.url, 'visit-table');
  const config = demoConfig('visit-table', db.url, overrides);
  const pool = createVendorPool(config.vendor, { source: config.source.name });
  cleanups.push(() => pool.close());
  return { db, config, pool };
}

/** A reader that remembers its cursor and every id it was handed. */
function reader(pool: VendorPool, config: Config, lagSeconds: number, limit = 100) {
  const state = { after: null as Cursor | null, seen: [] as string[] };
  return {
    state,
    async poll() {
      for (;;) {
        const page = await readEventPage(
          pool,
          'entrances',
          config.streams.entrances,
          config.vendor,
          state.after,
          {
            lagSeconds,
            limit,
          },
        );
        for (const row of page.rows) state.seen.push(row.vendorKey);
        if (page.last) state.after = page.last;
        if (!page.full) return;
      }
    },
  };
}

describe('keyset cursor', () => {
  it('reads rows with identical timestamps across page boundaries exactly once, in order', async () => {
    const { db, config, pool } = await visitTableDb();
    // 1,050 rows in one second, plus neighbours before and after: pages of 100 split the tie 10 times.
    await db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time) SELECT 'ATXL/1', CONCAT('鲁A', LPAD(seq, 5, '0')),
         IF(seq <= 20, '2026-03-01 07:59:59', IF(seq <= 1070, '2026-03-01 08:00:00', '2026-03-01 08:00:01'))
         FROM seq_1_to_1090`,
    );
    const r = reader(pool, config, 5, 100);
    await r.poll();
    expect(r.state.seen).toHaveLength(1090);
    expect(new Set(r.state.seen).size).toBe(1090);
    expect(r.state.seen.map(Number)).toEqual(Array.from({ length: 1090 }, (_, i) => i + 1));
    // Nothing more on the next poll.
    await r.poll();
    expect(r.state.seen).toHaveLength(1090);
  });

  it('sorts ties by id even when ids are not in time order', async () => {
    const { db, config, pool } = await visitTableDb();
    await db.admin.query(
      `INSERT INTO car_inout (id, park_no, in_plate, in_time) VALUES
        (5, 'ATXL/1', '鲁A00005', '2026-03-01 08:00:00'), (3, 'ATXL/1', '鲁A00003', '2026-03-01 08:00:01'),
        (9, 'ATXL/1', '鲁A00009', '2026-03-01 08:00:00'), (1, 'ATXL/1', '鲁A00001', '2026-03-01 08:00:01'),
        (7, 'ATXL/1', '鲁A00007', '2026-03-01 07:00:00')`,
    );
    const r = reader(pool, config, 5, 2);
    await r.poll();
    expect(r.state.seen).toEqual(['7', '5', '9', '1', '3']);
  });

  it('reads a row committed late with an older timestamp thanks to the lag guard, and misses it with lag 0', async () => {
    const lag = 8;
    const { db, config, pool } = await visitTableDb();
    const wall = wallClock(config.vendor.timeZone);
    const nowEpoch = async () => {
      const [rows] = await db.admin.query<mysql.RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS t');
      return Math.floor(Number(rows[0]!.t));
    };
    const guarded = reader(pool, config, lag);
    const unguarded = reader(pool, config, 0);

    // A vendor transaction stamps its row, then stays open while newer rows commit.
    const slow = await mysql.createConnection({ uri: db.url });
    cleanups.push(() => slow.end());
    const t0 = await nowEpoch();
    await slow.beginTransaction();
    const [late] = await slow.query<mysql.ResultSetHeader>(
      "INSERT INTO car_inout (park_no, in_plate, in_time) VALUES ('ATXL/1', '鲁A11111', ?)",
      [wall(t0 - 1)],
    );
    const lateId = String(late.insertId);
    const [newer] = await db.admin.query<mysql.ResultSetHeader>(
      "INSERT INTO car_inout (park_no, in_plate, in_time) VALUES ('ATXL/1', '鲁A22222', ?)",
      [wall(t0)],
    );
    const newerId = String(newer.insertId);

    // The unguarded reader moves past the newer row (and so past the late row's time).
    const deadline = Date.now() + 20_000;
    while (!unguarded.state.seen.includes(newerId)) {
      expect(Date.now(), 'the unguarded reader never saw the newer row').toBeLessThan(deadline);
      await unguarded.poll();
      await new Promise((r) => setTimeout(r, 200));
    }
    await guarded.poll();
    // Precondition: the guarded reader has not passed the late row's time yet.
    expect(guarded.state.seen, 'the machine was too slow for this test: raise lag').toEqual([]);
    await slow.commit();

    // Once the lag has passed, the guarded reader gets both; the unguarded one never gets the late row.
    while ((await nowEpoch()) < t0 + lag + 1) await new Promise((r) => setTimeout(r, 250));
    await guarded.poll();
    await unguarded.poll();
    expect(guarded.state.seen).toEqual([lateId, newerId]);
    expect(unguarded.state.seen).toEqual([newerId]);
    expect(unguarded.state.seen).not.toContain(lateId);
  });

  it('resumes exactly from a checkpoint stored in Redis after a restart', async () => {
    const { db, config } = await visitTableDb();
    const redis: TestRedis = await createTestRedis();
    cleanups.push(() => redis.cleanup());
    await db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time) SELECT 'ATXL/2', CONCAT('京AD', LPAD(seq, 5, '0')),
         '2026-03-01 08:00:00' + INTERVAL (seq DIV 3) SECOND FROM seq_1_to_5000`,
    );
    const seen: string[] = [];

    // First process: three pages, checkpoint after each, then it dies.
    const first = createVendorPool(config.vendor, { source: config.source.name });
    const store1 = new CheckpointStore(redis.client, redis.prefix);
    for (let i = 0; i < 3; i++) {
      const page = await readEventPage(
        first,
        'entrances',
        config.streams.entrances,
        config.vendor,
        await store1.get('entrances'),
        { limit: 700 },
      );
      seen.push(...page.rows.map((r) => r.vendorKey));
      await store1.set('entrances', page.last!);
    }
    await first.close();
    expect(seen).toHaveLength(2100);

    // Second process: a new pool and store resume from Redis.
    const second = createVendorPool(config.vendor, { source: config.source.name });
    cleanups.push(() => second.close());
    const store2 = new CheckpointStore(redis.client, redis.prefix);
    const resumed = await store2.get('entrances');
    expect(resumed).toMatchObject({ id: '2100' });
    for (;;) {
      const page = await readEventPage(
        second,
        'entrances',
        config.streams.entrances,
        config.vendor,
        await store2.get('entrances'),
        { limit: 700 },
      );
      seen.push(...page.rows.map((r) => r.vendorKey));
      if (page.last) await store2.set('entrances', page.last);
      if (!page.full) break;
    }
    expect(seen.map(Number)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  it('stops at an upper bound given as Unix seconds, a vendor time or a cursor, and starts at --from', async () => {
    const { db, config, pool } = await visitTableDb();
    await db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time) SELECT 'ATXL/1', CONCAT('鲁A', LPAD(seq, 5, '0')),
         '2026-03-01 08:00:00' + INTERVAL seq MINUTE FROM seq_1_to_10`,
    );
    const read = (after: Cursor | null, options: Parameters<typeof readEventPage>[5]) =>
      readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, after, options).then((p) =>
        p.rows.map((r) => r.vendorKey),
      );
    // 2026-03-01 08:04:00 in Asia/Shanghai is 1772323440.
    expect(await read(null, { upTo: 1772323440 })).toEqual(['1', '2', '3']);
    expect(await read(null, { upTo: '2026-03-01 08:04:00' })).toEqual(['1', '2', '3']);
    expect(
      await read(
        { time: '2026-03-01 08:02:00', id: '2' },
        { upTo: { time: '2026-03-01 08:05:00', id: '5' } },
      ),
    ).toEqual(['3', '4', '5']);
    expect(await read(null, { from: '2026-03-01 08:08:00' })).toEqual(['8', '9', '10']);
    expect(await read(null, { from: 1772323680, upTo: 1772323740 })).toEqual(['8']);
  });
});
