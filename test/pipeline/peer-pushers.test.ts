/**
 * PeerPushers on real Redis: the named Workers of other processes on a queue are counted, this
 * process's own are not, an unnamed Worker (an older version) is; answers are kept for the TTL.
 */
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { otherWorkers, PeerPushers } from '../../src/pipeline/peer-pushers.js';
import { redisOptions } from '../../src/pipeline/queues.js';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../helpers/services.js';

let redis: TestRedis | undefined;
const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.allSettled(closing.splice(0).map((c) => c.close()));
  await redis?.cleanup();
  redis = undefined;
});

describe('otherWorkers', () => {
  it('counts every worker connection not named for this process', () => {
    const clients = [
      { rawname: '{p}:cHVzaA==:w:host-a:1' },
      { rawname: '{p}:cHVzaA==:w:host-b:2' },
      { rawname: '{p}:cHVzaA==' },
      // BullMQ's placeholder where CLIENT LIST is refused: no connection, no worker.
      { name: 'GCP does not support client list' },
    ];
    expect(otherWorkers(clients, 'host-a:1')).toBe(2);
    expect(otherWorkers(clients, 'host-c:3')).toBe(3);
    // A name that merely ends like ours is someone else's.
    expect(otherWorkers([{ rawname: '{p}:cHVzaA==:w:xhost-a:1' }], 'host-a:1')).toBe(1);
  });
});

describe('PeerPushers', () => {
  it('counts the other processes’ workers on a queue, and keeps the answer for its TTL', async () => {
    redis = await createTestRedis('peers');
    const connection = redisOptions(TEST_REDIS_URL, { maxRetriesPerRequest: null }) as ConnectionOptions;
    const prefix = redis.prefix;
    const queue = new Queue('push-entrances', { connection, prefix });
    closing.push(queue);
    const worker = (name?: string, queueName = 'push-entrances') => {
      const w = new Worker(queueName, async () => undefined, {
        connection,
        prefix,
        ...(name ? { name } : {}),
      });
      closing.push(w);
      return w.waitUntilReady();
    };
    let clock = 0;
    const peers = new PeerPushers('host-a:1', { ttlMs: 5_000, now: () => clock });
    await worker('host-a:1');
    // Another queue's workers are not this queue's pushers.
    await worker('host-b:2', 'push-departures');
    expect(await peers.count(queue)).toBe(0);

    await worker('host-b:2');
    // Within the TTL: the answer kept (no CLIENT LIST per page).
    clock += 4_999;
    expect(await peers.count(queue)).toBe(0);
    clock += 1;
    expect(await peers.count(queue)).toBe(1);

    await worker();
    clock += 5_000;
    expect(await peers.count(queue)).toBe(2);
  });
});
