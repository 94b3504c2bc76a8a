/**
 * Our Redis Cluster client (src/pipeline/redis-options.ts) through a failover, on a private cluster
 * (test/helpers/redis-cluster.ts). BullMQ resets a blocking connection by disconnecting it and
 * awaiting `connect()`; that promise must settle even when the reconnect meets a cluster that is
 * failing over (`cluster_state:fail`), or the worker behind it stops fetching jobs for good. The
 * window is held open on purpose: the replica may not take over until the test allows it.
 */
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterReady, connectRedis, redisOptions } from '../../src/pipeline/redis-options.js';
import { type PrivateRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { uniqueName } from '../helpers/services.js';

let cluster: PrivateRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

async function onNode<T>(port: number, run: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    return await run(node);
  } finally {
    node.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves to 'settled' or 'pending' after `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms)),
  ]);
}

describe('a Redis Cluster client through a failover', () => {
  it('settles connect() made while the cluster is failing over, and serves the slot once a replica took over', async () => {
    const key = `{${uniqueName('failover')}}:probe`;
    // As BullMQ makes a worker's connections: commands wait (no retry limit) instead of failing.
    const client = connectRedis(redisOptions(cluster.url, { maxRetriesPerRequest: null })) as Cluster;
    client.on('error', () => undefined);
    try {
      await clusterReady(client);
      await client.set(key, 'before');
      const owner = await cluster.ownerOf(key);
      const replica = owner.replicas[0]!;
      const other = cluster.nodes.find((n) => n.port !== owner.master.port && n.port !== replica.port)!;

      // The master dies and its replica is held back: the cluster says fail until released.
      await onNode(replica.port, (n) => n.config('SET', 'cluster-replica-no-failover', 'yes'));
      await cluster.kill(owner.master.port);
      await until(
        'cluster_state:fail',
        () => onNode(other.port, async (n) => String(await n.cluster('INFO')).includes('cluster_state:fail')),
        20_000,
      );

      // What BullMQ does to a blocking connection whose command a watchdog gave up on.
      const ended = new Promise((r) => client.once('end', r));
      client.disconnect();
      await ended;
      const connected = client.connect();
      // With the cluster's ready check on, this promise was dropped by the first failed check.
      expect(await settlesWithin(connected, 10_000)).toBe('settled');
      await expect(connected).resolves.toBeUndefined();

      await onNode(replica.port, (n) => n.config('SET', 'cluster-replica-no-failover', 'no'));
      expect(await cluster.waitTakenOver(key, owner.master.port, 30_000)).toBe(replica.port);
      // The same client finds the promoted master: the write before the kill and a new one.
      expect(await client.get(key)).toBe('before');
      await client.set(key, 'after');
      expect(await onNode(replica.port, (n) => n.get(key))).toBe('after');
    } finally {
      client.disconnect();
    }
  }, 90_000);
});
