/**
 * Refreshes the `isp_sync_queue_depth{source,queue,state}` gauge from BullMQ just before /metrics
 * is served (a scrape then sees current depths without a background timer). Reads job counts only;
 * never changes a queue. When Redis does not answer, the source's series are removed rather than
 * left stale, so an alert on the missing series fires instead of one on old numbers; other
 * sources' series stay (their queues may well have answered).
 */
import type { Queue } from 'bullmq';
import { showQueueDepth } from '../metrics.js';

export const DEPTH_STATES = [
  'wait',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

/** `source`: whose queues these are (config.source.name), the series' `source` label. */
export async function refreshQueueDepth(source: string, queues: Queue[], timeoutMs = 3_000): Promise<void> {
  try {
    const counts = await withTimeout(
      Promise.all(queues.map((q) => q.getJobCounts(...DEPTH_STATES))),
      timeoutMs,
      'queue counts',
    );
    showQueueDepth(
      source,
      queues.flatMap((queue, i) =>
        DEPTH_STATES.map((state) => ({
          labels: { queue: queue.name, state },
          value: counts[i]?.[state] ?? 0,
        })),
      ),
    );
  } catch (error) {
    showQueueDepth(source, []);
    throw error;
  }
}

/** A source no longer running here: its series go (its queues are not counted any more). */
export function forgetQueueDepth(source: string): void {
  showQueueDepth(source, []);
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
