/**
 * BullMQ processor of the nightly full sync (spec §3: every lot is pushed at 01:00): every lot and
 * every current spot count is sent again, and lots that vanished are deleted.
 */
import type { Job } from 'bullmq';
import { pollState } from '../src/pipeline/lots/lot-streams.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { statePollDeps } from '../src/pipeline/wiring.js';

export function fullSyncProcessor(rt: Runtime) {
  return async (job: Job<{ reason?: string }>) => {
    const parks = await pollState(statePollDeps(rt, 'parks'), true);
    const spotNums = await pollState(statePollDeps(rt, 'spotNums'), true);
    rt.logger.info({ reason: job.data.reason, parks, spotNums }, 'full sync enqueued');
    return { parks, spotNums };
  };
}
