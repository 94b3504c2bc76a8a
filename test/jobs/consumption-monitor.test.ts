/**
 * The consumption monitor behind /readyz `workers` (jobs/consumption-monitor.ts), on real BullMQ
 * queues and workers over the test Redis: a worker that takes no job while one is due is reported,
 * whether the job waits or sits in the delayed set past its due time (how a poll's next run looks
 * when its worker's fetch loop is stuck); a delayed job not yet due is not.
 */
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumptionMonitor } from '../../jobs/consumption-monitor.js';
import { redisOptions } from '../../src/pipeline/redis-options.js';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../helpers/services.js';

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closing.length) await closing.pop()!();
});

async function stage(): Promise<{ redis: TestRedis; queue: Queue; worker: Worker; release: () => void }> {
  const redis = await createTestRedis('consume');
  closing.push(() => redis.cleanup());
  const connection = redisOptions(TEST_REDIS_URL, { maxRetriesPerRequest: null }) as ConnectionOptions;
  const queue = new Queue('poll-entrances', { connection, prefix: redis.prefix });
  closing.push(() => queue.close());
  const gates: Array<() => void> = [];
  // One job at a time, as a poll runs; a job named `hold` keeps the worker busy until released.
  const worker = new Worker(
    'poll-entrances',
    (job) => (job.name === 'hold' ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve()),
    { connection, prefix: redis.prefix, concurrency: 1, drainDelay: 1 },
  );
  closing.push(() => worker.close(true));
  await worker.waitUntilReady();
  return { redis, queue, worker, release: () => gates.shift()?.() };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Gives the worker a job it holds until released: it takes no other meanwhile. */
async function holdWorker(queue: Queue): Promise<void> {
  await queue.add('hold', {});
  await until(async () => (await queue.getActiveCount()) === 1, 5_000, 'the held job to be active');
}

describe('ConsumptionMonitor', () => {
  it('reports a worker that leaves a delayed job past its due time, and clears once it takes it', async () => {
    const { queue, worker, release } = await stage();
    const monitor = new ConsumptionMonitor([{ worker, queue, thresholdMs: 300 }]);
    await holdWorker(queue);
    // The next run, due in 50 ms: the busy worker does not take it, so it stays delayed.
    await queue.add('next', {}, { delay: 50 });
    expect((await monitor.check()).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
    expect(await queue.getDelayedCount()).toBe(1);
    const stuck = await monitor.check();
    expect(stuck.ok).toBe(false);
    const [health] = stuck.details.workers as Array<{ queue: string; oldestWaitingAgeSeconds: number }>;
    expect(health).toMatchObject({ queue: 'poll-entrances', running: true, lastFinishedAt: null });
    expect(health!.oldestWaitingAgeSeconds).toBeGreaterThanOrEqual(1);

    release();
    await until(async () => (await queue.getCompletedCount()) === 2, 5_000, 'both jobs to complete');
    expect((await monitor.check()).ok).toBe(true);
  });

  it('does not report a delayed job that is not yet due (a backoff, a poll’s next run)', async () => {
    const { queue, worker } = await stage();
    const monitor = new ConsumptionMonitor([{ worker, queue, thresholdMs: 300 }]);
    await queue.add('later', {}, { delay: 60_000 });
    await new Promise((r) => setTimeout(r, 700));
    const check = await monitor.check();
    expect(check.ok).toBe(true);
    expect(check.details.workers).toEqual([expect.objectContaining({ oldestWaitingAgeSeconds: null })]);
  });

  it('does not report a queue that pauses on purpose (rate-limited while ISP is down)', async () => {
    const { queue, worker, release } = await stage();
    const monitor = new ConsumptionMonitor([{ worker, queue, thresholdMs: 300 }]);
    await holdWorker(queue);
    await queue.add('due', {}, { delay: 50 });
    await queue.rateLimit(60_000);
    await new Promise((r) => setTimeout(r, 700));
    const paused = await monitor.check();
    expect(paused.ok).toBe(true);
    expect(paused.details.workers).toEqual([expect.objectContaining({ rateLimited: true })]);
    // The pause over, the same overdue job with nothing taken is reported.
    await queue.removeRateLimitKey();
    expect(await monitor.check()).toMatchObject({ ok: false });
    release();
  });
});
