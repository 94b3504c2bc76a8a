/**
 * Chaos scenario 2: two worker processes with every role against one Redis at the same time.
 * Polls are singletons (global concurrency 1 per poll queue) and push jobs have deterministic ids,
 * so ISP must get every vendor event exactly once while both processes share the pushing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.js';
import { type Chaos, DELIVERY_PATHS, dashboardUrl, deliveredMetric, startChaos } from './harness.js';

let chaos: Chaos | undefined;
afterEach(async () => {
  await killAll();
  await chaos?.close();
  chaos = undefined;
});

describe.each(DELIVERY_PATHS)('two worker processes at once, %s', (_path, streams, direct) => {
  it('delivers every event exactly once, both processes pushing', async () => {
    chaos = await startChaos({
      style: 'entry-exit',
      seed: { lots: 6, visits: 400, photoRows: 40, days: 1, seed: 21 },
      // A little latency keeps several pushes open at once, so the two processes overlap.
      faults: { latencyMs: 150 },
      config: { isp: { batch: { maxItems: 20 } }, ...streams },
    });
    const c = chaos;
    // Started together: both upsert the schedulers and race for the first polls.
    const [a, b] = await Promise.all([
      c.spawnWorker('worker-a', { args: [] }),
      c.spawnWorker('worker-b', { args: [] }),
    ]);
    const traffic = await c.traffic({ ratePerSecond: 20, durationMs: 8_000 });
    const report = await traffic.done;
    expect(report.counts.entrances).toBeGreaterThan(0);

    const expected = await c.expected();
    const startedWait = Date.now();
    const delivery = await c.waitDelivered(expected, 90_000);
    const [urlA, urlB] = await Promise.all([dashboardUrl(a), dashboardUrl(b)]);
    const shares = {
      a: (await deliveredMetric(urlA, 'entrances')) + (await deliveredMetric(urlA, 'departures')),
      b: (await deliveredMetric(urlB, 'entrances')) + (await deliveredMetric(urlB, 'departures')),
    };
    console.info(
      `[chaos two-workers] events: ${delivery.entrances.expected} entrances, ${delivery.departures.expected} ` +
        `departures; received ${delivery.entrances.received} + ${delivery.departures.received}; duplicates ` +
        `${delivery.entrances.duplicates + delivery.departures.duplicates}; delivered by worker a ${shares.a}, ` +
        `worker b ${shares.b}; idle ${((Date.now() - startedWait) / 1000).toFixed(1)} s after the traffic stopped`,
    );

    for (const stream of [delivery.entrances, delivery.departures]) {
      expect(stream.missing).toEqual([]);
      expect(stream.duplicateKeys).toEqual([]);
      expect(stream.unexpected).toEqual([]);
      expect(stream.mismatches).toEqual([]);
      expect(stream.received).toBe(stream.expected);
    }
    // Both really pushed, and between them delivered each event once. Delivered directly, a page
    // goes from whichever process holds its stream's poll: one of them may well do nearly all.
    if (!direct) {
      expect(shares.a).toBeGreaterThan(0);
      expect(shares.b).toBeGreaterThan(0);
    }
    expect(shares.a + shares.b).toBe(delivery.entrances.received + delivery.departures.received);
    expect(a.running() && b.running()).toBe(true);
    expect(await c.failedPushJobs()).toEqual([]);
  }, 150_000);
});
