/**
 * A 1,000,000-row visit table read once with the keyset reader: nothing missed, nothing repeated,
 * although ids are not in time order and ~7 rows share every second. Loaded with INSERT ... SELECT
 * from MariaDB's sequence engine. The rate is printed, not asserted (benchmarks measure it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cursor, RawEntrance } from '../../src/config/vendor-rows.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { type EventPage, readEventPage } from '../../src/vendor-db/events.js';
import { createVendorPool, type VendorPool } from '../../src/vendor-db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

const ROWS = 1_000_000;
let db: TestDatabase;
let pool: VendorPool;

beforeAll(async () => {
  db = await createTestDatabase();
  await createDemoSchema(db.url, 'visit-table');
  // (seq * 7919) mod 150000 scatters times over ids: ids and times disagree, ~6.7 rows per second.
  await db.admin.query(
    `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, car_brand)
     SELECT CONCAT('ATXL/', 1 + seq % 20), CONCAT('鲁A', LPAD(seq % 100000, 5, '0')), t,
            IF(seq % 10 = 0, NULL, t + INTERVAL 3600 SECOND), '小型车', '大众'
       FROM (SELECT seq, '2026-01-01 00:00:00' + INTERVAL ((seq * 7919) % 150000) SECOND AS t
               FROM seq_1_to_${ROWS}) s`,
  );
}, 120_000);

afterAll(async () => {
  await pool?.close();
  await db?.drop();
});

describe('keyset cursor on 1,000,000 rows', () => {
  it('reads every row exactly once', async () => {
    const config = demoConfig('visit-table', db.url);
    pool = createVendorPool(config.vendor, { source: config.source.name });
    const hits = new Uint8Array(ROWS + 1);
    let after: Cursor | null = null;
    let previous = '';
    let total = 0;
    let outOfOrder = 0;
    const started = performance.now();
    for (;;) {
      const page: EventPage<RawEntrance> = await readEventPage(
        pool,
        'entrances',
        config.streams.entrances,
        config.vendor,
        after,
      );
      for (const row of page.rows) {
        hits[Number(row.vendorKey)]!++;
        const key = `${row.cursorTime}|${row.vendorKey.padStart(8, '0')}`;
        if (key <= previous) outOfOrder++;
        previous = key;
      }
      total += page.rows.length;
      if (page.last) after = page.last;
      if (!page.full) break;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `keyset read: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s`,
    );
    expect(total).toBe(ROWS);
    expect(outOfOrder).toBe(0);
    let missing = 0;
    let repeated = 0;
    for (let id = 1; id <= ROWS; id++) {
      if (hits[id] === 0) missing++;
      if (hits[id]! > 1) repeated++;
    }
    expect({ missing, repeated }).toEqual({ missing: 0, repeated: 0 });
  }, 60_000);
});
