/**
 * The bare sharp loop (bareFit: decode, scale into photo.maxDimension, encode at quality 90, one
 * libvips thread per photo) over photo files, as a fresh process of its own, as the worker is one
 * (and with its environment, src/cli/memory.ts WORKER_ENV): both start with a fresh heap and
 * allocator, not the bench process's, which holds the simulator or the sink and the results of
 * every group before (one quick run: 70 ms of CPU per photo there, 61 here). One pass as warm-up, then
 * `passes` passes, `concurrency` photos at once. Prints `{ photos, ms, cpuMs }` as JSON (CPU:
 * process.cpuUsage over the measured passes, every thread).
 *
 *   node bin/run-ts.js test/bench/lib/sharp-bare-client.ts <maxDimension> <concurrency> <passes> <file>...
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { bareFit, inParallel } from '../transform.js';

const [maxArg, concurrencyArg, passesArg, ...files] = process.argv.slice(2);
if (!maxArg || !files.length)
  throw new Error('usage: sharp-bare-client.ts <maxDimension> <concurrency> <passes> <file>...');
const concurrency = Number(concurrencyArg);
const images = files.map((f) => readFileSync(f));
const bare = bareFit(Number(maxArg));
sharp.cache(false);
sharp.concurrency(1);
await inParallel(images, concurrency, bare);
const measured = Array.from({ length: Number(passesArg) }, () => images).flat();
const cpu = process.cpuUsage();
const t = performance.now();
await inParallel(measured, concurrency, bare);
const ms = performance.now() - t;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ photos: measured.length, ms, cpuMs: (used.user + used.system) / 1000 }));
