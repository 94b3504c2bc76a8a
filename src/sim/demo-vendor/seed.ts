/**
 * Fills a demo vendor database (created by schema.ts) with lots and historical visits: a daily
 * rhythm over the last days, cars still inside, photos for the most recent visits (small camera
 * JPEGs, a few over 512 KB, some missing), and on request a few deliberately bad rows. Fast enough
 * for bulk loads (multi-row INSERTs; 500,000 visits in seconds) because old visits carry no photo.
 *
 * Replaces the demo data already there (the tables are emptied first). Writes only to databases
 * that carry the demo marker.
 */
import type mysql from 'mysql2/promise';
import {
  type BadKind,
  createRandom,
  type DemoLot,
  demoLotCode,
  leave,
  makeDurationSeconds,
  makeEntryTimes,
  makeLots,
  makeVisit,
  type Visit,
} from './data.js';
import { type PhotoPool, photoPool } from './photo-pool.js';
import { demoStyle, demoStyleOf } from './schema.js';
import { connectWriter, type DemoStyleName } from './style.js';

export interface SeedOptions {
  /** Parking lots. @defaultValue 10 */
  lots?: number;
  /**
   * Lot codes are `<lotPrefix>/1`, `<lotPrefix>/2`, ...: give each demo database delivered by one
   * process its own (letters, digits, `-`, `_`; up to 24). The traffic generator and the readers
   * take the codes from the lot table, so they follow. @defaultValue 'ATXL'
   */
  lotPrefix?: string;
  /** Historical visits. @defaultValue 2000 */
  visits?: number;
  /** Days of history, ending at `endEpoch`. @defaultValue 7 */
  days?: number;
  /** Photos for the most recent visits. @defaultValue true */
  photos?: boolean;
  /** How many of the most recent visits carry photos. @defaultValue 500 */
  photoRows?: number;
  /** Picture folder for the entry-exit style's photo files (without it, photo paths stay NULL). */
  photoDir?: string;
  /** Add the deliberately bad rows (see BadRow). @defaultValue false */
  bad?: boolean;
  /** Lots flagged deleted (entry-exit style; the visit-table style has no flag). @defaultValue 0 */
  deletedLots?: number;
  /** Random seed: the same options give the same data. @defaultValue 1 */
  seed?: number;
  /** The vendor's wall-clock zone. @defaultValue 'Asia/Shanghai' */
  timeZone?: string;
  /** History ends here (Unix s). @defaultValue now - 60 s */
  endEpoch?: number;
}

/** A row with a defect, put in on purpose. */
export interface BadRow {
  kind: BadKind;
  stream: 'entrances' | 'departures';
  /** The stream's vendor key (cursor id) of the row. */
  vendorKey: string;
}

export interface SeedReport {
  style: DemoStyleName;
  lots: DemoLot[];
  /** Lot codes flagged deleted. */
  deletedLots: string[];
  /** Entrance rows (visits), bad ones included. */
  entrances: number;
  /** Departure rows (visits that ended), bad ones included. */
  departures: number;
  /** Cars still inside. */
  inside: number;
  /** Photos stored (BLOBs or files). */
  photos: number;
  bad: BadRow[];
  /** Unix seconds of the first and last event. */
  firstEpoch: number;
  lastEpoch: number;
  ms: number;
}

const BAD_KINDS: Array<{ kind: BadKind; streams: Array<'entrances' | 'departures'>; left: boolean }> = [
  { kind: 'null-plate', streams: ['entrances'], left: false },
  { kind: 'zero-date', streams: ['entrances'], left: false },
  { kind: 'zero-pay-time', streams: ['departures'], left: true },
  { kind: 'negative-fee', streams: ['departures'], left: true },
  { kind: 'unknown-kind', streams: ['entrances', 'departures'], left: true },
  { kind: 'missing-photo', streams: ['entrances', 'departures'], left: true },
];

export async function seedDemo(
  url: string,
  style: DemoStyleName,
  options: SeedOptions = {},
): Promise<SeedReport> {
  const started = Date.now();
  const zone = options.timeZone ?? 'Asia/Shanghai';
  const rnd = createRandom(options.seed ?? 1);
  const end = Math.floor(options.endEpoch ?? Date.now() / 1000 - 60);
  const start = end - Math.round((options.days ?? 7) * 86_400);
  const visitCount = options.visits ?? 2000;
  const pool: PhotoPool | null = options.photos === false ? null : await photoPool();
  const poolSize = pool?.jpegs.length ?? 0;
  const photoFrom = visitCount - (options.photoRows ?? 500);

  // A bad prefix is refused before the demo's tables are emptied.
  demoLotCode(1, options.lotPrefix);
  const conn = await connectWriter(url);
  try {
    await demoStyleOf(conn, style);
    const writer = demoStyle(style);
    for (const table of writer.dataTables) await conn.query(`DELETE FROM ${table}`);

    const lots = makeLots(options.lots ?? 10, rnd, options.lotPrefix);
    const pickLot = lotPicker(lots);
    const times = makeEntryTimes(visitCount, start, end, zone, rnd);
    const visits: Visit[] = new Array(visitCount);
    for (let i = 0; i < visitCount; i++) {
      const inEpoch = times[i]!;
      const out = inEpoch + makeDurationSeconds(rnd);
      visits[i] = makeVisit(
        {
          id: i + 1,
          parkCode: pickLot(rnd.next()),
          inEpoch,
          outEpoch: out < end ? out : null,
          photoPool: i >= photoFrom ? poolSize : 0,
        },
        rnd,
      );
    }
    if (options.bad) visits.push(...badVisits(visitCount, lots, end, poolSize, rnd));

    // Exit ids in exit order (the entry-exit style's t_exit).
    const left = visits.filter((v) => v.outEpoch !== null);
    left.sort((a, b) => a.outEpoch! - b.outEpoch! || a.id - b.id);
    left.forEach((v, i) => {
      v.exitId = i + 1;
    });

    const used = new Map<string, number>();
    for (const v of visits) if (v.outEpoch === null) used.set(v.parkCode, (used.get(v.parkCode) ?? 0) + 1);
    for (const lot of lots) used.set(lot.code, Math.min(lot.total, used.get(lot.code) ?? 0));
    const deleted = new Set(
      style === 'entry-exit' ? lots.slice(lots.length - (options.deletedLots ?? 0)).map((l) => l.code) : [],
    );

    await conn.query('SET SESSION unique_checks = 0, foreign_key_checks = 0');
    await writer.insertLots(conn, lots, { used, deleted, zone });
    const { photos } = await writer.insertVisits(conn, visits, { pool, dir: options.photoDir }, zone);
    await analyze(conn, writer.tables);

    const bad: BadRow[] = [];
    for (const v of visits) {
      if (!v.bad) continue;
      for (const stream of BAD_KINDS.find((b) => b.kind === v.bad)!.streams) {
        const key = stream === 'departures' && style === 'entry-exit' ? v.exitId : v.id;
        bad.push({ kind: v.bad, stream, vendorKey: String(key) });
      }
    }
    return {
      style,
      lots,
      deletedLots: [...deleted],
      entrances: visits.length,
      departures: left.length,
      inside: visits.length - left.length,
      photos,
      bad,
      firstEpoch: times[0] ?? end,
      lastEpoch: end,
      ms: Date.now() - started,
    };
  } finally {
    await conn.end();
  }
}

/** Lots chosen in proportion to their size. */
function lotPicker(lots: DemoLot[]): (u: number) => string {
  const cumulative: number[] = [];
  let total = 0;
  for (const lot of lots) {
    total += lot.total;
    cumulative.push(total);
  }
  return (u) => {
    const target = u * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lots[lo]!.code;
  };
}

/** One visit per defect, in the last quarter hour of the history. */
function badVisits(
  after: number,
  lots: DemoLot[],
  end: number,
  poolSize: number,
  rnd: ReturnType<typeof createRandom>,
): Visit[] {
  return BAD_KINDS.map((bad, i) => {
    const inEpoch = end - 900 + i * 60;
    const visit = makeVisit(
      {
        id: after + i + 1,
        parkCode: lots[i % lots.length]!.code,
        inEpoch,
        outEpoch: null,
        photoPool: poolSize,
        missingPhoto: 0,
      },
      rnd,
    );
    visit.bad = bad.kind;
    if (bad.left)
      leave(
        visit,
        inEpoch + 45 * 60 > end ? end - 30 + i : inEpoch + 45 * 60,
        { photoPool: poolSize, missingPhoto: 0 },
        rnd,
      );
    switch (bad.kind) {
      case 'null-plate':
        visit.plate = null;
        break;
      case 'negative-fee':
        visit.payableFen = -500;
        visit.paidFen = -500;
        break;
      case 'unknown-kind':
        visit.kind = 'unknown';
        visit.pay = 'unknown';
        break;
      case 'zero-pay-time':
        visit.payableFen = Math.max(visit.payableFen, 200);
        visit.paidFen = visit.payableFen;
        break;
    }
    return visit;
  });
}

async function analyze(conn: mysql.Connection, tables: string[]): Promise<void> {
  await conn.query(`ANALYZE TABLE ${tables.join(', ')}`);
}
