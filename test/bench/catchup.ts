/**
 * The catch-up figures after an ISP outage: a backlog of vendor events (a visit table preloaded
 * over the outage's day, no photos) while ISP is down; one child worker
 * (`start --no-web`, product defaults) runs through the outage (its poller fills the push queues
 * up to the backpressure bound and waits, pushes back off), then ISP comes back:
 * - `catchup-seconds`: from ISP back up to the receipt of the last event (the backoff the worker
 *   is in when ISP returns is part of it), with its rate against min(ceilings);
 * - `catchup-rss-mb`: peak VmRSS of the worker over the whole run;
 * - `catchup-redis-mb`: peak Redis used_memory over the run minus the baseline taken just before
 *   the worker started (both reported), and this run's own keys measured directly at the end of
 *   the outage and at the end of the drain.
 */
import { seedDemo } from '../../src/sim/demo-vendor/index.js';
import type { BenchContext } from './lib/context.js';
import { drain } from './lib/drain.js';
import { prefixMemory, sampleUsedMemory, usedMemoryMb } from './lib/redis-memory.js';
import { makeResult } from './lib/report.js';
import { startStack } from './lib/stack.js';
import { adjacentCeiling, measureReadFigures } from './throughput.js';

export async function runCatchupGroup(ctx: BenchContext): Promise<void> {
  const group = 'catchup';
  const sizes = ctx.sizes.catchup;
  const stack = await startStack({ style: 'visit-table', photos: false });
  try {
    ctx.log(`seeding ${sizes.visits.toLocaleString('en')} visits over ${sizes.days} day(s) (no photos)`);
    const seed = await seedDemo(stack.db.url, 'visit-table', {
      visits: sizes.visits,
      photos: false,
      lots: 20,
      days: sizes.days,
    });
    const expected = seed.entrances + seed.departures;
    if (!ctx.get('ceiling-mysql-read')) await measureReadFigures(ctx, stack, group);

    const ceilingNow = await adjacentCeiling(ctx, seed.departures / expected);
    const redis = stack.redis.client;
    const baselineMb = await usedMemoryMb(redis);
    const sampler = sampleUsedMemory(redis);
    stack.sim.patchFaults({ downForMs: 3_600_000 });
    ctx.log(
      `ISP down; worker started; outage of ${sizes.outageSeconds} s over ${expected.toLocaleString('en')} events`,
    );
    const worker = stack.startWorker({ label: 'catch-up' });
    await new Promise((r) => setTimeout(r, sizes.outageSeconds * 1000));
    const atOutageEnd = await prefixMemory(redis, stack.redis.prefix);
    const rssOutage = worker.peakRssMb();
    stack.sim.patchFaults({ downForMs: 0 });
    const upAt = Date.now();
    ctx.log('ISP back up; draining');
    const d = await drain(stack, expected, {
      startedWorkers: [worker],
      from: upAt,
      deadlineMs: sizes.deadlineSeconds * 1000,
    });
    const peakMb = await sampler.stop();
    const atEnd = await prefixMemory(redis, stack.redis.prefix);
    const rss = worker.peakRssMb();
    ctx.log(
      `  drained in ${d.seconds.toFixed(1)} s (${Math.round(d.eventsPerSecond)} events/s)${d.complete ? '' : ' (deadline)'}; ` +
        `peak RSS ${rss.toFixed(0)} MB; Redis peak ${peakMb.toFixed(1)} MB (baseline ${baselineMb.toFixed(1)} MB), ` +
        `own keys ${atOutageEnd.mb.toFixed(1)} MB in the outage, ${atEnd.mb.toFixed(1)} MB at the end`,
    );
    const detail = {
      events: d.delivered,
      expected,
      complete: d.complete,
      duplicatesSent: d.extra,
      outageSeconds: sizes.outageSeconds,
      firstReceiptAfterUpSeconds: d.firstReceiptSeconds,
      eventsPerSecond: d.eventsPerSecond,
      cpuCoresDuringDrain: d.cpu.cores,
      peakRssMb: rss,
      peakRssDuringOutageMb: rssOutage,
      redisBaselineMb: baselineMb,
      redisPeakUsedMb: peakMb,
      ownKeysAtOutageEndMb: atOutageEnd.mb,
      ownKeysAtOutageEnd: atOutageEnd.keys,
      ownKeysAtEndMb: atEnd.mb,
      ownKeysAtEnd: atEnd.keys,
      ledgerAtEndMb: atEnd.ledgerMb,
      ledgerKeysAtEnd: atEnd.ledgerKeys,
    };
    const ceiling = {
      id: 'min(ceiling-mysql-read, ceiling-isp-ingest round of the same entrance/departure mix before the run)',
      value: ceilingNow,
      unit: 'events/s',
    };
    const sizeText = `${expected.toLocaleString('en')} events (${sizes.visits.toLocaleString('en')} visits over ${sizes.days} day(s))`;
    ctx.add(
      makeResult({
        id: 'catchup-seconds',
        unit: 's',
        runs: [{ value: d.seconds, ...detail }],
        ceiling,
        ratio: d.eventsPerSecond / ceiling.value,
        note:
          `Backlog of ${sizeText}; ISP down for ${sizes.outageSeconds} s while one child worker runs, then up: seconds from ISP up ` +
          'to the last receipt. Ratio: the drain rate (events/s) against min(ceiling-mysql-read, a ceiling-isp-ingest round of the workload’s entrance/departure mix right before the outage).',
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'catchup-rss-mb',
        unit: 'MB',
        runs: [{ value: rss, ...detail }],
        target: { on: 'value', op: '<', bound: 300, text: '< 300 MB' },
        note: `Peak VmRSS of the worker process (/proc/<pid>/status, sampled every 200 ms) over outage and drain of ${sizeText}.`,
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'catchup-redis-mb',
        unit: 'MB',
        runs: [{ value: peakMb - baselineMb, ...detail }],
        target: { on: 'value', op: '<', bound: 64, text: '< 64 MB' },
        note:
          `Peak Redis used_memory during the run minus the baseline just before the worker started ` +
          `(baseline ${baselineMb.toFixed(1)} MB, peak ${peakMb.toFixed(1)} MB; used_memory is server-wide, so other clients of a shared Redis add noise). ` +
          `This run's own keys measured directly: ${atOutageEnd.mb.toFixed(1)} MB at the end of the outage, ` +
          `${atEnd.mb.toFixed(1)} MB after the drain (of which the delivered-key ledger ${atEnd.ledgerMb.toFixed(1)} MB in ${atEnd.ledgerKeys} buckets).`,
        command: ctx.command(group),
      }),
    );
  } finally {
    await stack.close();
  }
}
