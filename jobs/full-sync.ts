/**
 * BullMQ processor of the nightly full sync (spec §3: every lot is pushed at 01:00): every lot and
 * every current spot count is sent again, and lots that vanished are deleted.
 */
import type { Job } from 'bullmq';
import { pollLots } from '../src/pipeline/lots/poll.js';
import { lotPollDeps } from '../src/pipeline/lots/poll-deps.js';
import type { Runtime } from '../src/pipeline/runtime.js';

export function fullSyncProcessor(rt: Runtime) {
  return async (job: Job<{ reason?: string }>) => {
    const parks = await pollLots(lotPollDeps(rt, 'parks'), true);
    const spotNums = await pollLots(lotPollDeps(rt, 'spotNums'), true);
    rt.logger.info({ reason: job.data.reason, parks, spotNums }, 'full sync enqueued');
    return { parks, spotNums };
  };
}
