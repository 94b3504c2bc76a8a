/**
 * Benchmark: the entrance reader (readEventPage) against the same keyset query run bare with
 * mysql2, on a 1,000,000-row visit table. Prints both rates and their ratio (target >= 0.70).
 *
 *   node bin/run-ts.js test/bench/vendor-read.ts [rows] [mysql://root@127.0.0.1:3306]
 *
 * Creates and drops its own database.
 */
import mysql from 'mysql2/promise';
import { demoConfig } from '../../src/sim/vendor/config.js';
import { createDemoSchema } from '../../src/sim/vendor/schema.js';
import { type EventPage, eventPageQuery, readEventPage } from '../../src/vendor/events.js';
import { createVendorPool } from '../../src/vendor/pool.js';
import type { Cursor, RawEntrance } from '../../src/vendor/rows.js';
import { zoneOffset } from '../../src/vendor/zone.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const server = (process.argv[3] ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(
  /\/$/,
  '',
);
const database = `bench_vendor_read_${process.pid}`;
const url = `${server}/${database}`;

const admin = await mysql.createConnection({ uri: server });
await admin.query(`CREATE DATABASE \`${database}\``);
try {
  await createDemoSchema(url, 'visit-table');
  await admin.query(`USE \`${database}\``);
  const load = performance.now();
  await admin.query(
    `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, car_brand)
     SELECT CONCAT('ATXL/', 1 + seq % 20), CONCAT('鲁A', LPAD(seq % 100000, 5, '0')), t,
            IF(seq % 10 = 0, NULL, t + INTERVAL 3600 SECOND), '小型车', '大众'
       FROM (SELECT seq, '2026-01-01 00:00:00' + INTERVAL (seq DIV 7) SECOND AS t FROM seq_1_to_${rows}) s`,
  );
  console.log(`loaded ${rows} rows in ${((performance.now() - load) / 1000).toFixed(1)} s`);

  const config = demoConfig('visit-table', url);
  const cfg = config.streams.entrances;
  const limit = cfg.pageSize;

  // Bare: the same SQL text and parameters, straight on a mysql2 pool with the same options.
  const bare = mysql.createPool({
    uri: url,
    connectionLimit: 1,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const query = eventPageQuery(cfg);
  const runBare = async () => {
    let after: Cursor | null = null;
    let n = 0;
    for (;;) {
      const s = query.statement(after, limit, {
        lagSeconds: config.vendor.commitLagSeconds,
        zoneOffset: zoneOffset(config.vendor.timeZone),
      });
      const [page] = await bare.execute<mysql.RowDataPacket[]>(s.sql, s.params);
      n += page.length;
      const last = page.at(-1);
      if (last) after = { time: last.cursorTime, id: last.vendorKey };
      if (page.length < limit) return n;
    }
  };

  const pool = createVendorPool({ ...config.vendor, connectionLimit: 1 });
  const runOurs = async () => {
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
    return n / ((performance.now() - t) / 1000);
  };
  await runBare(); // warm the buffer pool
  let bestBare = 0;
  let bestOurs = 0;
  for (let i = 0; i < 3; i++) {
    bestBare = Math.max(bestBare, await time(runBare));
    bestOurs = Math.max(bestOurs, await time(runOurs));
  }
  console.log(`bare mysql2 keyset query: ${Math.round(bestBare)} rows/s`);
  console.log(`readEventPage:            ${Math.round(bestOurs)} rows/s`);
  console.log(`ratio: ${(bestOurs / bestBare).toFixed(2)} (target >= 0.70)`);
  await bare.end();
  await pool.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
}
