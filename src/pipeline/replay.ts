/**
 * Replay of failed jobs: finds the jobs in the failed sets that an operator's filter selects (queue,
 * failure time, job id, lot, plate, event time) and moves them back to waiting with BullMQ's
 * `job.retry('failed')`, after setting (or clearing) `resend` in the data of event push jobs.
 * Discarding (discard.ts) and following re-enqueued jobs until done (follow-jobs.ts) use the same
 * selection.
 *
 * Owns the selection rules and the retry. Must not send anything itself (the workers
 * do, with the ledger check of src/pipeline/events/push.ts) and never touches the ledger, the
 * checkpoints or the vendor DB.
 */
import type { Job, Queue } from 'bullmq';
import { STREAM_NAMES, type StreamName } from '../config/index.js';
import { jobLots, readPushJob } from './push-queue.js';
import { FULL_SYNC_QUEUE, pollQueueName, pushQueueName } from './queues.js';

/** What the operator sees of one failed job. */
export interface FailedJobInfo {
  queue: string;
  id: string;
  name: string;
  /** When it failed (BullMQ's finishedOn), epoch ms. */
  failedAt: number | undefined;
  /** BullMQ's failedReason (ISP's message for a rejected record). */
  reason: string;
  /** Park codes of the job's records (events) or of its lot (an isolated lot). */
  lots: string[];
  /** Records carried (events), 1 for an isolated lot, 0 otherwise. */
  records: number;
  kind: 'events' | 'lots' | 'other';
  /** A single record or lot ISP rejected, parked by a split. */
  isolated: boolean;
  /** The job sends its records even if the ledger says ISP has them (`replay --force`). */
  resend: boolean;
  /** Plates of the job's records (events). */
  plates: string[];
  /** Event times of the job's records, Unix s: earliest and latest (events); null otherwise. */
  eventTimes: { first: number; last: number } | null;
  /** Natural keys of the records (`park|plate|time`), or the lot code of an isolated lot. */
  keys: string[];
}

export interface ReplayFilter {
  /** Queue names to look in. */
  queues: readonly string[];
  /** Failed at or after this, epoch ms. */
  since?: number | undefined;
  /** Failed before this, epoch ms. */
  until?: number | undefined;
  /** Only these job ids. */
  jobIds?: readonly string[] | undefined;
  /** Only jobs with a record of this park code. */
  lot?: string | undefined;
  /** Only jobs with a record of this plate (compared without spaces, case-insensitive). */
  plate?: string | undefined;
  /** Only jobs with a record whose event time is at or after this, Unix s. */
  eventFrom?: number | undefined;
  /** Only jobs with a record whose event time is before this, Unix s. */
  eventTo?: number | undefined;
}

/** Queues replayed when none is named: the push queues and the full sync (a failed poll is simply redone by the next scheduled one). */
export const DEFAULT_REPLAY_QUEUES: readonly string[] = [...STREAM_NAMES.map(pushQueueName), FULL_SYNC_QUEUE];

export const REPLAYABLE_QUEUES: readonly string[] = [
  ...STREAM_NAMES.map(pushQueueName),
  ...STREAM_NAMES.map(pollQueueName),
  FULL_SYNC_QUEUE,
];

/** An operator's selection names something that does not exist. */
export class ReplaySelectionError extends Error {
  override readonly name = 'ReplaySelectionError';
}

/**
 * The queues a `--queue`/`--stream` selection names (both may repeat); the default set without
 * either. `--stream entrances` means the push queue of that stream.
 */
export function queuesToSearch(options: {
  queues?: readonly string[];
  streams?: readonly string[];
}): string[] {
  const out = new Set<string>();
  for (const q of options.queues ?? []) {
    if (!REPLAYABLE_QUEUES.includes(q))
      throw new ReplaySelectionError(`unknown queue "${q}"; use one of ${REPLAYABLE_QUEUES.join(', ')}`);
    out.add(q);
  }
  for (const s of options.streams ?? []) {
    if (!(STREAM_NAMES as readonly string[]).includes(s))
      throw new ReplaySelectionError(`unknown stream "${s}"; use one of ${STREAM_NAMES.join(', ')}`);
    out.add(pushQueueName(s as StreamName));
  }
  return out.size ? [...out] : [...DEFAULT_REPLAY_QUEUES];
}

interface JobLike {
  id?: string | undefined;
  name: string;
  data: unknown;
  finishedOn?: number | undefined;
  failedReason?: string | undefined;
}

/** The operator's view of a job (pure: reads only the job's fields). */
export function describeFailedJob(queue: string, job: JobLike): FailedJobInfo {
  const data = readPushJob(job.data);
  const records = data?.kind === 'events' ? data.records : [];
  const plates = new Set<string>();
  const keys: string[] = [];
  for (const record of records) {
    // The ledger key is the natural key and the vendor row id (`park|plate|time#id`).
    keys.push(record.key.split('#')[0] ?? record.key);
    const plate = plateOf(record.payload);
    if (plate !== undefined) plates.add(plate);
  }
  if (data?.kind === 'lots' && data.isolated) keys.push(data.isolated.item.code);
  const times = records.map((r) => r.time);
  return {
    plates: [...plates].sort(),
    eventTimes: times.length ? { first: Math.min(...times), last: Math.max(...times) } : null,
    keys,
    queue,
    id: String(job.id),
    name: job.name,
    failedAt: job.finishedOn ?? undefined,
    reason: job.failedReason ?? '',
    lots: data ? jobLots(data) : [],
    records: data?.kind === 'events' ? data.records.length : data?.isolated ? 1 : 0,
    kind: data?.kind ?? 'other',
    isolated: data?.isolated !== undefined,
    resend: data?.kind === 'events' && data.resend === true,
  };
}

export function matchesFilter(info: FailedJobInfo, filter: ReplayFilter): boolean {
  if (!filter.queues.includes(info.queue)) return false;
  if (filter.jobIds?.length && !filter.jobIds.includes(info.id)) return false;
  if (filter.since !== undefined && (info.failedAt === undefined || info.failedAt < filter.since))
    return false;
  if (filter.until !== undefined && (info.failedAt === undefined || info.failedAt >= filter.until))
    return false;
  if (filter.lot !== undefined && !info.lots.includes(filter.lot)) return false;
  if (filter.plate !== undefined) {
    const want = normalPlate(filter.plate);
    if (!info.plates.some((p) => normalPlate(p) === want)) return false;
  }
  if (filter.eventFrom !== undefined || filter.eventTo !== undefined) {
    if (!info.eventTimes) return false;
    const from = filter.eventFrom ?? Number.NEGATIVE_INFINITY;
    const to = filter.eventTo ?? Number.POSITIVE_INFINITY;
    // Some record of the job lies in [from, to).
    if (info.eventTimes.last < from || info.eventTimes.first >= to) return false;
  }
  return true;
}

function normalPlate(plate: string): string {
  return plate.replace(/\s+/g, '').toUpperCase();
}

function plateOf(payload: string): string | undefined {
  try {
    const plate = (JSON.parse(payload) as { plate_number?: unknown }).plate_number;
    return typeof plate === 'string' ? plate : undefined;
  } catch {
    return undefined;
  }
}

export interface FoundJob {
  info: FailedJobInfo;
  job: Job;
}

export interface FindResult {
  found: FoundJob[];
  /** Named jobs (`--job`) that exist but are not failed, or do not exist: said to the operator. */
  notes: string[];
}

/**
 * The failed jobs the filter selects, newest failure first. Named job ids are fetched directly;
 * otherwise each queue's failed set is read in pages.
 */
export async function findFailedJobs(
  queues: readonly Queue[],
  filter: ReplayFilter,
  pageSize = 500,
): Promise<FindResult> {
  const found: FoundJob[] = [];
  const notes: string[] = [];
  const searched = queues.filter((q) => filter.queues.includes(q.name));
  if (filter.jobIds?.length) {
    for (const id of filter.jobIds) {
      let seen = false;
      for (const queue of searched) {
        const job = await queue.getJob(id);
        if (!job) continue;
        seen = true;
        const state = await job.getState();
        if (state !== 'failed') {
          notes.push(`job ${id} in ${queue.name} is ${state}, not failed: left alone`);
          continue;
        }
        const info = describeFailedJob(queue.name, job);
        if (matchesFilter(info, filter)) found.push({ info, job });
      }
      if (!seen) notes.push(`job ${id} is not in ${searched.map((q) => q.name).join(', ')}`);
    }
  } else {
    for (const queue of searched) {
      for (let start = 0; ; start += pageSize) {
        const jobs = await queue.getFailed(start, start + pageSize - 1);
        for (const job of jobs) {
          if (!job) continue;
          const info = describeFailedJob(queue.name, job);
          if (matchesFilter(info, filter)) found.push({ info, job });
        }
        if (jobs.length < pageSize) break;
      }
    }
  }
  found.sort((a, b) => (b.info.failedAt ?? 0) - (a.info.failedAt ?? 0));
  return { found, notes };
}

export interface ReplayResult {
  /** Jobs moved back to waiting. */
  replayed: FoundJob[];
  /** Jobs that could not be moved (gone, locked, or already moved by someone else). */
  errors: Array<{ info: FailedJobInfo; message: string }>;
}

/**
 * Moves the jobs back to waiting. Event push jobs get `resend` with `force` (the ledger check is
 * skipped: ISP gets the records again even if it has them) and lose an earlier resend without it. The data is updated before the retry, so no worker can take the job without it.
 */
export async function replayJobs(
  jobs: readonly FoundJob[],
  options: { resend: boolean },
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], errors: [] };
  for (const found of jobs) {
    const { job, info } = found;
    try {
      const data = readPushJob(job.data);
      if (data?.kind === 'events' && info.resend !== options.resend) {
        const { resend: _, ...rest } = data;
        await job.updateData(options.resend ? { ...rest, resend: true } : rest);
      }
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      result.replayed.push(found);
    } catch (error) {
      result.errors.push({ info, message: (error as Error).message });
    }
  }
  return result;
}
