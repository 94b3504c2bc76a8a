/**
 * The demo vendor databases are valid input for their presets: created and seeded, every stream
 * validates, reads back completely, transforms without quarantine, and photos load (BLOBs, some
 * over 512 KB; files under the picture folder). Lots are diffed against what was "delivered",
 * with hard and soft deletes. The demo tools refuse databases they did not create.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { Cursor, RawDeparture, RawEntrance } from '../../../src/config/vendor-rows.js';
import { demoConfig } from '../../../src/sim/demo-vendor/config.js';
import { createDemoSchema, DemoDatabaseError } from '../../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../../src/sim/demo-vendor/seed.js';
import type { DemoStyleName } from '../../../src/sim/demo-vendor/style.js';
import {
  createTransformContext,
  loadPhoto,
  transformDeparture,
  transformEntrance,
  transformPark,
  transformSpotNum,
} from '../../../src/transform/index.js';
import { type EventPage, readEventPage } from '../../../src/vendor-db/events.js';
import { readParks, readSpotNums } from '../../../src/vendor-db/lots.js';
import { fetchPhotos } from '../../../src/vendor-db/photo-read.js';
import { createVendorPool, type VendorPool } from '../../../src/vendor-db/pool.js';
import { validateStreams } from '../../../src/vendor-db/validate.js';
import { createTestDatabase } from '../../helpers/services.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function readAll<S extends 'entrances' | 'departures'>(pool: VendorPool, config: Config, stream: S) {
  const rows: Array<S extends 'entrances' ? RawEntrance : RawDeparture> = [];
  let after: Cursor | null = null;
  for (;;) {
    const page: EventPage<RawEntrance | RawDeparture> = await readEventPage(
      pool,
      stream,
      config.streams[stream],
      config.vendor,
      after,
      {
        limit: 150,
      },
    );
    rows.push(...(page.rows as typeof rows));
    if (page.last) after = page.last;
    if (!page.full) return rows;
  }
}

describe.each(['visit-table', 'entry-exit'] as DemoStyleName[])('%s demo', (style) => {
  it('is valid, complete input for its preset', async () => {
    const db = await createTestDatabase();
    const photoDir = mkdtempSync(join(tmpdir(), 'ips-demo-photos-'));
    dirs.push(photoDir);
    try {
      await createDemoSchema(db.url, style);
      const report = await seedDemo(db.url, style, {
        lots: 6,
        visits: 400,
        photoRows: 80,
        photoDir,
        deletedLots: 1,
      });
      expect(report.entrances).toBe(400);
      expect(report.departures + report.inside).toBe(400);
      expect(report.bad).toEqual([]);

      const config = demoConfig(style, db.url, { photo: { fileRoot: photoDir } });
      const pool = createVendorPool(config.vendor, { source: config.source.name });
      try {
        expect(await validateStreams(pool, config)).toEqual([]);

        const entrances = await readAll(pool, config, 'entrances');
        const departures = await readAll(pool, config, 'departures');
        expect(entrances).toHaveLength(report.entrances);
        expect(departures).toHaveLength(report.departures);
        expect(new Set(entrances.map((r) => r.vendorKey)).size).toBe(report.entrances);

        const ctx = createTransformContext(config, { onWarnings: null });
        const quarantined = [
          ...entrances.map((r) => transformEntrance(r, ctx)),
          ...departures.map((r) => transformDeparture(r, ctx)),
        ].filter((t) => !t.ok);
        expect(quarantined).toEqual([]);
        expect(entrances.some((r) => r.plateNumber === '无牌车')).toBe(true);
        expect(entrances.some((r) => /^[\u4e00-\u9fa5][A-Z][DF]/.test(String(r.plateNumber)))).toBe(true);

        const parks = await readParks(pool, config.streams.parks);
        expect(parks.map((p) => p.parkCode).sort()).toEqual(report.lots.map((l) => l.code).sort());
        for (const park of parks) expect(transformPark(park, ctx).ok).toBe(true);
        const deleted = parks.filter((p) => {
          const t = transformPark(p, ctx);
          return t.ok && t.value.deleted;
        });
        expect(deleted.map((p) => p.parkCode)).toEqual(style === 'entry-exit' ? ['ATXL/6'] : []);
        const spots = await readSpotNums(pool, config.streams.spotNums);
        expect(spots).toHaveLength(style === 'entry-exit' ? 5 : 6);
        for (const spot of spots) expect(transformSpotNum(spot, ctx).ok).toBe(true);

        // Photos: only the most recent visits carry them; they load as JPEGs.
        const recent = entrances.slice(-80).map((r) => r.vendorKey);
        const photos = await fetchPhotos(pool, config.streams.entrances, recent);
        expect(photos.size).toBe(80);
        const present = [...photos.values()].filter((p) => p !== null);
        expect(present.length).toBeGreaterThan(60);
        let loaded = 0;
        for (const raw of present) {
          const input = await loadPhoto(raw, config.streams.entrances.photo!.source, config.photo);
          expect(input.ok).toBe(true);
          if (input.ok) {
            expect(input.bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
            loaded++;
          }
        }
        expect(loaded).toBe(present.length);
        if (style === 'visit-table') for (const raw of present) expect(Buffer.isBuffer(raw)).toBe(true);
        else for (const raw of present) expect(raw).toMatch(/^\d{8}\/ATXL_\d+\/in_\d+\.jpg$/);
        const old = await fetchPhotos(pool, config.streams.entrances, [
          entrances[0]!.vendorKey,
          'no-such-id',
        ]);
        expect([...old.values()]).toEqual([null, null]);
      } finally {
        await pool.close();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe('demo photos', () => {
  it('include some over 512 KB', async () => {
    const db = await createTestDatabase();
    try {
      await createDemoSchema(db.url, 'visit-table');
      await seedDemo(db.url, 'visit-table', { lots: 2, visits: 150, photoRows: 150 });
      const [rows] = (await db.admin.query(
        'SELECT SUM(LENGTH(in_pic) > 524288) + SUM(LENGTH(out_pic) > 524288) AS big, SUM(in_pic IS NULL) AS none FROM car_inout',
      )) as unknown as [[{ big: string; none: string }]];
      expect(Number(rows[0].big)).toBeGreaterThan(0);
      expect(Number(rows[0].none)).toBeGreaterThan(0);
    } finally {
      await db.drop();
    }
  });
});

describe('demo tools', () => {
  it('refuse a database they did not create, and an existing demo without --drop', async () => {
    const db = await createTestDatabase();
    try {
      await db.admin.query('CREATE TABLE car_inout (id INT PRIMARY KEY)');
      await expect(createDemoSchema(db.url, 'visit-table')).rejects.toThrow(DemoDatabaseError);
      await expect(createDemoSchema(db.url, 'visit-table', { drop: true })).rejects.toThrow(
        /not a demo created by/,
      );
      await expect(seedDemo(db.url, 'visit-table', { visits: 1, photos: false })).rejects.toThrow(
        /refusing to write/,
      );
      const [rows] = (await db.admin.query('SELECT COUNT(*) AS n FROM car_inout')) as unknown as [
        [{ n: number }],
      ];
      expect(Number(rows[0].n)).toBe(0);

      await db.admin.query('DROP TABLE car_inout');
      await createDemoSchema(db.url, 'visit-table');
      await expect(createDemoSchema(db.url, 'entry-exit')).rejects.toThrow(/--drop/);
      await expect(seedDemo(db.url, 'entry-exit', { visits: 1, photos: false })).rejects.toThrow(
        /visit-table style/,
      );
      await createDemoSchema(db.url, 'entry-exit', { drop: true });
      const [tables] = (await db.admin.query('SHOW TABLES')) as unknown as [Array<Record<string, string>>];
      expect(tables.map((t) => Object.values(t)[0]).sort()).toEqual([
        '_isp_sync_demo',
        't_car_type',
        't_entry',
        't_exit',
        't_park',
        't_park_space',
      ]);
    } finally {
      await db.drop();
    }
  });
});
