/**
 * The ISP-ingest ceiling's client, run as its own process (as the worker is): a bare undici loop
 * that posts pre-serialized batches of valid records to the simulator with a fixed number of
 * requests in flight, and prints `{ records, accepted, ms }` as JSON. No retries, no ledger, no
 * queue: the fastest a client can hand records to the simulator on this machine.
 *
 *   node bin/run-ts.js test/bench/lib/ingest-client.ts <baseUrl> <records> <batch> <inflight> [photo]
 *   (client id / secret in BENCH_CLIENT_ID / BENCH_CLIENT_SECRET; BENCH_DEPARTURE_SHARE, 0 to 1: the
 *   share of batches that are departures, as in the workload the ceiling stands for; default 0)
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { BATCH_MAX_BYTES, PHOTO_PREFIX } from '../../../src/isp-spec/index.js';

const [baseUrl, recordsArg, batchArg, inflightArg, photoFile] = process.argv.slice(2);
if (!baseUrl) throw new Error('usage: ingest-client.ts <baseUrl> <records> <batch> <inflight> [photo]');
const records = Number(recordsArg ?? 100_000);
const pic = photoFile ? PHOTO_PREFIX + readFileSync(photoFile).toString('base64') : '';
// Records per body within the byte bound (the worker's batches obey the same one).
const perBody = Math.max(1, Math.floor((BATCH_MAX_BYTES - 2) / (pic.length + 200)));
const batch = Math.min(Number(batchArg ?? 100), perBody);
const inflight = Number(inflightArg ?? 8);
/** Distinct bodies built; with photos only a few, sent round-robin. */
const distinct = photoFile ? inflight * 2 : Number.POSITIVE_INFINITY;

const pool = new Pool(baseUrl, { connections: inflight, keepAliveTimeout: 30_000 });

async function token(): Promise<string> {
  const res = await pool.request({
    method: 'POST',
    path: '/oauth/token',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: process.env.BENCH_CLIENT_ID,
      client_secret: process.env.BENCH_CLIENT_SECRET,
    }),
  });
  const body = (await res.body.json()) as { access_token?: string; token_type?: string };
  if (!body.access_token) throw new Error(`no token (HTTP ${res.statusCode})`);
  return `Bearer ${body.access_token}`;
}

const departureShare = Number(process.env.BENCH_DEPARTURE_SHARE ?? 0);
const start = 1_780_000_000;
const bodies: string[] = [];
const sizes: number[] = [];
const paths: string[] = [];
for (let i = 0, k = 0; i < records && bodies.length < distinct; i += batch, k++) {
  // Batch k is a departure batch when the running count of departure batches steps up: spread
  // evenly, in the given share.
  const departure = Math.floor((k + 1) * departureShare) > Math.floor(k * departureShare);
  const items = [];
  for (let j = i; j < Math.min(records, i + batch); j++) {
    const common = {
      park_code: `BENCH/${j % 20}`,
      plate_number: `鲁A${String(j % 100_000).padStart(5, '0')}`,
      car_type: '2',
      car_logo: '大众',
    };
    const t = start + Math.floor(j / 7);
    items.push(
      departure
        ? {
            ...common,
            depart_time: t + 5_400,
            depart_pic: pic,
            use_time: 90,
            payable_fee: 12.5,
            paid_fee: 12.5,
            pay_time: t + 5_400,
            pay_type: '1',
          }
        : { ...common, enter_time: t, enter_pic: pic },
    );
  }
  bodies.push(JSON.stringify(items));
  sizes.push(items.length);
  paths.push(departure ? '/park/departure' : '/park/entrance');
}

const bodyCount = Math.ceil(records / batch);
const authorization = await token();
let next = 0;
let accepted = 0;
let failed = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: inflight }, async () => {
    while (next < bodyCount) {
      const index = next++ % bodies.length;
      const body = bodies[index]!;
      const res = await pool.request({
        method: 'POST',
        path: paths[index]!,
        headers: { authorization, 'content-type': 'application/json; charset=utf-8' },
        body,
      });
      const answer = (await res.body.json()) as { code?: number };
      if (res.statusCode === 200 && answer.code === 0) accepted += sizes[index]!;
      else failed++;
    }
  }),
);
const ms = performance.now() - t0;
await pool.close();
process.stdout.write(`${JSON.stringify({ records, accepted, failed, ms, batch })}\n`);
