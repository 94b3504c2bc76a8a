/**
 * Redis restarted under a running worker. A private redis-server (own port and
 * dir, AOF fsynced on every write, no RDB) so the shared one is not disturbed; it is stopped with
 * SIGTERM and started again on the same port and dir while traffic runs. The worker must resume
 * consuming by itself (bullmq 6 has had workers that silently stop after an outage), /readyz must
 * say so (its workers check), /healthz must stay "alive", and every event must reach ISP exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, type PrivateRedis, startPrivateRedis } from '../helpers/processes.js';
import {
  type Chaos,
  DELIVERY_PATHS,
  dashboardUrl,
  healthz,
  requestsInProgress,
  startChaos,
} from './harness.js';

const DOWN_MS = 3_000;
const LATENCY_MS = 1_000;

let chaos: Chaos | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  await killAll();
  await chaos?.close();
  await redis?.close();
  chaos = undefined;
  redis = undefined;
});

describe.each(DELIVERY_PATHS)('Redis restarted under a running worker, %s', (_path, streams, direct) => {
  it('resumes consuming by itself and delivers every event exactly once', async () => {
    redis = await startPrivateRedis();
    chaos = await startChaos({
      style: 'visit-table',
      seed: { lots: 6, visits: 300, photoRows: 30, days: 1, seed: 31 },
      // Batches spend a second inside ISP: the stop below finds some there, accepted while Redis
      // is gone (the ledger write after them is what must not be lost).
      faults: { latencyMs: LATENCY_MS },
      redisUrl: redis.url,
      config: { isp: { batch: { maxItems: 20 } }, ...streams },
    });
    const c = chaos;
    const r = redis;
    const worker = await c.spawnWorker('worker', { args: [] });
    const url = await dashboardUrl(worker);
    const traffic = await c.traffic({ ratePerSecond: 15, durationMs: 14_000 });

    // Let the history go out and live traffic flow; stop Redis while batches are inside ISP.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await waitFor(() => (requestsInProgress(c.sim) >= 2 ? true : undefined), 30_000, 'batches inside ISP');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = stored(c);
    const storedAtStop = {
      entrance: c.sim.state.store.count('entrance'),
      departure: c.sim.state.store.count('departure'),
    };
    const stoppedAt = Date.now();
    await r.stop();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await r.start();
    const restartedAt = Date.now();

    // Consumption resumes: new events, committed after the restart, reach ISP.
    const committedAfter = Date.now();
    const resumedAt = await waitFor(
      () =>
        c.sim.state
          .received('entrance', 0, 1e7)
          .find((e) => e.receivedAt > restartedAt && epochMs(e.key) >= committedAfter - 1_000)?.receivedAt,
      60_000,
      'an entrance committed after the restart at ISP',
    );
    await traffic.done;
    const expected = await c.expected();
    const delivery = await c.waitDelivered(expected, 90_000);
    const health = await waitFor(
      async () => {
        const h = await readyz(url);
        return h.status === 200 ? h : undefined;
      },
      30_000,
      '/readyz 200',
    );
    expect((await healthz(url)).status).toBe(200);
    const duplicates = delivery.entrances.duplicates + delivery.departures.duplicates;
    // Records ISP accepted after Redis went away, from requests sent before: their ledger write
    // had to wait for Redis.
    const acceptedDuringOutage = (['entrance', 'departure'] as const)
      .flatMap((kind) => c.sim.state.received(kind, storedAtStop[kind], 1e7))
      .filter((e) => e.receivedAt <= stoppedAt).length;
    console.info(
      `[chaos redis-restart] events: ${delivery.entrances.expected} entrances, ${delivery.departures.expected} ` +
        `departures (${before} delivered before the outage); Redis down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s; ` +
        `first new entrance at ISP ${((resumedAt - restartedAt) / 1000).toFixed(1)} s after Redis was back; ` +
        `accepted by ISP while Redis was down: ${acceptedDuringOutage} records; duplicates ${duplicates}; ` +
        `/readyz ${health.status}`,
    );

    expect(before).toBeGreaterThan(0);
    expect(acceptedDuringOutage).toBeGreaterThan(0);
    for (const stream of [delivery.entrances, delivery.departures]) {
      expect(stream.missing).toEqual([]);
      expect(stream.duplicateKeys).toEqual([]);
      expect(stream.unexpected).toEqual([]);
      expect(stream.mismatches).toEqual([]);
    }
    expect(worker.running()).toBe(true);
    expect(health.body.ok).toBe(true);
    // Its consumption monitor saw every worker running, and jobs finished after the restart: polls
    // (which deliver directly), and pushes where pages go through the queue.
    const workers = (health.body.checks as Record<string, { details: { workers: HealthRow[] } }>).workers!
      .details.workers;
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.every((w) => w.running)).toBe(true);
    const consumed = [
      'poll-entrances',
      'poll-departures',
      ...(direct ? [] : ['push-entrances', 'push-departures']),
    ];
    for (const queue of consumed)
      expect(workers.find((w) => w.queue === queue)?.lastFinishedAt).toBeGreaterThanOrEqual(
        Math.floor(restartedAt / 1000),
      );
    expect(await c.failedPushJobs()).toEqual([]);
    // The status page counts every delivery once, those whose bookkeeping met the outage included.
    const status = (await (await fetch(`${url}/api/status`)).json()) as {
      streams: Array<{ stream: string; delivered: { lastHour: number } }>;
    };
    const deliveredLastHour = (name: string) =>
      status.streams.find((s) => s.stream === name)?.delivered.lastHour;
    expect(deliveredLastHour('entrances')).toBe(delivery.entrances.expected);
    expect(deliveredLastHour('departures')).toBe(delivery.departures.expected);
  }, 170_000);
});

interface HealthRow {
  queue: string;
  running: boolean;
  lastFinishedAt: number | null;
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function stored(c: Chaos): number {
  return c.sim.state.store.count('entrance') + c.sim.state.store.count('departure');
}

/** Event time of a natural key `park|plate|epoch`, ms. */
function epochMs(key: string): number {
  return Number(key.split('|').at(-1)) * 1000;
}

async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
