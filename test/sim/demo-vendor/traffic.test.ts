/**
 * The traffic generator as a library: it runs at a rate for a duration (or until stopped), holds
 * some transactions open so rows commit late, and reports exactly what it committed — which the
 * readers, with their commit-lag guard, then read back exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { Cursor } from '../../../src/config/vendor-rows.js';
import { demoConfig } from '../../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../../src/sim/demo-vendor/seed.js';
import type { DemoStyleName } from '../../../src/sim/demo-vendor/style.js';
import { startTraffic } from '../../../src/sim/demo-vendor/traffic.js';
import { readEventPage } from '../../../src/vendor-db/events.js';
import { readSpotNums } from '../../../src/vendor-db/lots.js';
import { createVendorPool, type VendorPool } from '../../../src/vendor-db/pool.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/services.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A poller: reads pages from its cursor until caught up. */
function poller(pool: VendorPool, config: Config, stream: 'entrances' | 'departures') {
  let after: Cursor | null = null;
  const seen = new Map<string, Record<string, unknown>>();
  let repeated = 0;
  return {
    seen,
    repeated: () => repeated,
    async poll() {
      for (;;) {
        const page = await readEventPage(pool, stream, config.streams[stream], config.vendor, after, {
          limit: 50,
        });
        for (const row of page.rows) {
          if (seen.has(row.vendorKey)) repeated++;
          seen.set(row.vendorKey, row);
        }
        if (page.last) after = page.last;
        if (!page.full) return;
      }
    },
  };
}

async function dbNow(db: TestDatabase): Promise<number> {
  const [rows] = await db.admin.query<mysql.RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS t');
  return Math.floor(Number(rows[0]!.t));
}

describe.each(['visit-table', 'entry-exit'] as DemoStyleName[])('%s traffic', (style) => {
  it('is read back exactly once while it runs, late commits included', async () => {
    const db = await createTestDatabase();
    const photoDir = mkdtempSync(join(tmpdir(), 'ips-traffic-photos-'));
    dirs.push(photoDir);
    try {
      await createDemoSchema(db.url, style);
      const seeded = await seedDemo(db.url, style, { lots: 4, visits: 300, photoRows: 30, photoDir });
      // Above the 2 s hold plus 1 s (whole-second stamps against a millisecond clock).
      const config = demoConfig(style, db.url, { vendor: { commitLagSeconds: 4 } });
      const pool = createVendorPool(config.vendor, { source: config.source.name });
      const spotsBefore = await readSpotNums(pool, config.streams.spotNums);
      const entrances = poller(pool, config, 'entrances');
      const departures = poller(pool, config, 'departures');
      try {
        const traffic = await startTraffic(db.url, style, {
          ratePerSecond: 40,
          durationMs: 4_000,
          lateRatio: 0.4,
          holdMs: 2_000,
          photoDir,
          seed: 7,
        });
        // Poll while the traffic runs, as the sync would.
        let running = true;
        void traffic.done.finally(() => {
          running = false;
        });
        while (running) {
          await entrances.poll();
          await departures.poll();
          await new Promise((r) => setTimeout(r, 300));
        }
        const report = await traffic.done;
        // Then until the lag has passed the last commit.
        const lastEpoch = Math.max(...[...report.entrances, ...report.departures].map((e) => e.epoch));
        while ((await dbNow(db)) < lastEpoch + config.vendor.commitLagSeconds + 1) {
          await new Promise((r) => setTimeout(r, 250));
        }
        await entrances.poll();
        await departures.poll();

        expect(report.errors).toEqual([]);
        expect(report.counts.entrances).toBe(report.entrances.length);
        expect(report.counts.departures).toBe(report.departures.length);
        expect(report.counts.entrances + report.counts.departures).toBeGreaterThanOrEqual(80);
        expect(report.achievedRate).toBeGreaterThan(20);
        expect(report.counts.lateTransactions).toBeGreaterThanOrEqual(1);
        expect(report.departures.length).toBeGreaterThan(0);
        const late = [...report.entrances, ...report.departures].filter((e) => e.late);
        expect(late.length).toBeGreaterThan(0);
        // Held open past the second they were stamped with (the last one may be cut short by the end).
        expect(late.some((e) => e.committedAt / 1000 >= e.epoch + 1)).toBe(true);

        expect(entrances.repeated()).toBe(0);
        expect(departures.repeated()).toBe(0);
        expect(entrances.seen.size).toBe(seeded.entrances + report.entrances.length);
        expect(departures.seen.size).toBe(seeded.departures + report.departures.length);
        for (const e of report.entrances) {
          expect(entrances.seen.get(e.vendorKey)).toMatchObject({
            parkCode: e.parkCode,
            plateNumber: e.plateNumber,
            enterTime: e.time,
          });
        }
        for (const d of report.departures) {
          expect(departures.seen.get(d.vendorKey)).toMatchObject({
            parkCode: d.parkCode,
            plateNumber: d.plateNumber,
            departTime: d.time,
          });
        }
        const spotsAfter = await readSpotNums(pool, config.streams.spotNums);
        expect(spotsAfter).not.toEqual(spotsBefore);
      } finally {
        await pool.close();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe('traffic control', () => {
  it('stops on request, committing a held transaction at once', async () => {
    const db = await createTestDatabase();
    try {
      await createDemoSchema(db.url, 'visit-table');
      await seedDemo(db.url, 'visit-table', { lots: 2, visits: 20, photos: false });
      const traffic = await startTraffic(db.url, 'visit-table', {
        ratePerSecond: 30,
        lateRatio: 1,
        holdMs: 60_000,
        photos: false,
      });
      await new Promise((r) => setTimeout(r, 1_500));
      const started = Date.now();
      const report = await traffic.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await traffic.stop()).toBe(report);
      expect(report.counts.lateTransactions).toBeGreaterThanOrEqual(1);
      const [rows] = (await db.admin.query('SELECT COUNT(*) AS n FROM car_inout')) as unknown as [
        [{ n: number }],
      ];
      expect(Number(rows[0].n)).toBe(20 + report.counts.entrances);
    } finally {
      await db.drop();
    }
  });

  it('holds several late transactions at once, their rows stamped in the past', async () => {
    const db = await createTestDatabase();
    try {
      await createDemoSchema(db.url, 'visit-table');
      await seedDemo(db.url, 'visit-table', { lots: 2, visits: 20, photos: false });
      const traffic = await startTraffic(db.url, 'visit-table', {
        ratePerSecond: 40,
        durationMs: 2_000,
        lateRatio: 1,
        lateConcurrency: 6,
        holdMs: 600,
        backdateMs: 2_000,
        photos: false,
      });
      const report = await traffic.done;
      // One slot would commit at most ~2 s / 0.3 s late transactions; six commit many more.
      expect(report.counts.lateTransactions).toBeGreaterThan(10);
      // Entrances stamped at least the backdate before their commit (the hold is cut short when
      // the traffic stops; a departure is never stamped before its car came in, so it may be later).
      const late = report.entrances.filter((e) => e.late);
      expect(late.length).toBeGreaterThan(10);
      for (const e of late) expect(e.committedAt / 1000 - e.epoch).toBeGreaterThanOrEqual(2);
    } finally {
      await db.drop();
    }
  });

  it('refuses a database without lots, and a bad rate', async () => {
    const db = await createTestDatabase();
    try {
      await createDemoSchema(db.url, 'entry-exit');
      await expect(startTraffic(db.url, 'entry-exit', { photos: false })).rejects.toThrow(/no lots/);
      await expect(startTraffic(db.url, 'entry-exit', { ratePerSecond: 0 })).rejects.toThrow(/rate/);
    } finally {
      await db.drop();
    }
  });
});
