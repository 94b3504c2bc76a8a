/**
 * Refreshes the `isp_sync_queue_depth{queue,state}` gauge from BullMQ just before /metrics is
 * served (a scrape then sees current depths without a background timer). Reads job counts only;
 * never changes a queue. When Redis does not answer, the gauge is emptied rather than left stale,
 * so an alert on the missing series fires instead of one on old numbers.
 */
import type { Queue } from 'bullmq';
import { queueDepth } from '../metrics.js';

export const DEPTH_STATES = [
  'wait',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

export async function refreshQueueDepth(queues: Queue[], timeoutMs = 3_000): Promise<void> {
  try {
    const counts = await withTimeout(
      Promise.all(queues.map((q) => q.getJobCounts(...DEPTH_STATES))),
      timeoutMs,
      'queue counts',
    );
    queues.forEach((queue, i) => {
      for (const state of DEPTH_STATES) queueDepth.set({ queue: queue.name, state }, counts[i]?.[state] ?? 0);
    });
  } catch (error) {
    queueDepth.reset();
    throw error;
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
