/**
 * The bare loop the photo worker is compared with, run as its own process (as the worker is): for
 * each event it reads the photo file, Base64-encodes it, serializes the JSON body (records of the
 * worker's shape, plates in Chinese, batches of ≤ 100 records and ≤ 8 MB) and writes it to the
 * socket (undici, keep-alive, `inflight` requests at once, the worker's ISP pool size). No ledger,
 * no queue, no database. Prints `{ events, ms, cpuMs, measuredEvents }` as JSON: CPU is this
 * process's own (process.cpuUsage) from the first `warmup` events on, so start-up and JIT warm-up
 * are left out, as they are for the worker.
 *
 *   node bin/run-ts.js test/bench/lib/photo-bare-client.ts <baseUrl> <photoDir> <photos> <events> <inflight> <warmup>
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BATCH_MAX_BYTES, BATCH_MAX_ITEMS, PHOTO_PREFIX } from '../../../src/isp-spec/index.js';

const [baseUrl, dir, photosArg, eventsArg, inflightArg, warmupArg] = process.argv.slice(2);
if (!baseUrl || !dir)
  throw new Error('usage: photo-bare-client.ts <baseUrl> <photoDir> <photos> <events> <inflight> <warmup>');
const photos = Number(photosArg);
const events = Number(eventsArg);
const inflight = Number(inflightArg ?? 8);
const warmup = Number(warmupArg ?? 0);

const pool = new Pool(baseUrl, { connections: inflight, keepAliveTimeout: 30_000 });
const tokenRes = await pool.request({
  method: 'POST',
  path: '/oauth/token',
  headers: { 'content-type': 'application/json' },
  body: '{"grant_type":"client_credentials","client_id":"bench","client_secret":"bench"}',
});
const { access_token: token } = (await tokenRes.body.json()) as { access_token: string };
const authorization = `Bearer ${token}`;

const start = 1_780_000_000;
let next = 0;
let sent = 0;
let cpuFrom: NodeJS.CpuUsage | undefined;
let measuredFrom = 0;

/** Event `i`'s record, its photo read and encoded now; `bytes`: its size on the wire, about. */
async function record(i: number): Promise<{ record: Record<string, unknown>; bytes: number }> {
  const pic = PHOTO_PREFIX + (await readFile(join(dir!, `${i % photos}.jpg`))).toString('base64');
  const common = {
    park_code: `BENCH/${i % 10}`,
    plate_number: `鲁A${String(i % 100_000).padStart(5, '0')}`,
    car_type: '2',
    car_logo: '大众',
  };
  const t = start + i;
  const r =
    i % 2
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
      : { ...common, enter_time: t, enter_pic: pic };
  return { record: r, bytes: pic.length + 300 };
}

const t0 = performance.now();
await Promise.all(
  Array.from({ length: inflight }, async (_, lane) => {
    // Half the lanes post entrances (even events), half departures (odd), as the worker's two streams.
    const departures = lane % 2 === 1;
    let carry: Awaited<ReturnType<typeof record>> | undefined;
    while (carry || next < events) {
      const batch: Record<string, unknown>[] = [];
      let bytes = 2;
      while (batch.length < BATCH_MAX_ITEMS) {
        if (!carry) {
          if (next >= events) break;
          const i = next++;
          carry = await record(departures ? i | 1 : i & ~1);
        }
        if (batch.length > 0 && bytes + carry.bytes > BATCH_MAX_BYTES) break;
        batch.push(carry.record);
        bytes += carry.bytes;
        carry = undefined;
      }
      const res = await pool.request({
        method: 'POST',
        path: departures ? '/park/departure' : '/park/entrance',
        headers: { authorization, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(batch),
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      sent += batch.length;
      if (!cpuFrom && sent >= warmup) {
        cpuFrom = process.cpuUsage();
        measuredFrom = sent;
      }
    }
  }),
);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpuFrom);
await pool.close();
process.stdout.write(
  `${JSON.stringify({ events: sent, ms, cpuMs: (cpu.user + cpu.system) / 1000, measuredEvents: sent - measuredFrom })}\n`,
);
