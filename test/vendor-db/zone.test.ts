/**
 * Time zones: a vendor DATETIME read through the reader means the same instant whatever the
 * process's TZ (checked in child processes with different TZ), and the commit-lag guard holds
 * whatever the server session's time_zone and the vendor's zone are.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entrancesStreamSchema, PROJECT_ROOT } from '../../src/config/index.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { wallClock } from '../../src/sim/demo-vendor/data.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { readEventPage, readVendorNow } from '../../src/vendor-db/events.js';
import { createVendorPool } from '../../src/vendor-db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
let db: TestDatabase;
let scratch: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await createDemoSchema(db.url, 'visit-table');
  scratch = mkdtempSync(join(tmpdir(), 'ips-tz-'));
});

afterAll(async () => {
  await db?.drop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const src = (path: string) => pathToFileURL(resolve(PROJECT_ROOT, path)).href;

/** Reads the entrances through the reader in a child process and converts with the transform. */
const CHILD = `
import { demoConfig } from '${src('src/sim/demo-vendor/config.ts')}';
import { readEventPage } from '${src('src/vendor-db/events.ts')}';
import { createVendorPool } from '${src('src/vendor-db/pool.ts')}';
import { createTimeParser } from '${src('src/transform/time.ts')}';
const [url, sessionTimeZone] = process.argv.slice(2);
const config = demoConfig('visit-table', url, { vendor: { sessionTimeZone } });
const pool = createVendorPool(config.vendor, { source: config.source.name });
const page = await readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
const parse = createTimeParser(config.vendor.timeZone, config.streams.entrances.timeFormat);
console.log(JSON.stringify({
  processOffset: new Date('2026-03-01T00:00:00Z').getTimezoneOffset(),
  rows: page.rows.map((r) => ({ enterTime: r.enterTime, epoch: parse(r.enterTime, 'enterTime') })),
}));
await pool.close();
`;

describe('vendor times', () => {
  it('reads 2026-03-01 08:00:00 (Asia/Shanghai) as 1772323200 whatever the process TZ', async () => {
    await db.admin.query(
      "INSERT INTO car_inout (park_no, in_plate, in_time) VALUES ('ATXL/1', '鲁A12345', '2026-03-01 08:00:00')",
    );
    const script = join(scratch, 'read-times.mts');
    writeFileSync(script, CHILD);
    const outputs = await Promise.all(
      [
        ['UTC', '+00:00'],
        ['America/New_York', '+08:00'],
        ['Asia/Kolkata', '-05:00'],
      ].map(async ([tz, session]) => {
        const { stdout } = await run(
          process.execPath,
          [join(PROJECT_ROOT, 'bin/run-ts.js'), script, db.url, session!],
          {
            env: { ...process.env, TZ: tz },
            timeout: 30_000,
          },
        );
        return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
          processOffset: number;
          rows: Array<{ enterTime: string; epoch: number }>;
        };
      }),
    );
    // The children really ran in different zones...
    expect(outputs.map((o) => o.processOffset)).toEqual([0, 300, -330]);
    // ...and all read the same text and the same instant.
    for (const output of outputs) {
      expect(output.rows).toEqual([{ enterTime: '2026-03-01 08:00:00', epoch: 1772323200 }]);
    }
    await db.admin.query('DELETE FROM car_inout');
  }, 60_000);
});

describe('commit-lag guard across zones', () => {
  const lag = 10;

  async function dbNow(): Promise<number> {
    const [rows] = await db.admin.query<mysql.RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS t');
    return Math.floor(Number(rows[0]!.t));
  }

  for (const vendorZone of ['Asia/Shanghai', 'UTC', 'America/New_York']) {
    for (const sessionTimeZone of ['+00:00', '+08:00']) {
      it(`reads only rows older than now - lag: vendor ${vendorZone}, server session ${sessionTimeZone}`, async () => {
        const config = demoConfig('visit-table', db.url, {
          vendor: { timeZone: vendorZone, sessionTimeZone, commitLagSeconds: lag },
        });
        const pool = createVendorPool(config.vendor, { source: config.source.name });
        try {
          const wall = wallClock(vendorZone);
          const now = await dbNow();
          await db.admin.query(
            `INSERT INTO car_inout (id, park_no, in_plate, in_time) VALUES
               (1, 'ATXL/1', '鲁A00001', ?), (2, 'ATXL/1', '鲁A00002', ?), (3, 'ATXL/1', '鲁A00003', ?)`,
            [wall(now - 4 * lag), wall(now - 3), wall(now + 2)],
          );
          const [session] = await pool.query<{ tz: string }>('SELECT @@session.time_zone AS tz', [], 'test');
          expect(session!.tz).toBe(sessionTimeZone);
          const page = await readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
          expect(page.rows.map((r) => r.vendorKey)).toEqual(['1']);
        } finally {
          await pool.close();
          await db.admin.query('DELETE FROM car_inout');
        }
      });
    }
  }

  it('lets a row stamped t through as soon as the server clock passes t + lag, not a second later', async () => {
    const config = demoConfig('visit-table', db.url, { vendor: { commitLagSeconds: lag } });
    const pool = createVendorPool(config.vendor, { source: config.source.name });
    try {
      const wall = wallClock(config.vendor.timeZone);
      // Early in a second, so that the reads below happen within it.
      let now = await readVendorNow(pool);
      while (now % 1 < 0.05 || now % 1 > 0.5) {
        await new Promise((r) => setTimeout(r, 50));
        now = await readVendorNow(pool);
      }
      const second = Math.floor(now);
      await db.admin.query(
        `INSERT INTO car_inout (id, park_no, in_plate, in_time) VALUES
           (1, 'ATXL/1', '鲁A00001', ?), (2, 'ATXL/1', '鲁A00002', ?)`,
        [wall(second - lag), wall(second - lag + 1)],
      );
      const page = await readEventPage(pool, 'entrances', config.streams.entrances, config.vendor, null);
      const after = await readVendorNow(pool);
      // Row 1 is exactly lag seconds old (plus the fraction): readable now. A whole-second clock
      // held it back until the next second.
      expect(page.rows.map((r) => r.vendorKey)[0]).toBe('1');
      if (Math.floor(after) === second) expect(page.rows.map((r) => r.vendorKey)).toEqual(['1']);
    } finally {
      await pool.close();
      await db.admin.query('DELETE FROM car_inout');
    }
  });

  for (const [format, scale] of [
    ['epoch-s', 1],
    ['epoch-ms', 1000],
  ] as const) {
    it(`guards ${format} columns with the server's Unix time`, async () => {
      await db.admin.query(
        'CREATE TABLE IF NOT EXISTS ev_epoch (id INT PRIMARY KEY, park_no VARCHAR(32), plate VARCHAR(16), ts BIGINT, KEY (ts, id))',
      );
      const base = demoConfig('visit-table', db.url, {
        vendor: { sessionTimeZone: '+08:00', commitLagSeconds: lag },
      });
      const cfg = entrancesStreamSchema.parse({
        from: 'ev_epoch',
        cursor: { time: 'ts', id: 'id' },
        timeFormat: format,
        columns: { parkCode: 'park_no', plateNumber: 'plate', enterTime: 'ts' },
      });
      const pool = createVendorPool(base.vendor, { source: base.source.name });
      try {
        const now = await dbNow();
        await db.admin.query(
          "INSERT INTO ev_epoch VALUES (1, 'ATXL/1', '鲁A00001', ?), (2, 'ATXL/1', '鲁A00002', ?)",
          [(now - 4 * lag) * scale, (now - 3) * scale],
        );
        const page = await readEventPage(pool, 'entrances', cfg, base.vendor, null);
        expect(page.rows.map((r) => [r.vendorKey, Number(r.enterTime)])).toEqual([
          ['1', (now - 4 * lag) * scale],
        ]);
        const next = await readEventPage(pool, 'entrances', cfg, base.vendor, page.last);
        expect(next.rows).toEqual([]);
      } finally {
        await pool.close();
        await db.admin.query('DELETE FROM ev_epoch');
      }
    });
  }
});
