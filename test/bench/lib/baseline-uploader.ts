/**
 * The uploader people write by hand, as the baseline (`baseline-ratio`): page through the visit
 * table with LIMIT/OFFSET, turn each row into an entrance, and POST it alone (one record per
 * request, one request at a time), for a fixed time. Runs as its own process; prints
 * `{ sent, accepted, failed, seconds, offset }` as JSON. Reads with its own connection; never writes.
 *
 *   node bin/run-ts.js test/bench/lib/baseline-uploader.ts <mysqlUrl> <ispBaseUrl> <seconds>
 *   (client id / secret in BENCH_CLIENT_ID / BENCH_CLIENT_SECRET)
 */
import mysql from 'mysql2/promise';
import { request } from 'undici';

const [dbUrl, ispUrl, secondsArg] = process.argv.slice(2);
if (!dbUrl || !ispUrl) throw new Error('usage: baseline-uploader.ts <mysqlUrl> <ispBaseUrl> <seconds>');
const seconds = Number(secondsArg ?? 10);
const PAGE = 1000;
const KINDS: Record<string, string> = {
  大型车: '1',
  小型车: '2',
  新能源车: '6',
  警车: '3',
  临时车: '4',
  无牌车: '5',
};

const tokenRes = await request(`${ispUrl}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    grant_type: 'client_credentials',
    client_id: process.env.BENCH_CLIENT_ID,
    client_secret: process.env.BENCH_CLIENT_SECRET,
  }),
});
const token = ((await tokenRes.body.json()) as { access_token: string }).access_token;

const conn = await mysql.createConnection({ uri: dbUrl });
let offset = 0;
let sent = 0;
let accepted = 0;
let failed = 0;
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
outer: for (;;) {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT id, park_no, in_plate, in_time, car_kind, car_brand FROM car_inout ORDER BY id LIMIT ${PAGE} OFFSET ${offset}`,
  );
  if (rows.length === 0) break;
  offset += rows.length;
  for (const row of rows) {
    if (performance.now() >= deadline) break outer;
    const record = {
      park_code: row.park_no,
      plate_number: String(row.in_plate ?? '').replace(/\s/g, ''),
      enter_time: Math.floor((row.in_time as Date).getTime() / 1000),
      car_type: KINDS[String(row.car_kind)] ?? '2',
      car_logo: row.car_brand ?? '',
      enter_pic: '',
    };
    const res = await request(`${ispUrl}/park/entrance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([record]),
    });
    const answer = (await res.body.json()) as { code?: number };
    sent++;
    if (answer.code === 0 || answer.code === 200) accepted++;
    else failed++;
  }
}
const elapsed = (performance.now() - t0) / 1000;
await conn.end();
process.stdout.write(`${JSON.stringify({ sent, accepted, failed, seconds: elapsed, offset })}\n`);
