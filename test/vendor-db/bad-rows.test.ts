/**
 * Deliberately bad vendor rows (NULL plate, zero dates, negative fee, unknown kind text, missing
 * photo) are handed over by the reader like any row, never stop the stream, and the transform
 * module turns them into quarantine reasons or warnings without throwing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { Cursor, RawDeparture, RawEntrance } from '../../src/config/vendor-rows.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../src/sim/demo-vendor/seed.js';
import type { DemoStyleName } from '../../src/sim/demo-vendor/style.js';
import {
  createTransformContext,
  loadPhoto,
  transformDeparture,
  transformEntrance,
  type Warning,
} from '../../src/transform/index.js';
import { type EventPage, readEventPage } from '../../src/vendor-db/events.js';
import { fetchPhotos } from '../../src/vendor-db/photo-read.js';
import { createVendorPool, type VendorPool } from '../../src/vendor-db/pool.js';
import { createTestDatabase } from '../helpers/services.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function readAll(pool: VendorPool, config: Config, stream: 'entrances' | 'departures') {
  const rows: Array<Record<string, unknown> & { vendorKey: string }> = [];
  let after: Cursor | null = null;
  let pages = 0;
  for (;;) {
    // Small pages: the bad rows sit inside pages and on their edges.
    const page: EventPage<RawEntrance | RawDeparture> = await readEventPage(
      pool,
      stream,
      config.streams[stream],
      config.vendor,
      after,
      {
        limit: 7,
      },
    );
    pages++;
    rows.push(...page.rows);
    if (page.last) after = page.last;
    if (!page.full) return { rows, pages };
  }
}

describe.each(['visit-table', 'entry-exit'] as DemoStyleName[])('bad rows in the %s demo', (style) => {
  it('are read like any row, never stop the stream, and are quarantined by the transform', async () => {
    const db = await createTestDatabase();
    const photoDir = mkdtempSync(join(tmpdir(), 'ips-bad-photos-'));
    dirs.push(photoDir);
    try {
      await createDemoSchema(db.url, style);
      const report = await seedDemo(db.url, style, {
        lots: 3,
        visits: 120,
        photoRows: 20,
        photoDir,
        bad: true,
      });
      expect(report.bad.map((b) => `${b.kind}:${b.stream}`)).toEqual([
        'null-plate:entrances',
        'zero-date:entrances',
        'zero-pay-time:departures',
        'negative-fee:departures',
        'unknown-kind:entrances',
        'unknown-kind:departures',
        'missing-photo:entrances',
        'missing-photo:departures',
      ]);
      const config = demoConfig(style, db.url, { photo: { fileRoot: photoDir } });
      const pool = createVendorPool(config.vendor, { source: config.source.name });
      try {
        const entrances = await readAll(pool, config, 'entrances');
        const departures = await readAll(pool, config, 'departures');
        // Everything was read, bad rows included: the stream went on past them.
        expect(entrances.rows).toHaveLength(report.entrances);
        expect(departures.rows).toHaveLength(report.departures);
        const row = (b: (typeof report.bad)[number]) =>
          (b.stream === 'entrances' ? entrances.rows : departures.rows).find(
            (r) => r.vendorKey === b.vendorKey,
          )!;
        const bad = (kind: string, stream: string) =>
          row(report.bad.find((b) => b.kind === kind && b.stream === stream)!);

        expect(bad('null-plate', 'entrances').plateNumber).toBeNull();
        expect(bad('zero-date', 'entrances').enterTime).toBe('0000-00-00 00:00:00');
        // A zero date sorts first: the reader starts with it.
        expect(entrances.rows[0]!.enterTime).toBe('0000-00-00 00:00:00');
        expect(bad('zero-pay-time', 'departures').payTime).toBe('0000-00-00 00:00:00');
        expect(bad('negative-fee', 'departures').payableFee).toBe(style === 'visit-table' ? -500 : '-5.00');
        expect(bad('unknown-kind', 'entrances').carType).toBe('特种车辆');
        expect(bad('unknown-kind', 'departures').payType).toBe('数字人民币');

        const warnings: Warning[] = [];
        const ctx = createTransformContext(config, { onWarnings: (_s, w) => warnings.push(...w) });
        const outcome = (kind: string, stream: 'entrances' | 'departures') => {
          const r = bad(kind, stream);
          return stream === 'entrances'
            ? transformEntrance(r as never, ctx)
            : transformDeparture(r as never, ctx);
        };
        const reasons = (kind: string, stream: 'entrances' | 'departures') => {
          const t = outcome(kind, stream);
          return t.ok ? [] : t.reasons.map((r) => r.code);
        };
        expect(reasons('zero-date', 'entrances')).toContain('zero-date');
        expect(reasons('negative-fee', 'departures')).toContain('negative-fee');
        // Whatever the transform decides for the others, it decides without throwing.
        for (const b of report.bad) expect(() => outcome(b.kind, b.stream)).not.toThrow();
        expect(warnings.map((w) => w.value)).toEqual(expect.arrayContaining(['特种车辆', '数字人民币']));

        // The missing photo: no BLOB (visit-table) or a path to a file that is not there (entry-exit).
        const missing = report.bad.find((b) => b.kind === 'missing-photo' && b.stream === 'entrances')!;
        const photo = (await fetchPhotos(pool, config.streams.entrances, [missing.vendorKey])).get(
          missing.vendorKey,
        );
        if (style === 'visit-table') expect(photo).toBeNull();
        else {
          expect(typeof photo).toBe('string');
          const input = await loadPhoto(photo, 'file', config.photo);
          expect(input).toMatchObject({ ok: false, outcome: 'missing' });
        }
      } finally {
        await pool.close();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});
