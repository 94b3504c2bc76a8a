/**
 * Demo vendor databases for tests that read several at once (one process delivering several
 * sources): each a real MariaDB database with a name of its own per run, its own lot code prefix
 * (a park code claimed by two sources is refused), its own random seed and picture folder, and
 * removed by `close`. A database alone is what `startHarness` builds for one source; this builds N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, deepMerge } from '../../src/config/index.js';
import {
  createDemoSchema,
  DEMO_LOT_PREFIX,
  type DemoStyleName,
  demoConfig,
  demoLotCode,
  isDemoLotOf,
  type SeedOptions,
  type SeedReport,
  seedDemo,
  startTraffic,
  type TrafficHandle,
  type TrafficOptions,
} from '../../src/sim/demo-vendor/index.js';
import { type ExpectedEvent, expectedEvents } from './expected.js';
import { createTestDatabase, type TestDatabase } from './services.js';

export interface DemoDatabaseOptions {
  /** @defaultValue 'visit-table' */
  style?: DemoStyleName;
  /** Lot codes `<lotPrefix>/1`, `<lotPrefix>/2`, ... @defaultValue 'ATXL' (createDemoDatabases: by position) */
  lotPrefix?: string;
  /** What to seed (sizes, days, bad rows, seed...); false: the schema only. @defaultValue {} */
  seed?: Omit<SeedOptions, 'lotPrefix' | 'photoDir'> | false;
  /**
   * Picture folder (entry-exit photo files), e.g. one shared by every source of a test: lot
   * folders differ by prefix. Kept by `close`. @defaultValue a temporary folder of its own, removed by `close`
   */
  photoDir?: string;
}

export interface DemoDatabase {
  style: DemoStyleName;
  lotPrefix: string;
  db: TestDatabase;
  photoDir: string;
  /** What the seed wrote (undefined: `seed: false`). */
  seeded: SeedReport | undefined;
  /** Whether `code` is one of this database's lot codes (by its prefix). */
  ownsLot(code: string): boolean;
  /** The codes in the vendor's lot table now (entry-exit: those flagged deleted too), sorted as text. */
  lotCodes(): Promise<string[]>;
  /** The payloads ISP should receive from this database's rows now (test/helpers/expected.ts). */
  expected(): Promise<{ entrances: ExpectedEvent[]; departures: ExpectedEvent[] }>;
  /** The config this database is read with alone: the style's preset, its URL and picture folder, `overrides`. */
  config(overrides?: Record<string, unknown>): Config;
  /** Live traffic on this database, photos in its picture folder (stop it before `close`). */
  traffic(options?: Omit<TrafficOptions, 'photoDir'>): Promise<TrafficHandle>;
  /** Drops the database and removes its own picture folder. */
  close(): Promise<void>;
}

/** One demo database: created, its schema made, seeded. */
export async function createDemoDatabase(options: DemoDatabaseOptions = {}): Promise<DemoDatabase> {
  const style = options.style ?? 'visit-table';
  const lotPrefix = options.lotPrefix ?? DEMO_LOT_PREFIX;
  demoLotCode(1, lotPrefix); // a bad prefix fails here, before a database exists
  // Named as every test database (`ipstest_<pid>_<random>`), so a killed run's are removed too.
  const db = await createTestDatabase();
  const ownPhotoDir = options.photoDir === undefined;
  const photoDir = options.photoDir ?? mkdtempSync(join(tmpdir(), 'ips-source-photos-'));
  const close = async () => {
    await db.drop();
    if (ownPhotoDir) rmSync(photoDir, { recursive: true, force: true });
  };
  let seeded: SeedReport | undefined;
  try {
    await createDemoSchema(db.url, style);
    if (options.seed !== false)
      seeded = await seedDemo(db.url, style, { ...(options.seed ?? {}), lotPrefix, photoDir });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    style,
    lotPrefix,
    db,
    photoDir,
    seeded,
    ownsLot: (code) => isDemoLotOf(code, lotPrefix),
    async lotCodes() {
      const sql =
        style === 'visit-table' ? 'SELECT park_no AS code FROM parkinfo' : 'SELECT code FROM t_park';
      const [rows] = (await db.admin.query(sql)) as unknown as [Array<{ code: string }>];
      return rows.map((r) => r.code).sort();
    },
    expected: () => expectedEvents(db.admin, style),
    config: (overrides = {}) =>
      demoConfig(style, db.url, deepMerge({ photo: { fileRoot: photoDir } }, overrides)),
    traffic: (traffic = {}) => startTraffic(db.url, style, { ...traffic, photoDir }),
    close,
  };
}

/**
 * Several demo databases at once, for one process's several sources. Unless given, the lot prefix
 * is `ATXL` for the first, `ATXL2`, `ATXL3`, ... for the next, and the random seed is the
 * position (1, 2, ...), so no two share lot codes, plates or lot names by accident. Two with the
 * same prefix are refused before anything is created; on a failure the ones made are closed.
 */
export async function createDemoDatabases(list: readonly DemoDatabaseOptions[]): Promise<DemoDatabase[]> {
  const resolved = list.map((options, i) => ({
    ...options,
    lotPrefix: options.lotPrefix ?? (i === 0 ? DEMO_LOT_PREFIX : `${DEMO_LOT_PREFIX}${i + 1}`),
    seed: options.seed === false ? (false as const) : { seed: i + 1, ...(options.seed ?? {}) },
  }));
  const prefixes = resolved.map((o) => o.lotPrefix);
  const twice = prefixes.find((p, i) => prefixes.indexOf(p) !== i);
  if (twice !== undefined) {
    throw new Error(
      `demo databases: lot prefix "${twice}" is given twice; a park code claimed by two sources is refused, so give each database its own`,
    );
  }
  const made: DemoDatabase[] = [];
  try {
    for (const options of resolved) made.push(await createDemoDatabase(options));
  } catch (error) {
    await closeDemoDatabases(made);
    throw error;
  }
  return made;
}

/** Closes every database (each one even when another fails to close). */
export async function closeDemoDatabases(databases: readonly DemoDatabase[]): Promise<void> {
  await Promise.allSettled(databases.map((d) => d.close()));
}

/**
 * The expected payloads of several databases together, refusing a natural key found in two of
 * them: one ISP sees every source's events side by side, so keys must not collide.
 */
export async function expectedAcross(
  databases: readonly DemoDatabase[],
): Promise<{ entrances: ExpectedEvent[]; departures: ExpectedEvent[] }> {
  const out = { entrances: [] as ExpectedEvent[], departures: [] as ExpectedEvent[] };
  const owner = new Map<string, string>();
  for (const database of databases) {
    const expected = await database.expected();
    for (const stream of ['entrances', 'departures'] as const) {
      for (const event of expected[stream]) {
        const other = owner.get(`${stream}|${event.key}`);
        if (other !== undefined)
          throw new Error(`${stream} ${event.key} is expected from ${other} and from ${database.db.name}`);
        owner.set(`${stream}|${event.key}`, database.db.name);
        out[stream].push(event);
      }
    }
  }
  return out;
}
