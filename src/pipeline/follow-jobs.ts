/**
 * Follows jobs an operator put back to work (a replay, a backfill) until each is completed, failed
 * or gone, and sums up what they did.
 */
import type { JobType, Queue } from 'bullmq';

/** Where a followed job ended. */
export interface JobEnd {
  queue: string;
  id: string;
  state: 'completed' | 'failed' | 'gone';
  /** The processor's return value (push jobs: delivered, skipped, quarantined, isolated). */
  result?: Record<string, unknown>;
  reason?: string;
}

export interface JobTally {
  jobs: { completed: number; failed: number; gone: number; pending: number };
  /** Sums of the push results of completed jobs. */
  delivered: number;
  /** Records the ledger said ISP already had. */
  skipped: number;
  quarantined: number;
  /** Records ISP rejected, now in failed jobs of their own. */
  isolated: number;
}

const FINISHED: JobType[] = ['completed', 'failed'];

/**
 * Follows jobs until each is completed, failed or gone, calling `onTick` with the tally so far.
 * Stops early when `signal` aborts (the jobs carry on; only the following stops).
 */
export async function waitForJobs(
  jobs: ReadonlyArray<{ queue: Queue; id: string }>,
  options: {
    everyMs?: number;
    onTick?: (tally: JobTally) => void;
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<{ ends: JobEnd[]; tally: JobTally }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const ends = new Map<string, JobEnd>();
  const key = (j: { queue: Queue; id: string }) => `${j.queue.name}/${j.id}`;
  for (;;) {
    for (const j of jobs) {
      if (ends.has(key(j))) continue;
      const state = await j.queue.getJobState(j.id);
      if (state === 'unknown') ends.set(key(j), { queue: j.queue.name, id: j.id, state: 'gone' });
      else if (FINISHED.includes(state as JobType)) {
        const job = await j.queue.getJob(j.id);
        const end: JobEnd = { queue: j.queue.name, id: j.id, state: state as 'completed' | 'failed' };
        if (job?.returnvalue && typeof job.returnvalue === 'object') end.result = job.returnvalue;
        if (job?.failedReason) end.reason = job.failedReason;
        ends.set(key(j), end);
      }
    }
    const tally = tallyOf([...ends.values()], jobs.length);
    options.onTick?.(tally);
    if (ends.size >= jobs.length || options.signal?.aborted) return { ends: [...ends.values()], tally };
    await sleep(options.everyMs ?? 500);
  }
}

export function tallyOf(ends: readonly JobEnd[], total: number): JobTally {
  const tally: JobTally = {
    jobs: { completed: 0, failed: 0, gone: 0, pending: total - ends.length },
    delivered: 0,
    skipped: 0,
    quarantined: 0,
    isolated: 0,
  };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (const end of ends) {
    tally.jobs[end.state]++;
    if (end.state !== 'completed' || !end.result) continue;
    // Event pushes report `delivered`; a replayed isolated lot reports `sent`.
    tally.delivered += num(end.result.delivered) + num(end.result.sent);
    tally.skipped += num(end.result.skipped);
    tally.quarantined += num(end.result.quarantined);
    tally.isolated += num(end.result.isolated);
  }
  return tally;
}
