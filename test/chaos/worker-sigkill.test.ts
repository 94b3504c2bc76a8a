/**
 * Chaos scenario 1: a worker process killed with SIGKILL while batches are in flight, then a new
 * one started. Every vendor event must reach ISP; the only duplicates allowed are the records of the
 * batches that were in flight at the kill (ISP stored them, the ledger never heard): at most
 * pushConcurrency batches per event stream, each of at most isp.batch.maxItems records.
 *
 * The simulator answers every ISP request after a fixed latency and stores the batch even when the
 * client is gone, so a batch is "in flight at the kill" exactly when it arrived in the latency
 * window before the kill; the test measures that set and checks that every duplicate comes from it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.js';
import { batchesReceived, type Chaos, DELIVERY_PATHS, requestsInProgress, startChaos } from './harness.js';

const LATENCY_MS = 1_500;
const MAX_ITEMS = 20;
const PUSH_CONCURRENCY = 4;

let chaos: Chaos | undefined;
afterEach(async () => {
  await killAll();
  await chaos?.close();
  chaos = undefined;
});

describe.each(DELIVERY_PATHS)('worker killed with SIGKILL mid-batch, %s', (_path, streams) => {
  it('delivers everything after a restart; duplicates only from the batches in flight', async () => {
    chaos = await startChaos({
      style: 'visit-table',
      // Few photos: a batch then leaves within milliseconds of the previous answer, so the kill
      // below reliably finds batches inside the simulator's latency.
      seed: { lots: 6, visits: 400, photoRows: 10, days: 1, seed: 11 },
      faults: { latencyMs: LATENCY_MS },
      config: {
        isp: { batch: { maxItems: MAX_ITEMS } },
        pipeline: { pushConcurrency: PUSH_CONCURRENCY },
        ...streams,
      },
    });
    const c = chaos;
    const first = await c.spawnWorker('worker-1');
    const traffic = await c.traffic({ ratePerSecond: 10, durationMs: 8_000, photos: false });

    // Once a few entrance batches have landed, strike while the next ones are inside the
    // simulator's latency: ISP will store them, and the worker will never hear so.
    await waitUntil(() => batchesReceived(c.sim, 'entrance').length >= 3, 60_000, 'three entrance batches');
    await waitUntil(() => requestsInProgress(c.sim) >= 2, 30_000, 'batches inside the simulator');
    // Their bodies are small and have arrived; they stay inside for LATENCY_MS.
    await new Promise((r) => setTimeout(r, 100));
    const killAt = Date.now();
    const storedAtKill = {
      entrance: c.sim.state.store.count('entrance'),
      departure: c.sim.state.store.count('departure'),
    };
    const exit = await first.kill();
    expect(exit.signal).toBe('SIGKILL');
    const restartAt = Date.now();
    await c.spawnWorker('worker-2');

    await traffic.done;
    const expected = await c.expected();
    const delivery = await c.waitDelivered(expected, 110_000);
    const doneAt = Date.now();

    const kinds = ['entrance', 'departure'] as const;
    // Batches ISP stored after the kill that the killed worker had sent (the new one sends nothing
    // before it has started, well after `restartAt`).
    const unanswered = kinds.flatMap((kind) =>
      c.sim.state
        .received(kind, storedAtKill[kind], 1e7)
        .filter((e) => e.receivedAt <= restartAt)
        .map((e) => ({ kind, key: e.key, receivedAt: e.receivedAt })),
    );
    const unansweredBatches = new Set(unanswered.map((e) => `${e.kind}@${e.receivedAt}`)).size;
    // Sent around the kill: stored at most a second before it (its answer, ledger write and job
    // completion may not have happened yet) or after it.
    const aroundKill = new Set(
      kinds.flatMap((kind) =>
        c.sim.state
          .received(kind, 0, 1e7)
          .filter((e) => e.receivedAt > killAt - LATENCY_MS - 1_000 && e.receivedAt <= restartAt)
          .map((e) => `${kind}|${e.key}`),
      ),
    );
    const duplicates = delivery.entrances.duplicates + delivery.departures.duplicates;
    const firstResend = firstArrivalAfter(c, restartAt, new Set(unanswered.map((e) => `${e.kind}|${e.key}`)));

    console.info(
      `[chaos sigkill] events: ${delivery.entrances.expected} entrances, ${delivery.departures.expected} departures; ` +
        `stored by ISP after the kill, unanswered: ${unansweredBatches} batches, ${unanswered.length} records; ` +
        `duplicates: ${duplicates} (bound ${2 * PUSH_CONCURRENCY * MAX_ITEMS}); re-sent ` +
        `${firstResend === undefined ? 'never' : `${((firstResend - restartAt) / 1000).toFixed(1)} s`} after the restart; ` +
        `all delivered and queues idle ${((doneAt - restartAt) / 1000).toFixed(1)} s after the restart`,
    );

    // Nothing lost, nothing wrong.
    for (const stream of [delivery.entrances, delivery.departures]) {
      expect(stream.missing).toEqual([]);
      expect(stream.unexpected).toEqual([]);
      expect(stream.mismatches).toEqual([]);
    }
    // The kill really left batches ISP had stored without the worker knowing.
    expect(unansweredBatches).toBeGreaterThan(0);
    // Duplicates: only records sent around the kill, at most one batch per push job in flight.
    for (const key of delivery.entrances.duplicateKeys) expect(aroundKill).toContain(`entrance|${key}`);
    for (const key of delivery.departures.duplicateKeys) expect(aroundKill).toContain(`departure|${key}`);
    expect(duplicates).toBeLessThanOrEqual(2 * PUSH_CONCURRENCY * MAX_ITEMS);
    expect(await c.failedPushJobs()).toEqual([]);
  }, 170_000);
});

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** When ISP first got again a record of a batch in flight at the kill (Unix ms), after `since`. */
function firstArrivalAfter(c: Chaos, since: number, keys: Set<string>): number | undefined {
  let first: number | undefined;
  for (const kind of ['entrance', 'departure'] as const) {
    for (const e of c.sim.state.received(kind, 0, 1e7)) {
      if (e.receivedAt > since && keys.has(`${kind}|${e.key}`)) {
        first = Math.min(first ?? Number.POSITIVE_INFINITY, e.receivedAt);
        break;
      }
    }
  }
  return first;
}
