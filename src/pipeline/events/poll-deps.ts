/**
 * The live poll of an event stream wired to a Runtime: vendor pages after the checkpoint, bounded by
 * the commit-lag guard and the departure gate; records through the stream table; push jobs into the
 * stream's queue, or, while that queue is empty, delivered by the poll itself (direct delivery;
 * a backlog goes to the queue when other processes push from it).
 */
import type { Queue } from 'bullmq';
import type { Cursor } from '../../config/vendor-rows.js';
import { directHandOffs } from '../../metrics.js';
import type { RecentKey } from '../../state/recent-keys.js';
import { readEventPage, readVendorNow } from '../../vendor-db/index.js';
import { type TimeFormat, vendorTimeOf } from '../../vendor-db/zone.js';
import { countDelivered, DeliveryTally } from '../bookkeeping.js';
import { IspRejectedError } from '../errors.js';
import { enqueuePush, type PushOrigin } from '../push-queue.js';
import { pendingDepth } from '../queues.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAMS, type EventRow, type EventStreamName } from '../streams.js';
import { noteVendorClock } from '../vendor-clock.js';
import { followerGate, gateOf } from './departure-gate.js';
import { deliverDirect, handOnBy, Lanes } from './direct-delivery.js';
import type { PushJobSpec } from './page.js';
import type { PollEventsDeps } from './poll.js';
import { pushEvents } from './push.js';
import { eventPushDeps } from './push-deps.js';
import { cursorSlice } from './sweep.js';

export interface EventPollOptions {
  budgetMs?: number;
  /** Read only before this (Unix s). */
  upTo?: number;
  /**
   * Deliver pages directly while the push queue is empty (src/pipeline/events/direct-delivery.ts).
   * Only in a process that also pushes, and never for photo-carrying streams, whose encoding is the
   * work that pushers on several machines share.
   */
  direct?: boolean;
  /**
   * Pusher workers of other processes on a push queue (src/pipeline/peer-pushers.ts): a full page
   * goes to the queue while there are any, so they share the backlog. Absent: none.
   */
  otherPushers?: (queue: Queue) => Promise<number>;
  /** Read nothing before the lots have been sent once (default true; a dry run shows rows anyway). */
  lotsFirst?: boolean;
}

/** A row's read mark: its vendor key, in the slice of its cursor time (src/pipeline/events/sweep.ts). */
export function readMark(
  cfg: { timeFormat: TimeFormat },
  row: { cursorTime?: unknown; vendorKey: string },
): RecentKey {
  return { slice: cursorSlice(String(row.cursorTime ?? ''), cfg.timeFormat), key: row.vendorKey };
}

/** Unix seconds of a cursor of `stream` (how far it has read), undefined when it does not parse. */
export function cursorEpoch(rt: Runtime, stream: EventStreamName, cursor: Cursor): number | undefined {
  const parsed = EVENT_STREAMS[stream].cursorTime(rt.transform)(cursor.time, 'cursor');
  return typeof parsed === 'number' ? parsed : undefined;
}

/**
 * Quarantines a row that cannot become a push record, with its reasons, and counts it against its
 * lot (a lot whose events are mostly quarantined alerts).
 */
export function quarantineRow(rt: Runtime, stream: EventStreamName) {
  return async (row: EventRow, reasons: Array<{ code: string; message: string }>) => {
    await rt.quarantine.add({ stream, vendorKey: row.vendorKey, reasons, row });
    const lot = row.parkCode == null ? '' : String(row.parkCode).trim();
    if (lot) await rt.health.countOutcome(lot, 'quarantined');
  };
}

/** Adds a page's push jobs: registered with the departure gate first, then queued. */
export async function enqueueEventJobs(
  rt: Runtime,
  stream: EventStreamName,
  origin: Extract<PushOrigin, 'poll' | 'backfill'>,
  jobs: Array<PushJobSpec & { rejections?: number }>,
): Promise<void> {
  await rt.progress.addPending(stream, jobs, { backfill: origin === 'backfill' });
  await enqueuePush(
    rt.queues.push,
    stream,
    origin,
    jobs.map((j) => ({
      id: j.id,
      data: {
        kind: 'events',
        stream,
        records: j.records,
        ...(j.rejections ? { rejections: j.rejections } : {}),
      },
    })),
  );
}

export function eventPollDeps(
  rt: Runtime,
  stream: EventStreamName,
  options: EventPollOptions = {},
): PollEventsDeps<EventRow> {
  const cfg = rt.config.streams[stream];
  const vendorCfg = rt.config.vendor;
  const def = EVENT_STREAMS[stream];
  const queue = rt.queues.push[stream];
  const direct = options.direct === true && !cfg.photo;
  /** The queue was empty at the last look, and nothing has been handed to it since. */
  let queueEmpty = false;
  /** Shared by the two pages a poll may hand on at once. */
  const lanes = new Lanes(rt.config.pipeline.pushConcurrency);
  const lowLatency = cfg.mode === 'low-latency';
  // A low-latency follower reads as soon as rows are committed and is gated record by record.
  const byRecord = lowLatency && def.follows !== undefined;
  const gate = gateOf(rt, stream, options.upTo, options.lotsFirst ?? true, byRecord ? 'record' : 'read');
  // Rows read are marked while a sweep is due: always in low-latency mode, and in guarded mode
  // until a sweep left from it has caught up (asked once per poll).
  let sweepDue: Promise<boolean> | undefined;
  const marking = () => {
    sweepDue ??= lowLatency
      ? Promise.resolve(true)
      : rt.progress.sweptUpTo(stream).then((at) => at !== undefined);
    return sweepDue;
  };
  // Low-latency: only a short lag, so that a second's rows are read once the second is over (the
  // sweep catches what commits later still). A stream that probes its id gaps reads at once: a row
  // of the second committed after the read leaves a gap, probed at the end of the poll.
  const probing = cfg.probeIdGaps; // allowed only in low-latency mode (src/config/schema.ts)
  const lagSeconds = lowLatency ? (probing ? 0 : vendorCfg.liveLagMs / 1000) : vendorCfg.commitLagSeconds;
  return {
    stream,
    pageSize: cfg.pageSize,
    maxItemsPerJob: rt.config.isp.batch.maxItems,
    maxQueueDepth: rt.config.pipeline.maxQueueDepth,
    budgetMs: options.budgetMs ?? 5_000,
    getCheckpoint: () => rt.checkpoints.get(stream),
    setCheckpoint: (cursor) => rt.checkpoints.set(stream, cursor),
    readBound: async () => {
      const vendorNow = await readVendorNow(rt.vendor);
      await noteVendorClock(rt, vendorNow);
      return vendorNow - lagSeconds;
    },
    gateUpTo: gate,
    gateHold: () => gate.lastHold,
    markRead: async (rows) => {
      if (!(await marking())) return;
      await rt.readMarks[stream].add(rows.map((row) => readMark(cfg, row)));
      // Before the checkpoint moves past them: the ids skipped below the highest read are gaps.
      if (probing)
        await rt.idGaps[stream].note(
          rows.map((row) => row.vendorKey),
          Date.now(),
        );
    },
    // A held-back departure waits in the poll for up to a poll interval. Longer held the poll, and
    // the departure sweep behind it, from running (measured: waiting the commit lag too took the
    // p99 from 7.3 s to 11.4 s, the late departures waiting for the sweep).
    ...(byRecord ? { mayGo: followerGate(rt, stream), deferWaitMs: cfg.pollEveryMs } : {}),
    ...(def.follows ? { gateWaitMs: cfg.pollEveryMs } : {}),
    readPage: (after, limit, upTo) =>
      readEventPage(rt.vendor, stream, cfg, vendorCfg, after, {
        limit,
        lagSeconds,
        ...(upTo !== undefined && Number.isFinite(upTo)
          ? { upTo: vendorTimeOf(upTo, cfg.timeFormat, vendorCfg.timeZone) }
          : {}),
      }),
    transform: (row) => def.toRecord(row, rt.transform),
    cursorEpoch: (cursor) => cursorEpoch(rt, stream, cursor),
    quarantine: quarantineRow(rt, stream),
    enqueue: async (jobs, page = { full: false }) => {
      // Other pushers are asked about only when the answer matters (cached: peer-pushers.ts).
      const askPeers = direct && queueEmpty && page.full && options.otherPushers;
      const otherPushers = askPeers ? await askPeers(queue) : 0;
      if (!direct || handOnBy({ queueEmpty, pageFull: page.full, otherPushers }) === 'queue') {
        // Behind these jobs, the next page goes through the queue too (until it is seen empty).
        queueEmpty = false;
        return enqueueEventJobs(rt, stream, 'poll', jobs);
      }
      const handOff = await deliverPage(rt, stream, jobs, lanes);
      if (handOff.length === 0) return;
      // Behind the handed-off jobs: the rest of this poll goes through the queue too.
      queueEmpty = false;
      await enqueueEventJobs(rt, stream, 'poll', handOff);
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
 * Delivers a page's jobs from the poll (direct-delivery.ts) and returns those the push queue must
 * retry. Per page, not per job: one ledger check, and one delivery count once the page is done
 * (about 20 Redis round trips fewer per 1,000 records).
 */
async function deliverPage(
  rt: Runtime,
  stream: EventStreamName,
  jobs: PushJobSpec[],
  lanes: Lanes,
): Promise<Array<PushJobSpec & { rejections?: number }>> {
  const all = jobs.flatMap((j) => j.records);
  const seen = await rt.ledgers[stream].delivered(all);
  let k = 0;
  const todo = jobs
    .map((job) => ({ ...job, records: job.records.filter(() => !seen[k++]) }))
    .filter((job) => job.records.length > 0);
  const delivered = new DeliveryTally(rt);
  const { handOff, error, failures } = await deliverDirect(
    todo,
    (job) =>
      pushEvents(
        job.records,
        {
          ...eventPushDeps(rt, stream, { id: job.id, attemptsMade: 0, pending: false }),
          onDelivered: async (records, withoutPhoto) => {
            delivered.add(records, { withoutPhoto });
          },
        },
        // The ledger was asked just now, for the whole page.
        { ledger: 'checked', splitRejected: false },
      ),
    lanes,
  );
  if (delivered.count) await countDelivered(rt, stream, delivered, { live: true });
  if (handOff.length) {
    directHandOffs.inc({ source: rt.config.source.name, stream }, handOff.length);
    rt.logger.warn(
      { stream, jobs: handOff.length, err: (error as Error | undefined)?.message },
      'direct delivery failed; the push queue retries these jobs',
    );
  }
  // A handed-off job goes whole: its retry asks the ledger again and skips what went. One ISP
  // refused counts as its first refusal, so the queue does not send the same batch again first.
  const handed = new Set(handOff.map((j) => j.id));
  const refused = new Set([...failures].filter(([, e]) => e instanceof IspRejectedError).map(([j]) => j.id));
  return jobs.filter((j) => handed.has(j.id)).map((j) => (refused.has(j.id) ? { ...j, rejections: 1 } : j));
}
