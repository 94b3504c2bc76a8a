/**
 * The vendor-read figures: the bare keyset read rate of the entrance page query with mysql2
 * (`ceiling-mysql-read`) and our reader (readEventPage) against it (`vendor-reader-ratio`, target
 * ≥ 0.70). Both read the same table to the end with the same SQL text, parameters and driver
 * options (query(): the text protocol, as the reader; dateStrings, big numbers as strings), in rounds interleaved so machine noise
 * hits both alike, after one warm-up pass that loads the buffer pool.
 *
 * Reads only; the table is the caller's (the throughput benchmark's seeded demo database).
 */
import mysql from 'mysql2/promise';
import type { Config } from '../../src/config/index.js';
import type { Cursor, RawEntrance } from '../../src/config/vendor-rows.js';
import { type EventPage, eventPageQuery, readEventPage } from '../../src/vendor-db/events.js';
import { createVendorPool } from '../../src/vendor-db/pool.js';
import { zoneOffset } from '../../src/vendor-db/zone.js';
import type { Run } from './lib/report.js';

export interface KeysetReadRuns {
  /** Bare mysql2 rows/s per round. */
  bare: Run[];
  /** readEventPage rows/s per round, with the round's ratio to the bare rate. */
  reader: Run[];
  rows: number;
}

export async function measureKeysetRead(config: Config, rounds: number): Promise<KeysetReadRuns> {
  const cfg = config.streams.entrances;
  const limit = cfg.pageSize;
  const bounds = {
    lagSeconds: config.vendor.commitLagSeconds,
    zoneOffset: zoneOffset(config.vendor.timeZone),
  };
  const bare = mysql.createPool({
    uri: config.vendor.url,
    connectionLimit: 1,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const pool = createVendorPool({ ...config.vendor, connectionLimit: 1 }, { source: config.source.name });
  const query = eventPageQuery(cfg);
  const runBare = async () => {
    let after: Cursor | null = null;
    let n = 0;
    for (;;) {
      const s = query.statement(after, limit, bounds);
      const [page] = await bare.query<mysql.RowDataPacket[]>(s.sql, s.params);
      n += page.length;
      const last = page.at(-1);
      if (last) after = { time: last.cursorTime, id: last.vendorKey };
      if (page.length < limit) return n;
    }
  };
  const runReader = async () => {
    let after: Cursor | null = null;
    let n = 0;
    for (;;) {
      const page: EventPage<RawEntrance> = await readEventPage(pool, 'entrances', cfg, config.vendor, after);
      n += page.rows.length;
      if (page.last) after = page.last;
      if (!page.full) return n;
    }
  };
  const time = async (fn: () => Promise<number>) => {
    const t = performance.now();
    const n = await fn();
    return { rows: n, perSecond: n / ((performance.now() - t) / 1000) };
  };
  try {
    const rows = await runBare(); // warm the buffer pool and the statement cache
    await runReader();
    const out: KeysetReadRuns = { bare: [], reader: [], rows };
    for (let i = 0; i < rounds; i++) {
      const b = await time(runBare);
      const r = await time(runReader);
      out.bare.push({ value: b.perSecond, rows: b.rows });
      out.reader.push({ value: r.perSecond / b.perSecond, readerRowsPerSecond: r.perSecond, rows: r.rows });
    }
    return out;
  } finally {
    await bare.end();
    await pool.close();
  }
}
