/**
 * URL photo fetching, the worker's way against a bare undici loop, in one process, rounds
 * interleaved (bare, then product): `count` photos per round from `<baseUrl>/<n>.jpg`, at the
 * worker's photo.fetchConcurrency.
 * - bare: an undici Pool with keep-alive, `request`, the body collected into one Buffer;
 * - product: loadPhoto(url, 'url', photo config) through createPhotoDispatcher, as the worker's
 *   Runtime does (allow-list check, redirect handling, size caps, timeouts).
 * Prints `{ rounds: [{ bare, product, connections, bareConnections }] }` (photos/s, TCP
 * connections each side opened in that round).
 *
 *   node bin/run-ts.js test/bench/lib/url-fetch-client.ts <baseUrl> <count> <rounds>
 */
import { Pool } from 'undici';
import { loadConfig } from '../../../src/config/index.js';
import { createPhotoDispatcher, loadPhoto } from '../../../src/transform/photo/sources.js';

const [baseUrl, countArg, roundsArg] = process.argv.slice(2);
if (!baseUrl) throw new Error('usage: url-fetch-client.ts <baseUrl> <count> <rounds>');
const count = Number(countArg ?? 1000);
const rounds = Number(roundsArg ?? 3);
const host = new URL(baseUrl).host;
const photo = { ...loadConfig({ env: {} }).photo, urlAllowHosts: [new URL(baseUrl).hostname] };
const lanes = photo.fetchConcurrency;

async function timed(fn: (i: number) => Promise<number>): Promise<number> {
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) bytes += await fn(next++);
    }),
  );
  if (bytes === 0) throw new Error('no bytes fetched');
  return count / ((performance.now() - t0) / 1000);
}

const pool = new Pool(baseUrl, { connections: lanes, keepAliveTimeout: 30_000 });
let bareConnections = 0;
pool.on('connect', () => bareConnections++);
const dispatcher = createPhotoDispatcher(photo);
let connections = 0;
dispatcher.on('connect', () => connections++);

const bare = async (i: number) => {
  const res = await pool.request({ method: 'GET', path: `/${i}.jpg` });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  if (res.statusCode !== 200) throw new Error(`bare: HTTP ${res.statusCode}`);
  return Buffer.concat(chunks).length;
};
const product = async (i: number) => {
  const input = await loadPhoto(`http://${host}/${i}.jpg`, 'url', photo, { dispatcher });
  if (!input.ok) throw new Error(`product: ${input.message}`);
  return input.bytes.length;
};

// Warm-up: JIT and the first connections, on both sides.
await timed(bare);
await timed(product);
const out: Array<{ bare: number; product: number; connections: number; bareConnections: number }> = [];
for (let r = 0; r < rounds; r++) {
  bareConnections = 0;
  connections = 0;
  const b = await timed(bare);
  const p = await timed(product);
  out.push({ bare: b, product: p, connections, bareConnections });
}
await Promise.all([pool.close(), dispatcher.close()]);
process.stdout.write(`${JSON.stringify({ rounds: out })}\n`);
