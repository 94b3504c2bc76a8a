/**
 * The push queues' one job format, every push job id, and the one way to add push jobs
 * (`enqueuePush`). Nothing else builds a push job or its id.
 *
 * Ids are deterministic and free of ":" (BullMQ's separator): the same vendor rows always give the
 * same id, so a poll repeated after a crash adds nothing while the first jobs still exist (after
 * they are trimmed, the delivered-key ledger is what stops a second delivery).
 *
 * Jobs outlive upgrades (the failed set is replayed weeks later), so `readPushJob` also reads the
 * formats of earlier versions: records with a `draft` object instead of a serialized payload, the
 * lot job kind `state`, and `force` for `resend`.
 */
import type { Queue } from 'bullmq';
import type { Cursor } from '../config/vendor-rows.js';
import type { EventRecord } from './events/records.js';
import { PUSH_ATTEMPTS, pushQueueName, type Queues } from './queues.js';
import type { EventStreamName, LotStreamName, StreamName } from './streams.js';

export interface EventsJobData {
  kind: 'events';
  stream: EventStreamName;
  records: EventRecord[];
  /** Send even what the ledger has (the operator's `replay --force`). */
  resend?: boolean;
  /** Rejections of this batch so far (code 1). */
  rejections?: number;
  /** A single record ISP rejected: parked in the failed set until replayed. */
  isolated?: { message: string; parked?: boolean };
  /** Ledger keys of records this job's split has isolated already (not sent again on a retry). */
  isolatedKeys?: string[];
  /** The job's batch was refused and is being split: a retry sends each record alone at once. */
  splitting?: boolean;
  /** Start of the current run of failures (ms): retrying stops `retryForMs` after it. */
  failingSince?: number;
  /** Delivery gave up on the job once (it went to the failed set): a later run is a replay. */
  gaveUp?: boolean;
}

export interface LotsJobData {
  kind: 'lots';
  stream: LotStreamName;
  rejections?: number;
  failingSince?: number;
  /**
   * A single lot ISP refused (`action` upsert), or its DELETE (`delete`). A replay sends the lot's
   * state as it is then, never the snapshot here.
   */
  isolated?: {
    message: string;
    parked?: boolean;
    item: { code: string; payload: Record<string, unknown> };
    action?: 'upsert' | 'delete';
  };
}

export type PushJobData = EventsJobData | LotsJobData;

/** Why a push job exists; it names the job (`entrances`, `entrances-backfill`, ...). */
export type PushOrigin = 'poll' | 'backfill' | 'rejected' | 'quarantine' | 'flush' | 'released';

export interface PushJob {
  id: string;
  data: PushJobData;
}

function idPart(value: string): string {
  return value.replace(/[^A-Za-z0-9_]/g, '');
}

function cursorPart(cursor: Cursor): string {
  return `${idPart(cursor.time)}_${idPart(cursor.id)}`;
}

export const pushJobIds = {
  /** A poll's (or a backfill's) job, named after its first and last vendor row. */
  page(stream: EventStreamName, origin: 'poll' | 'backfill', first: Cursor, last: Cursor): string {
    const name = `${stream}-${cursorPart(first)}-${cursorPart(last)}`;
    return origin === 'backfill' ? `backfill-${name}` : name;
  },
  /** A record or lot ISP rejected, split off the job that carried it. */
  isolated(parentId: string, key: string): string {
    return `${parentId}-rejected-${idPart(key)}`;
  },
  /** A quarantined row re-driven by an operator: two operators re-driving it at once add one job. */
  quarantine(stream: StreamName, vendorKey: string, quarantinedAt: number): string {
    return `quarantine-${stream}-${idPart(vendorKey)}-${quarantinedAt}`;
  },
  /** The events held for a lot, released once ISP registered it. */
  released(stream: EventStreamName, lot: string, at: number): string {
    return `released-${stream}-${idPart(lot)}-${at}`;
  },
  /** A live poll's page (not a backfill, a re-driven or released row, or a record split off). */
  isLivePage(stream: EventStreamName, id: string): boolean {
    return id.startsWith(`${stream}-`) && !id.includes('-rejected-');
  },
  /** The one pending flush of a lot stream (deduplicated while it waits). */
  flush(stream: LotStreamName): string {
    return `${stream}-flush`;
  },
};

export function pushJobOptions() {
  return { attempts: PUSH_ATTEMPTS, backoff: { type: 'isp' } };
}

/** Adds push jobs to their stream's queue. A job whose id exists already is not added again. */
export async function enqueuePush(
  queues: Record<StreamName, Queue>,
  stream: StreamName,
  origin: PushOrigin,
  jobs: readonly PushJob[],
): Promise<void> {
  if (jobs.length === 0) return;
  const name = origin === 'poll' ? stream : `${stream}-${origin}`;
  await queues[stream].addBulk(
    jobs.map((job) => ({
      name,
      data: job.data,
      // A flush is deduplicated rather than named: its id is free again as soon as it runs.
      opts:
        origin === 'flush'
          ? { deduplication: { id: job.id }, ...pushJobOptions() }
          : { jobId: job.id, ...pushJobOptions() },
    })),
  );
}

/**
 * Adds the events held for a lot, released now that ISP registered it. Entrances and departures
 * held together go as a flow: the departures' job waits for the entrances' job to complete (and
 * keeps waiting while it sits in the failed set), so no departure overtakes its entrance.
 */
export async function enqueueReleased(
  queues: Queues,
  lot: string,
  held: { entrances: EventRecord[]; departures: EventRecord[] },
  at: number,
): Promise<void> {
  const job = (stream: EventStreamName, records: EventRecord[]) => ({
    name: `${stream}-released`,
    queueName: pushQueueName(stream),
    data: { kind: 'events', stream, records } satisfies EventsJobData,
    opts: { ...queues.jobDefaults, jobId: pushJobIds.released(stream, lot, at), ...pushJobOptions() },
  });
  const { entrances, departures } = held;
  if (entrances.length && departures.length) {
    await queues.flows().add({ ...job('departures', departures), children: [job('entrances', entrances)] });
    return;
  }
  for (const [stream, records] of [
    ['entrances', entrances],
    ['departures', departures],
  ] as const) {
    if (records.length)
      await enqueuePush(queues.push, stream, 'released', [
        { id: pushJobIds.released(stream, lot, at), data: { kind: 'events', stream, records } },
      ]);
  }
}

/**
 * A run of this job delivers replayed records: it is an operator's resend, or it is back from the
 * failed set (a record parked there alone, or a job delivery gave up on), whether by `replay` or
 * the dashboard's retry.
 */
export function isReplayRun(data: EventsJobData): boolean {
  return data.resend === true || data.isolated?.parked === true || data.gaveUp === true;
}

/** A push job's data in today's format, whichever version enqueued it; undefined: not a push job. */
export function readPushJob(data: unknown): PushJobData | undefined {
  if (!isObject(data) || typeof data.stream !== 'string') return undefined;
  const { force, ...rest } = data;
  const resend = force === true || data.resend === true;
  if (data.kind === 'events' && Array.isArray(data.records)) {
    const { resend: _r, ...base } = rest;
    return {
      ...(base as Omit<EventsJobData, 'records'>),
      records: data.records.map(recordOf),
      ...(resend ? { resend: true } : {}),
    };
  }
  if (data.kind === 'lots' || data.kind === 'state')
    return { ...(rest as Omit<LotsJobData, 'kind'>), kind: 'lots' };
  return undefined;
}

/** A push record as enqueued before 2026-11-29: the payload as an object. */
interface LegacyEventRecord {
  key: string;
  time: number;
  vendorKey: string;
  draft: Record<string, unknown>;
}

function recordOf(record: EventRecord | LegacyEventRecord): EventRecord {
  if (!('draft' in record)) return record;
  const { draft, ...rest } = record;
  const { enter_pic: _e, depart_pic: _d, ...payload } = draft;
  return { ...rest, lot: String(draft.park_code), payload: JSON.stringify(payload) };
}

/** The lot codes a push job is about (the failed-set view, replay by lot). */
export function jobLots(job: PushJobData): string[] {
  if (job.kind === 'lots') return job.isolated ? [job.isolated.item.code] : [];
  return [...new Set(job.records.map((r) => r.lot))].sort();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
