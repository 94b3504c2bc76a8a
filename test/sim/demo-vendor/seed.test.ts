/**
 * Demo databases side by side, as one process's several sources see them: each seeded under a lot
 * prefix of its own, so their park codes are disjoint in the lot tables, in the events the traffic
 * adds and in the payloads expected from them; one refused prefix leaves the data as it was.
 */
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../src/sim/demo-vendor/seed.js';
import {
  closeDemoDatabases,
  createDemoDatabase,
  createDemoDatabases,
  type DemoDatabase,
  expectedAcross,
} from '../../helpers/demo-databases.js';
import { TEST_MYSQL_URL } from '../../helpers/services.js';

const open: DemoDatabase[] = [];
afterEach(async () => {
  await closeDemoDatabases(open.splice(0));
});

const SMALL = { lots: 4, visits: 150, days: 1, photos: false } as const;

function prefixOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

describe('demo databases of several sources', () => {
  it('have disjoint park codes, and their expected events are keyed by their own lots', async () => {
    const databases = await createDemoDatabases([
      { style: 'visit-table', seed: SMALL },
      { style: 'visit-table', seed: SMALL },
      { style: 'entry-exit', lotPrefix: 'GATE', seed: { ...SMALL, deletedLots: 1 } },
    ]);
    open.push(...databases);
    expect(databases.map((d) => d.lotPrefix)).toEqual(['ATXL', 'ATXL2', 'GATE']);
    expect(new Set(databases.map((d) => d.db.name)).size).toBe(3);

    const codes = await Promise.all(databases.map((d) => d.lotCodes()));
    expect(codes[0]).toEqual(['ATXL/1', 'ATXL/2', 'ATXL/3', 'ATXL/4']);
    expect(codes[1]).toEqual(['ATXL2/1', 'ATXL2/2', 'ATXL2/3', 'ATXL2/4']);
    expect(codes[2]).toEqual(['GATE/1', 'GATE/2', 'GATE/3', 'GATE/4']);
    expect(databases[2]!.seeded!.deletedLots).toEqual(['GATE/4']);
    // Each database owns its own codes only ("ATXL" is not a lot of "ATXL2", nor the reverse).
    databases.forEach((d, i) => {
      codes.forEach((other, j) => {
        for (const code of other) expect(d.ownsLot(code), `${d.lotPrefix} ${code}`).toBe(i === j);
      });
    });
    // Seeded by position: the two visit-table databases do not repeat each other's lots or visits.
    expect(databases[1]!.seeded!.lots.map((l) => l.name)).not.toEqual(
      databases[0]!.seeded!.lots.map((l) => l.name),
    );

    for (const d of databases) {
      const expected = await d.expected();
      expect(expected.entrances).toHaveLength(150);
      for (const event of [...expected.entrances, ...expected.departures]) {
        expect(prefixOf(event.key)).toBe(d.lotPrefix);
        expect(d.ownsLot(String(event.fields.park_code))).toBe(true);
        if (event.enterKey) expect(prefixOf(event.enterKey)).toBe(d.lotPrefix);
      }
    }
    const all = await expectedAcross(databases);
    expect(all.entrances).toHaveLength(450);
    expect(new Set(all.entrances.map((e) => e.key)).size).toBe(450);
  });

  it('traffic writes events of its own database’s lots', async () => {
    const [first, second] = await createDemoDatabases([{ seed: SMALL }, { lotPrefix: 'BTXL', seed: SMALL }]);
    open.push(first!, second!);
    const traffic = await second!.traffic({ ratePerSecond: 40, durationMs: 1_500, photos: false, seed: 9 });
    const report = await traffic.done;
    const events = [...report.entrances, ...report.departures];
    expect(events.length).toBeGreaterThan(20);
    for (const event of events) expect(event.parkCode).toMatch(/^BTXL\/\d+$/);
    // The first database saw none of it, and what the second expects now includes the traffic.
    expect((await first!.expected()).entrances).toHaveLength(150);
    const expected = await second!.expected();
    expect(expected.entrances).toHaveLength(150 + report.entrances.length);
    expect(expected.entrances.every((e) => prefixOf(e.key) === 'BTXL')).toBe(true);
  });

  it('refuses two databases with one prefix before creating any', async () => {
    const mine = `ipstest\\_${process.pid}\\_%`;
    const before = await databasesLike(mine);
    await expect(createDemoDatabases([{ seed: false }, { lotPrefix: 'ATXL', seed: false }])).rejects.toThrow(
      /lot prefix "ATXL" is given twice/,
    );
    expect(await databasesLike(mine)).toEqual(before);
  });

  it('a default database is the demo as before; closing drops it and its picture folder', async () => {
    const d = await createDemoDatabase({ seed: { ...SMALL, lots: 2 } });
    open.push(d); // closed below; closing again is harmless
    expect(d.lotPrefix).toBe('ATXL');
    expect(await d.lotCodes()).toEqual(['ATXL/1', 'ATXL/2']);
    expect(d.config().photo.fileRoot).toBe(d.photoDir);
    expect(d.config({ photo: { concurrency: 1 } }).photo).toMatchObject({
      fileRoot: d.photoDir,
      concurrency: 1,
    });
    expect(await databasesLike(d.db.name)).toEqual([d.db.name]);
    await d.close();
    expect(existsSync(d.photoDir)).toBe(false);
    expect(await databasesLike(d.db.name)).toEqual([]);
  });

  it('a bad prefix is refused before the demo data is emptied', async () => {
    const d = await createDemoDatabase({ seed: SMALL });
    open.push(d);
    await expect(seedDemo(d.db.url, 'visit-table', { ...SMALL, lotPrefix: 'A,B' })).rejects.toThrow(
      /demo lot prefix "A,B"/,
    );
    expect(await d.lotCodes()).toHaveLength(4);
    expect((await d.expected()).entrances).toHaveLength(150);
  });
});

/** Names of the databases on the test server matching a LIKE pattern. */
async function databasesLike(pattern: string): Promise<string[]> {
  const server = await mysql.createConnection({ uri: TEST_MYSQL_URL });
  try {
    const [rows] = await server.query<mysql.RowDataPacket[]>('SHOW DATABASES LIKE ?', [pattern]);
    return rows.map((r) => String(Object.values(r)[0]));
  } finally {
    await server.end();
  }
}
