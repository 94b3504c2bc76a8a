/**
 * Memory with photos (`--only photo-backlog`): a backlog of events that all carry a photo (file
 * photos under the limit, entry-exit style) read while ISP is unreachable (the discard sink closed:
 * connections refused), then ISP back and the backlog drained by one child worker (product defaults):
 * - `photo-backlog-rss-mb`: peak VmRSS of the worker over outage and drain (target < 400 MB);
 * - `photo-backlog-redis-mb`: peak Redis used_memory over the run minus the baseline taken just
 *   before the worker started (target < 64 MB), with this run's own keys measured directly;
 * - `photo-backlog-drain-seconds`: ISP up to the last event received, for scale.
 * Photo bytes never enter Redis (push jobs carry the payload and the vendor row id; photos are read
 * at push time): at the end of the outage every key of the run is read and searched for the Base64
 * of a JPEG (`/9j/`, the Base64 of its first bytes) and the data-URI prefix, and the count reported.
 * Against the discard sink, not the simulator: the simulator's parsing of ~8 MB bodies would make a
 * 100,000-photo drain take over five minutes on two cores, for nothing this figure is about.
 */
import type { Redis } from 'ioredis';
import type { BenchContext } from './lib/context.js';
import { startDiscardSink } from './lib/discard-sink.js';
import { prefixMemory, sampleUsedMemory, usedMemoryMb } from './lib/redis-memory.js';
import { makeResult } from './lib/report.js';
import { startStack, until } from './lib/stack.js';
import { seedWithPhotos } from './photos.js';
import { makeSmallPhotos } from './transform.js';

const SIZES = {
  // ~1.88 events per visit: 53,200 visits ≈ 100,000 events.
  full: { visits: 53_200, photos: 8, outageSeconds: 20, deadlineSeconds: 420 },
  quick: { visits: 1_000, photos: 4, outageSeconds: 4, deadlineSeconds: 60 },
};

/** Every value of a key, as buffers (strings, hashes, lists, sets, sorted sets, streams). */
async function valuesOf(redis: Redis, key: string): Promise<Buffer[]> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return [(await redis.getBuffer(key)) ?? Buffer.alloc(0)];
    case 'hash':
      return redis.hvalsBuffer(key);
    case 'list':
      return redis.lrangeBuffer(key, 0, -1);
    case 'set':
      return redis.smembersBuffer(key);
    case 'zset':
      return redis.zrangeBuffer(key, 0, -1);
    case 'stream':
      return (await redis.xrangeBuffer(key, '-', '+')).flatMap(([, fields]) => fields);
    default:
      return [];
  }
}

/** Keys under `prefix` whose values hold photo bytes as ISP would get them (Base64 JPEG, data URI). */
async function keysWithPhotoBytes(
  redis: Redis,
  prefix: string,
): Promise<{ keys: number; withPhoto: number }> {
  let keys = 0;
  let withPhoto = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of batch) {
      keys++;
      // `/9j/`: the Base64 of a JPEG's first bytes (FF D8 FF).
      const values = await valuesOf(redis, key);
      if (values.some((v) => v.includes('/9j/') || v.includes('data:image'))) withPhoto++;
    }
  } while (cursor !== '0');
  return { keys, withPhoto };
}

export async function runPhotoBacklogGroup(ctx: BenchContext): Promise<void> {
  const group = 'photo-backlog';
  const size = SIZES[ctx.mode];
  const small = await makeSmallPhotos(size.photos);
  const sink = await startDiscardSink();
  const stack = await startStack({ style: 'entry-exit', photos: true, ispUrl: sink.url });
  try {
    ctx.log(`seeding ${size.visits.toLocaleString('en')} visits, every event with a photo`);
    const expected = await seedWithPhotos(stack, size.visits, small);
    const redis = stack.redis.client;
    await sink.down();
    const baselineMb = await usedMemoryMb(redis);
    const sampler = sampleUsedMemory(redis);
    ctx.log(
      `ISP unreachable; worker started; outage of ${size.outageSeconds} s over ${expected.toLocaleString('en')} events`,
    );
    const worker = stack.startWorker({ label: 'photo backlog' });
    await new Promise((r) => setTimeout(r, size.outageSeconds * 1000));
    const atOutageEnd = await prefixMemory(redis, stack.redis.prefix);
    const scan = await keysWithPhotoBytes(redis, stack.redis.prefix);
    const rssOutage = worker.peakRssMb();
    await sink.up();
    const upAt = Date.now();
    ctx.log(
      `ISP back; draining (own keys ${atOutageEnd.mb.toFixed(1)} MB in ${atOutageEnd.keys} keys, ${scan.withPhoto} holding photo bytes)`,
    );
    let exited: string | undefined;
    void worker.exited.then((code) => {
      exited = `worker exited with ${code}: ${worker.output().slice(-1500)}`;
    });
    const complete = await until(
      () => sink.events() >= expected || exited !== undefined,
      Date.now() + size.deadlineSeconds * 1000,
      100,
    );
    if (exited) throw new Error(exited);
    const end = complete ? sink.lastReceipt() : Date.now();
    const peakMb = await sampler.stop();
    const rss = worker.peakRssMb();
    const atEnd = await prefixMemory(redis, stack.redis.prefix);
    const seconds = (end - upAt) / 1000;
    const delivered = Math.min(sink.events(), expected);
    ctx.log(
      `  ${delivered} of ${expected} in ${seconds.toFixed(1)} s (${Math.round(delivered / seconds)} events/s)${complete ? '' : ' (deadline)'}; ` +
        `peak RSS ${rss.toFixed(0)} MB (outage ${rssOutage.toFixed(0)} MB); Redis peak ${peakMb.toFixed(1)} MB (baseline ${baselineMb.toFixed(1)} MB)`,
    );
    const detail = {
      events: delivered,
      expected,
      complete,
      outageSeconds: size.outageSeconds,
      eventsPerSecond: delivered / seconds,
      peakRssMb: rss,
      peakRssDuringOutageMb: rssOutage,
      redisBaselineMb: baselineMb,
      redisPeakUsedMb: peakMb,
      ownKeysAtOutageEndMb: atOutageEnd.mb,
      ownKeysAtOutageEnd: atOutageEnd.keys,
      keysHoldingPhotoBytes: scan.withPhoto,
      ownKeysAtEndMb: atEnd.mb,
      ispRequests: sink.requests().bodies,
    };
    const sizeText =
      `${expected.toLocaleString('en')} events with ${Math.round(small[0]!.length / 1024)} KB file photos ` +
      `(${size.visits.toLocaleString('en')} visits), ISP unreachable for ${size.outageSeconds} s while one child worker reads them, then a discard sink`;
    ctx.add(
      makeResult({
        id: 'photo-backlog-rss-mb',
        unit: 'MB',
        runs: [{ value: rss, ...detail }],
        target: { on: 'value', op: '<', bound: 400, text: '< 400 MB' },
        note: `Peak VmRSS of the worker process (/proc/<pid>/status, sampled every 200 ms) over outage and drain of ${sizeText}.`,
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'photo-backlog-redis-mb',
        unit: 'MB',
        runs: [{ value: peakMb - baselineMb, ...detail }],
        target: { on: 'value', op: '<', bound: 64, text: '< 64 MB, no photo bytes' },
        note:
          `Peak Redis used_memory during the run minus the baseline just before the worker started ` +
          `(baseline ${baselineMb.toFixed(1)} MB, peak ${peakMb.toFixed(1)} MB; server-wide, so other clients add noise). ` +
          `Own keys at the end of the outage: ${atOutageEnd.mb.toFixed(1)} MB in ${atOutageEnd.keys} keys, ` +
          `${scan.withPhoto} of them holding photo bytes (every value of every key searched for a Base64 JPEG or a data URI). ${sizeText}.`,
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'photo-backlog-drain-seconds',
        unit: 's',
        runs: [{ value: seconds, ...detail }],
        note: `From ISP reachable again to the last event received (the backoff the worker is in counts). ${sizeText}.`,
        command: ctx.command(group),
      }),
    );
  } finally {
    await stack.close();
    await sink.close();
  }
}
