/**
 * The worker on a Redis Cluster (three masters, one replica each; test/helpers/redis-cluster.ts),
 * against real MariaDB and the ISP simulator, workers as child processes. One stage for the file
 * (cluster, vendor database, simulator, prefix), three steps in order, each adding traffic and
 * checking every event the vendor has so far:
 * 1. the delivery path: every event once, and every key of the prefix on the master of its hash
 *    tag's slot, nowhere else;
 * 2. a worker SIGKILLed with batches inside ISP and a new one started: nothing missing; duplicates
 *    only from the batches ISP stored after the kill without the worker hearing (as on one Redis);
 * 3. the master of the prefix's slot SIGKILLed under traffic: its replica takes over after the
 *    node timeout and delivery goes on, nothing missing; the duplicates it cost are measured and
 *    printed.
 * Events go the direct way (streams without photos: polls send their pages), so a killed worker's
 * poll is handed on after its 15 s lock; lots and counts still go through push queues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis } from '../../jobs/redis-preflight.js';
import { prefixesInRedis } from '../../src/cli/status.js';
import { createRedisClient, redisServers, scanKeys } from '../../src/pipeline/redis-options.js';
import {
  batchesReceived,
  type Chaos,
  DELIVERY_PATHS,
  type Delivery,
  dashboardUrl,
  requestsInProgress,
  startChaos,
} from '../chaos/harness.js';
import type { ManagedProcess } from '../helpers/processes.js';
import { type PrivateRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';

const MAX_ITEMS = 20;
const PUSH_CONCURRENCY = 4;
const [, DIRECT] = DELIVERY_PATHS[1]!;

let cluster: PrivateRedisCluster;
let c: Chaos;
const workers: ManagedProcess[] = [];
/** Duplicate keys before the step under test, so each step answers for its own. */
let duplicatesBefore = new Set<string>();

beforeAll(async () => {
  cluster = await startRedisCluster();
  c = await startChaos({
    style: 'visit-table',
    seed: { lots: 5, visits: 120, photoRows: 0, days: 1, seed: 17 },
    redisUrl: cluster.url,
    config: {
      isp: { batch: { maxItems: MAX_ITEMS } },
      pipeline: { pushConcurrency: PUSH_CONCURRENCY },
      ...DIRECT,
    },
  });
}, 90_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await c?.close();
  await cluster?.close();
});

async function worker(name: string, options: { web?: boolean } = {}): Promise<ManagedProcess> {
  const child = await c.spawnWorker(name, options.web ? { args: [] } : {});
  workers.push(child);
  return child;
}

function duplicateKeys(delivery: Delivery): Set<string> {
  return new Set([
    ...delivery.entrances.duplicateKeys.map((k) => `entrance|${k}`),
    ...delivery.departures.duplicateKeys.map((k) => `departure|${k}`),
  ]);
}

function expectComplete(delivery: Delivery): void {
  for (const stream of [delivery.entrances, delivery.departures]) {
    expect(stream.received).toBeGreaterThan(0);
    expect(stream.missing).toEqual([]);
    expect(stream.unexpected).toEqual([]);
    expect(stream.mismatches).toEqual([]);
  }
}

describe.sequential('on a Redis Cluster', () => {
  it('checks every node at start, replicas too: one that may evict is refused by name', async () => {
    const client = createRedisClient(cluster.url, { maxRetriesPerRequest: 3 });
    const replica = (await cluster.roles()).find((r) => r.role === 'replica')!;
    try {
      await expect(checkRedis(client)).resolves.toBeUndefined();
      expect((await redisServers(client)).map((s) => s.name)).toHaveLength(6);
      await cluster.config(replica.port, 'maxmemory-policy', 'allkeys-lru');
      await expect(checkRedis(client)).rejects.toThrow(
        new RegExp(`node 127\\.0\\.0\\.1:${replica.port}\\) maxmemory-policy is "allkeys-lru"`),
      );
    } finally {
      await cluster.config(replica.port, 'maxmemory-policy', 'noeviction');
      client.disconnect();
    }
  });

  it('delivers every event once, with every key of the prefix in its hash tag slot', async () => {
    await worker('worker-1');
    const traffic = await c.traffic({ ratePerSecond: 15, durationMs: 3_000, photos: false });
    await traffic.done;
    const delivery = await c.waitDelivered(await c.expected(), 45_000);
    expectComplete(delivery);
    expect([...duplicateKeys(delivery)]).toEqual([]);
    expect(await c.failedPushJobs()).toEqual([]);

    // BullMQ's keys and ours, all on the master of the tag's slot and nowhere else.
    const owner = await cluster.ownerOf(c.prefix);
    const client = createRedisClient(cluster.url, { maxRetriesPerRequest: 3 });
    try {
      const byNode = new Map<number, string[]>();
      for await (const { client: node, keys } of scanKeys(client, `${c.prefix}*`)) {
        const port = Number(node.options.port);
        byNode.set(port, [...(byNode.get(port) ?? []), ...keys]);
      }
      expect([...byNode.keys()]).toEqual([owner.master.port]);
      const keys = byNode.get(owner.master.port)!;
      for (const part of [
        ':state:ledger:entrances',
        ':state:checkpoints',
        ':poll-entrances:',
        ':push-parks:',
      ])
        expect(
          keys.some((k) => k.includes(part)),
          part,
        ).toBe(true);
      // `status` finds the prefix when pointed at another (its SCAN runs on every master).
      expect(await prefixesInRedis(client)).toContain(c.prefix);
    } finally {
      client.disconnect();
    }
  }, 90_000);

  it('loses nothing when a worker is SIGKILLed mid-delivery and a new one starts', async () => {
    // Batches spend a second inside ISP: the kill finds some there.
    c.sim.patchFaults({ latencyMs: 1_000 });
    const traffic = await c.traffic({ ratePerSecond: 10, durationMs: 4_000, photos: false });
    const batchesBefore = batchesReceived(c.sim, 'entrance').length;
    await waitUntil(() => batchesReceived(c.sim, 'entrance').length > batchesBefore, 30_000, 'a new batch');
    await waitUntil(() => requestsInProgress(c.sim) >= 1, 20_000, 'a batch inside the simulator');
    await new Promise((r) => setTimeout(r, 100));
    const storedAtKill = {
      entrance: c.sim.state.store.count('entrance'),
      departure: c.sim.state.store.count('departure'),
    };
    expect((await workers[0]!.kill()).signal).toBe('SIGKILL');
    const restartAt = Date.now();
    await worker('worker-2', { web: true });
    await traffic.done;
    const delivery = await c.waitDelivered(await c.expected(), 60_000);

    // Records ISP stored after the kill from the killed worker's requests: its ledger never heard.
    const unanswered = new Set(
      (['entrance', 'departure'] as const).flatMap((kind) =>
        c.sim.state
          .received(kind, storedAtKill[kind], 1e7)
          .filter((e) => e.receivedAt <= restartAt)
          .map((e) => `${kind}|${e.key}`),
      ),
    );
    const duplicates = [...duplicateKeys(delivery)];
    console.info(
      `[redis-cluster sigkill] events: ${delivery.entrances.expected} entrances, ${delivery.departures.expected} ` +
        `departures; stored by ISP after the kill, unanswered: ${unanswered.size} records; ` +
        `duplicate keys: ${duplicates.length}`,
    );
    expectComplete(delivery);
    for (const key of duplicates) expect(unanswered).toContain(key);
    expect(await c.failedPushJobs()).toEqual([]);
    duplicatesBefore = new Set(duplicates);
  }, 90_000);

  // Under load this step once found the worker alive but fetching no poll job after the takeover:
  // ioredis dropped the promise of a Cluster reconnect whose ready check met cluster_state:fail,
  // and BullMQ awaited it (test/pipeline/redis-cluster-client.test.ts holds that window open).
  it("keeps delivering when the master of the prefix's slot is SIGKILLed and its replica takes over", async () => {
    c.sim.patchFaults({ latencyMs: 200 });
    const during = await c.traffic({ ratePerSecond: 15, durationMs: 7_000, photos: false });
    const batchesBefore = batchesReceived(c.sim, 'entrance').length;
    await waitUntil(
      () => batchesReceived(c.sim, 'entrance').length >= batchesBefore + 2,
      30_000,
      'new batches',
    );
    // Strike while a batch is inside ISP: its ledger write goes to the master about to die.
    await waitUntil(() => requestsInProgress(c.sim) >= 1, 20_000, 'a batch inside the simulator');
    const owner = await cluster.ownerOf(c.prefix);
    expect(owner.replicas.length).toBe(1);
    const killedAt = Date.now();
    await cluster.kill(owner.master.port);
    const promoted = await cluster.waitTakenOver(c.prefix, owner.master.port, 30_000);
    const tookOverAt = Date.now();
    expect(promoted).toBe(owner.replicas[0]!.port);
    await during.done;
    // Traffic of after the takeover, however long it took (on a loaded machine the first burst
    // may end before the replica serves): its entrances prove delivery goes on.
    const after = await c.traffic({ ratePerSecond: 15, durationMs: 3_000, photos: false });

    // Delivery goes on: an entrance that happened after the takeover reaches ISP.
    const resumedAt = await waitFor(
      () =>
        c.sim.state
          .received('entrance', 0, 1e7)
          .find(
            (e) => e.receivedAt > tookOverAt && Number(e.key.split('|').at(-1)) * 1000 >= tookOverAt - 1_000,
          )?.receivedAt,
      30_000,
      'an entrance of after the takeover at ISP',
    );
    await after.done;
    const delivery = await c.waitDelivered(await c.expected(), 60_000);
    const duplicates = [...duplicateKeys(delivery)].filter((k) => !duplicatesBefore.has(k));
    console.info(
      `[redis-cluster failover] events: ${delivery.entrances.expected} entrances, ${delivery.departures.expected} ` +
        `departures; master :${owner.master.port} killed, replica :${promoted} serving after ` +
        `${((tookOverAt - killedAt) / 1000).toFixed(1)} s; first new entrance at ISP ` +
        `${((resumedAt - tookOverAt) / 1000).toFixed(1)} s after; duplicate keys from the failover: ` +
        `${duplicates.length}${duplicates.length ? ` (${duplicates.slice(0, 5).join(', ')})` : ''}`,
    );
    expectComplete(delivery);
    // At most the batches in flight when the master died: one per push job and stream.
    expect(duplicates.length).toBeLessThanOrEqual(2 * PUSH_CONCURRENCY * MAX_ITEMS);
    expect(await c.failedPushJobs()).toEqual([]);
    // The worker rode it out: still running, and ready by its own account (Redis, state, polls).
    expect(workers[1]!.running()).toBe(true);
    const ready = await fetch(`${await dashboardUrl(workers[1]!)}/readyz`);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean; message?: string }> };
    expect(body.checks.redis).toEqual({ ok: true });
    expect(ready.status, JSON.stringify(body.checks)).toBe(200);
  }, 120_000);
});

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
