/**
 * EXPLAIN of a visit that lives in two tables, read through one derived table
 * (`FROM (SELECT ... UNION ALL SELECT ...) v`) on real MariaDB: every row of the plan is judged, the
 * derived table's own full scan passes when each part is a range on its cursor index with the
 * cursor condition pushed into it, and a part scanned whole fails, named by its table, with what
 * to change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { deepMerge } from '../../src/config/index.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../src/sim/demo-vendor/seed.js';
import { explainStreams } from '../../src/vendor-db/explain.js';
import { createVendorPool } from '../../src/vendor-db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';
import { splitVisits, unionMapping } from '../helpers/split-visits.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await createDemoSchema(db.url, 'visit-table');
  // Sixty days, so that reconcile's one-day read is a small range of each part, as in real history tables.
  await seedDemo(db.url, 'visit-table', { visits: 3000, lots: 3, photos: false, days: 60 });
  await splitVisits(db.admin, 'car_inout_hist', 1500);
  // The same older visits in a copy without the time indexes.
  await db.admin.query('CREATE TABLE car_inout_old LIKE car_inout_hist');
  await db.admin.query('ALTER TABLE car_inout_old DROP INDEX idx_in_time, DROP INDEX idx_out_time');
  await db.admin.query('INSERT INTO car_inout_old SELECT * FROM car_inout_hist');
  await db.admin.query('ANALYZE TABLE car_inout_old');
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

function configOf(mapping: Record<string, unknown>) {
  return demoConfig('visit-table', db.url, mapping);
}

async function plans(config: ReturnType<typeof configOf>) {
  const pool = createVendorPool(config.vendor, { source: config.source.name });
  try {
    return await explainStreams(pool, config);
  } finally {
    await pool.close();
  }
}

describe('a stream read through UNION ALL', () => {
  it('passes when every part is a range on its cursor index, judging every EXPLAIN row', async () => {
    const config = configOf(unionMapping(['car_inout_hist', 'car_inout']));
    for (const plan of await plans(config)) {
      expect(plan.verdict, plan.reasons.join('\n')).toBe('ok');
      // The derived table itself is scanned whole: what materializing it costs.
      expect(plan.plan).toMatchObject({ table: '<derived2>', type: 'ALL', select_type: 'PRIMARY' });
      expect(plan.explain.map((r) => r.select_type)).toEqual(['PRIMARY', 'DERIVED', 'UNION']);
      const index = plan.stream === 'entrances' ? 'idx_in_time' : 'idx_out_time';
      expect(plan.parts?.map((p) => [p.table, p.verdict, p.plan?.type, p.plan?.key])).toEqual([
        ['car_inout_hist', 'ok', 'range', index],
        ['car_inout', 'ok', 'range', index],
      ]);
    }
    const lines: string[] = [];
    expect(await runCheck(config, (line) => lines.push(line))).toBe(true);
    const text = lines.join('\n');
    expect(text).toContain('entrances: ok (derived table v, materialized from its 2 parts on every page)');
    expect(text).toMatch(/part car_inout_hist: ok \(range on idx_out_time of car_inout_hist, ~\d+ rows\)/);
    expect(text).not.toContain('<derived2>');
  });

  it('fails a part without a cursor index, naming its table and the index to create', async () => {
    const config = configOf(unionMapping(['car_inout_old', 'car_inout']));
    const [entrances] = await plans(config);
    expect(entrances!.verdict).toBe('fail');
    expect(entrances!.parts?.map((p) => [p.table, p.verdict])).toEqual([
      ['car_inout_old', 'fail'],
      ['car_inout', 'ok'],
    ]);
    expect(entrances!.reasons.join('\n')).toContain(
      'part car_inout_old: no index of car_inout_old starts with the cursor time column in_time',
    );
    expect(entrances!.advice).toContain('CREATE INDEX idx_in_time_id ON car_inout_old (in_time, id)');
    const lines: string[] = [];
    expect(await runCheck(config, (line) => lines.push(line))).toBe(false);
    expect(lines.join('\n')).toMatch(/part car_inout_old: FAIL \(ALL on no index of car_inout_old/);
    expect(lines.at(-1)).toBe('check FAILED');
  });

  it('fails a part the cursor condition cannot reach, and says what stops it', async () => {
    const mapping = unionMapping(['car_inout_hist', 'car_inout']) as {
      streams: { entrances: { from: string } };
    };
    const limited = mapping.streams.entrances.from.replace(
      /UNION ALL (SELECT [^()]*? FROM car_inout)\) v$/,
      'UNION ALL ($1 ORDER BY id LIMIT 100000000)) v',
    );
    expect(limited).toContain('LIMIT 100000000');
    const config = configOf(deepMerge(mapping, { streams: { entrances: { from: limited } } }));
    const [entrances] = await plans(config);
    expect(entrances!.verdict).toBe('fail');
    expect(entrances!.parts?.map((p) => [p.table, p.verdict])).toEqual([
      ['car_inout_hist', 'ok'],
      ['car_inout', 'fail'],
    ]);
    expect(entrances!.reasons.join('\n')).toContain(
      'part car_inout: the cursor condition is not pushed into this part (EXPLAIN FORMAT=JSON shows no condition on car_inout)',
    );
    expect(entrances!.advice).toContain('remove the LIMIT from the part');
  });

  it('warns when the parts select the photo column (each page would copy every photo after the cursor)', async () => {
    const mapping = unionMapping(['car_inout_hist', 'car_inout']) as {
      streams: { entrances: { from: string } };
    };
    const withPhotos = mapping.streams.entrances.from.replaceAll(
      ', pay_time FROM',
      ', pay_time, in_pic FROM',
    );
    const config = configOf(
      deepMerge(mapping, {
        streams: { entrances: { from: withPhotos, photo: { column: 'v.in_pic', source: 'blob' } } },
      }),
    );
    const [entrances] = await plans(config);
    expect(entrances!.verdict).toBe('warn');
    expect(entrances!.reasons.join('\n')).toContain('the parts select the photo column in_pic');
  });
});
