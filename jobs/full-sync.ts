/**
 * BullMQ processor of the full-sync queue (one job at a time across every process):
 * - `full-sync` (spec §3: every lot is pushed at 01:00): every lot and every current spot count is
 *   sent again, and lots that vanished are deleted. The nightly one then queues the reconcile of
 *   yesterday behind it;
 * - `reconcile`: the nightly reconcile of one day (src/pipeline/reconcile/nightly.ts).
 */
import type { Job } from 'bullmq';
import { pollLots } from '../src/pipeline/lots/poll.js';
import { lotPollDeps } from '../src/pipeline/lots/poll-deps.js';
import { runNightlyReconcile, yesterdayOf } from '../src/pipeline/reconcile/nightly.js';
import type { Runtime } from '../src/pipeline/runtime.js';

export interface FullSyncJobData {
  reason?: string;
  /** `reconcile` jobs: the vendor day to reconcile. */
  day?: string;
}

/** Name and id of the nightly reconcile job of a day (one per day, however often a sync runs). */
export const RECONCILE_JOB = 'reconcile';
export const reconcileJobId = (day: string) => `reconcile-${day}`;

export function fullSyncProcessor(rt: Runtime, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  return async (job: Job<FullSyncJobData>) => {
    if (job.name === RECONCILE_JOB) {
      const stored = await runNightlyReconcile(rt, { now, ...(job.data.day ? { day: job.data.day } : {}) });
      return { day: stored.day, complete: stored.complete, missing: stored.missingByStream };
    }
    const parks = await pollLots(lotPollDeps(rt, 'parks'), true);
    const spotNums = await pollLots(lotPollDeps(rt, 'spotNums'), true);
    rt.logger.info({ reason: job.data.reason, parks, spotNums }, 'full sync enqueued');
    if (job.data.reason === 'nightly') {
      // Behind the sync in the same queue (concurrency 1): yesterday, as the vendor's zone counts it.
      const day = yesterdayOf(now(), rt.config.vendor.timeZone);
      await rt.queues.fullSync.add(
        RECONCILE_JOB,
        { reason: 'nightly', day },
        { jobId: reconcileJobId(day), removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } },
      );
    }
    return { parks, spotNums };
  };
}
