/**
 * Discarding failed jobs on an operator's word (`replay --discard --reason ...`): a failed push job
 * is an undelivered event, so each is written to the discard audit (src/state/discard-audit.ts)
 * before it is removed, and a job replayed meanwhile is left alone.
 */
import type { DiscardAudit, DiscardRecord } from '../state/discard-audit.js';
import { type FailedJobInfo, type FoundJob, ReplaySelectionError } from './replay.js';

export interface DiscardResult {
  discarded: Array<{ info: FailedJobInfo; auditId: string }>;
  errors: Array<{ info: FailedJobInfo; message: string }>;
}

/**
 * Removes the jobs on an operator's word. Each job is first written to the audit (so no job goes
 * without its record), then removed only if it is still failed (a job replayed meanwhile is left
 * alone). `log` is told of each one.
 */
export async function discardJobs(
  jobs: readonly FoundJob[],
  options: {
    reason: string;
    audit: DiscardAudit;
    operator?: string;
    now?: () => number;
    log?: (record: DiscardRecord) => void;
  },
): Promise<DiscardResult> {
  const reason = options.reason.trim();
  if (!reason) throw new ReplaySelectionError('--reason is required to discard failed jobs: say why');
  const result: DiscardResult = { discarded: [], errors: [] };
  for (const { job, info } of jobs) {
    try {
      const state = await job.getState();
      if (state !== 'failed') throw new Error(`it is ${state} now, not failed: left alone`);
      const record: DiscardRecord = {
        at: (options.now ?? Date.now)(),
        queue: info.queue,
        jobId: info.id,
        keys: info.keys,
        lots: info.lots,
        ispReason: info.reason,
        reason,
        ...(options.operator ? { operator: options.operator } : {}),
      };
      const auditId = await options.audit.add(record);
      await job.remove();
      options.log?.(record);
      result.discarded.push({ info, auditId });
    } catch (error) {
      result.errors.push({ info, message: (error as Error).message });
    }
  }
  return result;
}
