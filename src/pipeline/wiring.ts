/**
 * Connects the pure pipeline steps (poll-events, push-events, state-streams) to the real parts of a
 * Runtime: vendor reads, transforms, ISP sends, ledger, quarantine and progress bookkeeping.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import type { EventStreamName } from '../config/index.js';
import { utf8Bound } from '../isp/batches.js';
import type { BatchResult } from '../isp/index.js';
import { departureKey, entranceKey } from '../isp-spec/index.js';
import { directHandOffs, eventsDelivered } from '../metrics.js';
import {
  transformDeparture,
  transformEntrance,
  transformPark,
  transformSpotNum,
} from '../transform/index.js';
import { photoToWire } from '../transform/photo/index.js';
import { fetchPhotos, readEventPage, readParks, readSpotNums, readVendorNow } from '../vendor-db/index.js';
import type { Cursor, RawDeparture, RawEntrance, RawPark, RawSpotNum } from '../vendor-db/rows.js';
import { vendorTimeOf } from '../vendor-db/zone.js';
import { PhotoUnavailableError } from './errors.js';
import { deliverDirect, Lanes } from './events/direct-delivery.js';
import { GATE_NOT_STARTED, type PollEventsDeps, type PushJobSpec, type RowOutcome } from './events/poll.js';
import {
  type EventRecord,
  type PreparedRecord,
  type PushEventsDeps,
  pushEvents,
  type SendOutcome,
  withPhoto,
} from './events/push.js';
import { isolatedJobId } from './job-ids.js';
import type { StateFlushDeps, StatePollDeps, StateRowOutcome, StateStream } from './lots/lot-streams.js';
import { PUSH_ATTEMPTS, pendingDepth } from './queues.js';
import type { Runtime } from './runtime.js';

/** Job attempts that wait for a photo that may come back before sending the event without it. */
const PHOTO_RETRIES = 3;

/** Data of a push job. */
export type PushJobData =
  | {
      kind: 'events';
      stream: EventStreamName;
      records: Array<EventRecord | LegacyEventRecord>;
      /** Send even what the ledger has (operator's --force). */
      force?: boolean;
      /** Rejections of this batch so far (code 1). */
      rejections?: number;
      /** A single record ISP rejected: parked in the failed set until replayed. */
      isolated?: { message: string; parked?: boolean };
      /** Start of the current run of failures (ms): retrying stops `retryForMs` after it. */
      failingSince?: number;
    }
  | {
      kind: 'state';
      stream: StateStream;
      rejections?: number;
      failingSince?: number;
      /** A single lot ISP rejected. */
      isolated?: {
        message: string;
        parked?: boolean;
        item: { code: string; payload: Record<string, unknown> };
      };
    };

export function pushJobOptions() {
  return { attempts: PUSH_ATTEMPTS, backoff: { type: 'isp' } };
}

/** Converts the ISP client's multi-part result for one in-limit batch into one outcome. */
export function sendOutcome(result: BatchResult): SendOutcome {
  const failed = result.parts.find((p) => p.outcome.kind !== 'delivered');
  if (!failed) return { kind: 'delivered' };
  const o = failed.outcome;
  // Parts are sent in order and stop at the first failure: everything before it was accepted.
  const deliveredFirst = failed.start;
  switch (o.kind) {
    case 'rejected':
      return { kind: 'rejected', message: o.message, deliveredFirst };
    case 'auth-failed':
      return { kind: 'auth-failed', message: o.message, deliveredFirst };
    case 'retryable':
      return o.retryAfterMs === undefined
        ? { kind: 'retryable', reason: o.reason, deliveredFirst }
        : { kind: 'retryable', reason: o.reason, retryAfterMs: o.retryAfterMs, deliveredFirst };
    default:
      return { kind: 'delivered' };
  }
}

/**
 * The ledger key: the spec's natural key (open point 10) plus the vendor row id. The natural key
 * alone collides for two no-plate cars entering a lot in the same second; the row id keeps those
 * apart while a re-read of the same row still finds its key.
 */
export function ledgerKey(naturalKey: string, vendorKey: string): string {
  return `${naturalKey}#${vendorKey}`;
}

/** The push record of a transformed event (its payload serialized here, once). */
export function eventRecord(
  draft: { readonly park_code?: unknown },
  naturalKey: string,
  vendorKey: string,
  time: number,
): EventRecord {
  return {
    key: ledgerKey(naturalKey, vendorKey),
    time,
    vendorKey,
    lot: String(draft.park_code),
    payload: JSON.stringify(draft),
  };
}

export function eventRecordOf(
  stream: EventStreamName,
  row: RawEntrance | RawDeparture,
  rt: Runtime,
): RowOutcome {
  if (stream === 'entrances') {
    const t = transformEntrance(row as RawEntrance, rt.transform);
    if (!t.ok) return { ok: false, reasons: t.reasons };
    return {
      ok: true,
      record: eventRecord(t.value, entranceKey(t.value), row.vendorKey, t.value.enter_time),
    };
  }
  const t = transformDeparture(row as RawDeparture, rt.transform);
  if (!t.ok) return { ok: false, reasons: t.reasons };
  return {
    ok: true,
    record: eventRecord(t.value, departureKey(t.value), row.vendorKey, t.value.depart_time),
  };
}

/**
 * The records of a push job. Jobs enqueued before payloads travelled as text (failed-set jobs are
 * kept for two weeks, and may be replayed after an upgrade) carry `draft` objects instead.
 */
export function jobRecords(records: ReadonlyArray<EventRecord | LegacyEventRecord>): EventRecord[] {
  return records.map((r) => {
    if (!('draft' in r)) return r;
    const { draft, ...rest } = r;
    const { enter_pic: _e, depart_pic: _d, ...payload } = draft;
    return { ...rest, lot: String(draft.park_code), payload: JSON.stringify(payload) };
  });
}

/** A push record as enqueued before 2026-11-29: the payload as an object. */
export interface LegacyEventRecord {
  key: string;
  time: number;
  vendorKey: string;
  draft: Record<string, unknown>;
}

export function cursorEpoch(stream: EventStreamName, rt: Runtime, cursor: Cursor): number | undefined {
  const parser = stream === 'entrances' ? rt.transform.entranceTime : rt.transform.departureTime;
  const parsed = parser(cursor.time, 'cursor');
  return typeof parsed === 'number' ? parsed : undefined;
}

export interface EventPollOptions {
  budgetMs?: number;
  upTo?: number;
  /**
   * Deliver pages directly while the push queue is empty (src/pipeline/events/direct-delivery.ts). Only
   * in a process that also pushes, and never for photo-carrying streams, whose encoding is the
   * work that pushers on several machines share.
   */
  direct?: boolean;
}

export function eventPollDeps(
  rt: Runtime,
  stream: EventStreamName,
  options: EventPollOptions = {},
): PollEventsDeps<RawEntrance | RawDeparture> {
  const cfg = rt.config.streams[stream];
  const vendorCfg = rt.config.vendor;
  const queue = rt.queues.push[stream];
  const direct = options.direct === true && !cfg.photo;
  /** The queue was empty at the last look, and nothing has been handed to it since. */
  let queueEmpty = false;
  /** Shared by the two pages a poll may hand on at once. */
  const lanes = new Lanes(rt.config.pipeline.pushConcurrency);
  const enqueue = async (jobs: PushJobSpec[]) => {
    await rt.progress.addPending(stream, jobs);
    await queue.addBulk(
      jobs.map((j) => ({
        name: stream,
        data: { kind: 'events', stream, records: j.records } satisfies PushJobData,
        opts: { jobId: j.id, ...pushJobOptions() },
      })),
    );
  };
  return {
    stream,
    pageSize: cfg.pageSize,
    maxItemsPerJob: rt.config.isp.batch.maxItems,
    maxQueueDepth: rt.config.pipeline.maxQueueDepth,
    budgetMs: options.budgetMs ?? 5_000,
    getCheckpoint: () => rt.checkpoints.get(stream),
    setCheckpoint: (cursor) => rt.checkpoints.set(stream, cursor),
    readBound: async () => (await readVendorNow(rt.vendor)) - vendorCfg.commitLagSeconds,
    ...(stream === 'departures'
      ? {
          gateWaitMs: cfg.pollEveryMs,
          gateUpTo: async () => {
            // Until entrances have been read live once, no departure may go.
            if ((await rt.progress.caughtUp('entrances')) === undefined) return GATE_NOT_STARTED;
            const mark = await entranceMark(rt);
            return Math.min(mark ?? GATE_NOT_STARTED, options.upTo ?? Number.POSITIVE_INFINITY);
          },
        }
      : options.upTo !== undefined
        ? { gateUpTo: async () => options.upTo }
        : {}),
    readPage: async (after, limit, upTo) => {
      const page = await readEventPage(rt.vendor, stream, cfg, vendorCfg, after, {
        limit,
        ...(upTo !== undefined && Number.isFinite(upTo)
          ? { upTo: vendorTimeOf(upTo, cfg.timeFormat, vendorCfg.timeZone) }
          : {}),
      });
      return page;
    },
    transform: (row) => eventRecordOf(stream, row, rt),
    cursorEpoch: (cursor) => cursorEpoch(stream, rt, cursor),
    quarantine: async (row, reasons) => {
      await rt.quarantine.add({ stream, vendorKey: row.vendorKey, reasons, row });
    },
    enqueue: async (jobs) => {
      if (!(direct && queueEmpty)) return enqueue(jobs);
      const handOff = await deliverPage(rt, stream, jobs, lanes);
      if (handOff.length === 0) return;
      // Behind the handed-off jobs: the rest of this poll goes through the queue too.
      queueEmpty = false;
      await enqueue(handOff);
    },
    queueDepth: async () => {
      const depth = await pendingDepth(queue);
      queueEmpty = depth === 0;
      return depth;
    },
    setCaughtUp: (epoch) => rt.progress.setCaughtUp(stream, epoch),
  };
}

/**
 * Delivers a page's jobs from the poll (src/pipeline/events/direct-delivery.ts) and returns those the
 * push queue must retry. Per page, not per job: one ledger check, and one delivery count once the
 * page is done (about 20 Redis round trips fewer per 1,000 records).
 */
async function deliverPage(
  rt: Runtime,
  stream: EventStreamName,
  jobs: PushJobSpec[],
  lanes: Lanes,
): Promise<PushJobSpec[]> {
  const all = jobs.flatMap((j) => j.records);
  const seen = await rt.ledgers[stream].delivered(all);
  let k = 0;
  const todo = jobs
    .map((job) => ({ ...job, records: job.records.filter(() => !seen[k++]) }))
    .filter((job) => job.records.length > 0);
  const delivered = new DeliveryTally();
  const { handOff, error } = await deliverDirect(
    todo,
    (job) =>
      pushEvents(
        job.records,
        {
          ...eventPushDeps(rt, stream, { id: job.id, attemptsMade: 0, pending: false }),
          onDelivered: async (records) => {
            delivered.add(records);
          },
        },
        // The ledger was asked just now, for the whole page.
        { force: true, bisectRejected: false },
      ),
    lanes,
  );
  if (delivered.count) await countDelivered(rt, stream, delivered);
  if (handOff.length) {
    directHandOffs.inc({ stream }, handOff.length);
    rt.logger.warn(
      { stream, jobs: handOff.length, err: (error as Error | undefined)?.message },
      'direct delivery failed; the push queue retries these jobs',
    );
  }
  // A handed-off job goes whole: its retry asks the ledger again and skips what went.
  const handed = new Set(handOff.map((j) => j.id));
  return jobs.filter((j) => handed.has(j.id));
}

/** Records delivered, and each lot's latest event time among them (the records themselves are let go). */
class DeliveryTally {
  count = 0;
  readonly lots = new Map<string, number>();

  add(records: readonly EventRecord[]): this {
    this.count += records.length;
    for (const r of records) {
      const time = this.lots.get(r.lot);
      if (time === undefined || r.time > time) this.lots.set(r.lot, r.time);
    }
    return this;
  }
}

/** Delivery count and per-lot latest times, after the ledger has the records. */
async function countDelivered(rt: Runtime, stream: EventStreamName, tally: DeliveryTally): Promise<void> {
  eventsDelivered.inc({ stream }, tally.count);
  await untilWritten(
    () => rt.activity.recordDelivered(stream, tally.count, tally.lots),
    rt,
    'delivery count',
  );
}

/**
 * The entrance watermark departures wait for (the live poll's gate and a departure backfill's):
 * backfilled entrances hold departures too, as a car backfilled in may be leaving now.
 */
export function entranceMark(rt: Runtime): Promise<number | undefined> {
  return rt.progress.watermark('entrances', (id) => isLiveJob(rt, 'entrances', id), { withBackfills: true });
}

export async function isLiveJob(rt: Runtime, stream: EventStreamName, jobId: string): Promise<boolean> {
  const state = await rt.queues.push[stream].getJobState(jobId);
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

/** How long a delivered batch's ledger write keeps retrying through a Redis outage. */
const LEDGER_WRITE_PATIENCE_MS = 120_000;

/**
 * ISP has accepted a batch: the ledger must hear of it, or the retried job sends it again. A Redis
 * restart makes the write fail at once (the client gives up after a few reconnects), so it is
 * retried until Redis is back (measured: 130+ duplicates per 3 s restart without this,
 * test/chaos/redis-restart.test.ts); only a longer outage fails the job. The same for the
 * delivery count: the job's retry skips the records, so a count missed here is never made up.
 */
async function untilWritten(write: () => Promise<void>, rt: Runtime, what = 'ledger write'): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() - started > LEDGER_WRITE_PATIENCE_MS) throw error;
      if (attempt === 1)
        rt.logger.warn({ err: (error as Error).message }, `${what} failed; retrying until Redis is up`);
      await sleep(Math.min(1_000, 100 * attempt));
    }
  }
}

/** The push at hand, as the event push steps see it. */
export interface PushContext {
  /** The BullMQ job id (or the id the job would have: direct delivery). */
  id: string;
  /** Attempts made so far (photos that may come back are waited for a few attempts). */
  attemptsMade: number;
  /** The job has an entry in the pending set, moved on batch by batch (the departure gate). */
  pending: boolean;
}

export function pushContext(job: Job<PushJobData>): PushContext {
  return {
    id: String(job.id),
    attemptsMade: job.attemptsMade,
    pending: job.data.kind === 'events' && !job.data.isolated,
  };
}

export function eventPushDeps(rt: Runtime, stream: EventStreamName, job: PushContext): PushEventsDeps {
  const cfg = rt.config.streams[stream];
  const photo = cfg.photo;
  const photoField = stream === 'entrances' ? 'enter_pic' : 'depart_pic';
  return {
    ledger: {
      delivered: (entries) => rt.ledgers[stream].delivered(entries),
      markDelivered: (entries) => untilWritten(() => rt.ledgers[stream].markDelivered(entries), rt),
    },
    maxItems: rt.config.isp.batch.maxItems,
    maxBytes: rt.config.isp.batch.maxBytes,
    prepareWindow: photo ? Math.max(2, rt.config.photo.concurrency * 2) : rt.config.isp.batch.maxItems,
    prepare: async (records) => {
      const wireOf = (record: EventRecord, value: string): PreparedRecord => {
        const text = withPhoto(record.payload, photoField, value);
        return { ok: true, record, text, bytes: utf8Bound(text) };
      };
      // Without photos nothing waits: one plain pass instead of a promise per record.
      if (!photo) return records.map((record) => wireOf(record, ''));
      const raws = await fetchPhotos(
        rt.vendor,
        cfg,
        records.map((r) => r.vendorKey),
      );
      return Promise.all(
        records.map(async (record): Promise<PreparedRecord> => {
          const raw = raws.get(record.vendorKey) ?? null;
          const wire = await rt.photoLimiter(() => photoToWire(raw, photo.source, rt.config.photo));
          // A photo that may come back (URL timeout, 5xx) is worth a few retries of the job
          // before the event goes without it.
          if (wire.retryable && job.attemptsMade < PHOTO_RETRIES) {
            throw new PhotoUnavailableError(
              record.vendorKey,
              wire.ok ? (wire.message ?? wire.outcome) : wire.reason.message,
            );
          }
          if (!wire.ok) return { ok: false, record, reason: wire.reason };
          return wireOf(record, wire.value);
        }),
      );
    },
    send: async (texts, bytes) => sendOutcome(await rt.isp.pushSerialized(stream, texts, bytes)),
    quarantine: async (record, reason) => {
      // Held back at push time: the payload without its photo is what is kept (the vendor row
      // is re-read by a backfill of its time once the photo is fixed).
      await rt.quarantine.add({
        stream,
        vendorKey: record.vendorKey,
        reasons: [reason],
        row: { pushDraft: JSON.parse(record.payload) },
      });
    },
    isolate: async (rejected) => {
      await rt.queues.push[stream].addBulk(
        rejected.map(({ record, message }) => ({
          name: `${stream}-rejected`,
          data: { kind: 'events', stream, records: [record], isolated: { message } } satisfies PushJobData,
          opts: { jobId: isolatedJobId(job.id, record.vendorKey), ...pushJobOptions() },
        })),
      );
    },
    ...(job.pending ? { advance: (earliest: number) => rt.progress.advance(stream, job.id, earliest) } : {}),
    onDelivered: (records) => countDelivered(rt, stream, new DeliveryTally().add(records)),
  };
}

export function statePollDeps(rt: Runtime, stream: StateStream): StatePollDeps<RawPark | RawSpotNum> {
  return {
    stream,
    readAll: async () => {
      return stream === 'parks'
        ? readParks(rt.vendor, rt.config.streams.parks)
        : readSpotNums(rt.vendor, rt.config.streams.spotNums);
    },
    transform: (row): StateRowOutcome<RawPark | RawSpotNum> => {
      const code = row.parkCode == null ? undefined : String(row.parkCode).trim();
      if (stream === 'parks') {
        const t = transformPark(row as RawPark, rt.transform);
        if (!t.ok) return { row, ...(code ? { code } : {}), reasons: t.reasons };
        return {
          row,
          code: t.value.park.park_code,
          item: { code: t.value.park.park_code, payload: t.value.park },
          deleted: t.value.deleted,
        };
      }
      const t = transformSpotNum(row as RawSpotNum, rt.transform);
      if (!t.ok) return { row, ...(code ? { code } : {}), reasons: t.reasons };
      return { row, code: t.value.park_code, item: { code: t.value.park_code, payload: t.value } };
    },
    store: rt.state,
    quarantine: async (o) => {
      await rt.quarantine.add({ stream, vendorKey: o.row.vendorKey, reasons: o.reasons ?? [], row: o.row });
    },
    requestFlush: async () => {
      await rt.queues.push[stream].add(`${stream}-flush`, { kind: 'state', stream } satisfies PushJobData, {
        ...pushJobOptions(),
        deduplication: { id: `${stream}-flush` },
      });
    },
  };
}

export function stateFlushDeps(
  rt: Runtime,
  stream: StateStream,
  job: Job<PushJobData>,
  bisect: boolean,
): StateFlushDeps {
  return {
    stream,
    store: rt.state,
    maxItems: rt.config.isp.batch.maxItems,
    maxBytes: rt.config.isp.batch.maxBytes,
    bisectRejected: bisect,
    send: async (payloads) => {
      const result =
        stream === 'parks'
          ? await rt.isp.upsertParks(payloads as never)
          : await rt.isp.pushSpotNums(payloads as never);
      const outcome = sendOutcome(result);
      if (outcome.kind === 'delivered') {
        eventsDelivered.inc({ stream }, payloads.length);
        await rt.activity.recordDelivered(
          stream,
          payloads.length,
          new Map(),
          stream === 'spotNums' ? (payloads as never) : [],
        );
      }
      return outcome;
    },
    sendDeletes: async (codes) => sendOutcome(await rt.isp.deleteParks(codes)),
    isolate: async (item, message) => {
      await rt.queues.push[stream].add(
        `${stream}-rejected`,
        { kind: 'state', stream, isolated: { message, item } } satisfies PushJobData,
        {
          jobId: `${String(job.id)}-rejected-${item.code.replace(/[^A-Za-z0-9_]/g, '_')}`,
          ...pushJobOptions(),
        },
      );
    },
  };
}
