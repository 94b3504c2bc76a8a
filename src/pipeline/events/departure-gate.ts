/**
 * The departure gate: a stream that follows another (departures follow entrances, see the stream
 * table) is read only up to the followed stream's watermark, the earliest event time it still
 * holds undelivered, so no departure reaches ISP before its entrance. Backfills of the followed
 * stream hold the gate too, as a car backfilled in may be leaving now. A followed stream in
 * low-latency mode holds it at its sweep too (late entrances come from there). A follower in
 * low-latency mode is gated record by record instead (`mayGoNow`): a departure goes as soon as its
 * own entrance is settled, not when every entrance before it is.
 */
import { randomBytes } from 'node:crypto';
import type { RecentKey } from '../../state/recent-keys.js';
import type { WatermarkReading } from '../../state/stream-progress.js';
import { releaseWhereClear } from '../lots/registration.js';
import { type IntervalConfig, pollIntervalOf } from '../poll-interval.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAMS, type EventStreamName, followersOf } from '../streams.js';
import { GATE_NOT_STARTED, type GateHold } from './poll.js';
import type { EventRecord, Precedent } from './records.js';
import { MARK_SLICE_SECONDS } from './sweep.js';

/** A push job of `stream` that is still to run (not completed, failed or gone). */
export async function isLiveJob(rt: Runtime, stream: EventStreamName, jobId: string): Promise<boolean> {
  const state = await rt.queues.push[stream].getJobState(jobId);
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

/** The watermark of `stream` its followers wait for, live jobs and backfills included. */
export function watermarkOf(rt: Runtime, stream: EventStreamName): Promise<number | undefined> {
  return rt.progress.watermark(stream, (id) => isLiveJob(rt, stream, id), { withBackfills: true });
}

const lotsReadyOnce = new WeakSet<Runtime>();

/**
 * Lots first: until the lot table has been read and sent once, no event stream reads, so a fresh
 * start registers its lots before any of their data (later lots go through the hold, lots/).
 */
async function lotsSentOnce(rt: Runtime): Promise<boolean> {
  if (lotsReadyOnce.has(rt)) return true;
  if ((await rt.progress.caughtUp('parks')) === undefined) return false;
  if ((await rt.lotChanges.counts('parks')).pending > 0) return false;
  lotsReadyOnce.add(rt);
  return true;
}

/** A gate read, remembering what held it at its last reading (`gateHold`, for a poll waiting at it). */
export type GateReader = (() => Promise<number | undefined>) & { lastHold?: GateHold };

/**
 * The exclusive upper bound (Unix s) on what a poll of `stream` may read: nothing before the lots
 * have been sent once (`lotsFirst`: a live poll; a dry run shows rows before any lot was sent); then the followed stream's watermark, and `upTo` if given; undefined: no
 * bound. Until the followed stream has been read live once, nothing may go (`GATE_NOT_STARTED`).
 * One Redis round trip while the followed stream has no job pending (a waiting poll reads it often).
 */
export function gateOf(
  rt: Runtime,
  stream: EventStreamName,
  upTo?: number,
  lotsFirst = true,
  /** `record`: a low-latency follower, gated record by record (`mayGoNow`), not by its read. */
  by: 'read' | 'record' = 'read',
): GateReader {
  const followed = EVENT_STREAMS[stream].follows;
  const reader: GateReader = async () => {
    reader.lastHold = undefined;
    if (lotsFirst && !(await lotsSentOnce(rt))) return GATE_NOT_STARTED;
    if (followed === undefined) return upTo;
    if (by === 'record') {
      if ((await rt.progress.caughtUp(followed)) === undefined) return GATE_NOT_STARTED;
      return upTo;
    }
    const reading = await rt.progress.watermarkReading(followed, (id) => isLiveJob(rt, followed, id), {
      withBackfills: true,
    });
    if (reading.caughtUp === undefined) return GATE_NOT_STARTED;
    reader.lastHold = holdOf(rt.config.streams[followed], reading, Date.now());
    return Math.min(reading.mark ?? GATE_NOT_STARTED, upTo ?? Number.POSITIVE_INFINITY);
  };
  return reader;
}

/**
 * What holds a gate: the followed stream's jobs in flight (they settle within moments), or only its
 * read, which moves when its next poll ends: about an interval after its last one ended, the idle
 * interval when it is idle (src/pipeline/poll-interval.ts).
 */
export function holdOf(cfg: IntervalConfig, reading: WatermarkReading, nowMs: number): GateHold {
  if (reading.heldBy === 'jobs') return { by: 'jobs' };
  const everyMs = pollIntervalOf(cfg, reading.foundRowsAt, nowMs);
  return {
    by: 'read',
    everyMs,
    ...(reading.polledAt !== undefined ? { nextAtMs: reading.polledAt + everyMs } : {}),
  };
}

/**
 * The gate of a low-latency follower, record by record: a departure may go at once when its
 * entrance is settled, either by time (before the entrance watermark, which in low-latency mode
 * includes the entrances' sweep: no late entrance can come before it) or because ISP has accepted
 * that very entrance lately (`accepted`). A departure that names no entrance waits for its own time
 * to pass the watermark, as a guarded read does.
 */
export function mayGoNow(
  ownTime: number,
  precedent: Precedent | undefined,
  horizon: number | undefined,
  accepted: boolean,
): boolean {
  const settledBefore = horizon ?? GATE_NOT_STARTED;
  if (!precedent) return ownTime < settledBefore;
  return precedent.time < settledBefore || accepted;
}

/**
 * What ISP's acceptance of an entrance is noted under (`acceptedKeys`), in its time's slice: its
 * natural key, and its vendor id when known (a departure whose exit plate was misread names the
 * same id but another natural key).
 */
export function acceptedKeysOf(entrance: {
  key: string;
  time: number;
  vendorKey?: string | undefined;
}): RecentKey[] {
  const slice = Math.floor(entrance.time / MARK_SLICE_SECONDS);
  const keys: RecentKey[] = [{ slice, key: entrance.key }];
  if (entrance.vendorKey !== undefined) keys.push({ slice, key: `#id:${entrance.vendorKey}` });
  return keys;
}

/**
 * What a departure asks for (`acceptedKeys`): its entrance's vendor id when the departure names it
 * (`departures.columns.entranceId`), else the entrance's natural key. The id is exact where the key
 * is not: two cars without a plate entering one lot in the same second share a natural key, and
 * the departure of one must not go on the other's acceptance (ISP would then get the second
 * entrance after that departure).
 */
export function askedKeysOf(precedent: Precedent): RecentKey[] {
  const slice = Math.floor(precedent.time / MARK_SLICE_SECONDS);
  return [{ slice, key: precedent.vendorKey !== undefined ? `#id:${precedent.vendorKey}` : precedent.key }];
}

/** `mayGoNow` for a page of a low-latency follower's records: one watermark read, one key lookup. */
export function followerGate(
  rt: Runtime,
  stream: EventStreamName,
): (records: EventRecord[], precedents: Array<Precedent | undefined>) => Promise<boolean[]> {
  const followed = EVENT_STREAMS[stream].follows;
  return async (records, precedents) => {
    if (followed === undefined) return records.map(() => true);
    const horizon = await watermarkOf(rt, followed);
    const settled = records.map((r, i) => mayGoNow(r.time, precedents[i], horizon, false));
    const ask = precedents.flatMap((p, i) => (p && !settled[i] ? [{ i, keys: askedKeysOf(p) }] : []));
    if (ask.length > 0) {
      const found = await rt.acceptedKeys[followed].has(ask.flatMap(({ keys }) => keys));
      let at = 0;
      for (const { i, keys } of ask) {
        if (found.slice(at, at + keys.length).some(Boolean)) settled[i] = true;
        at += keys.length;
      }
    }
    return settled;
  };
}

/** Streams whose followers are in low-latency mode: their deliveries are noted in `acceptedKeys`. */
export function followedByLowLatency(rt: Runtime, stream: EventStreamName): boolean {
  return followersOf(stream).some((f) => rt.config.streams[f].mode === 'low-latency');
}

/**
 * How long a backfill's hold on followers outlives its last sign of life: longer than a turn of
 * its loop can take (a page read is bounded by the statement timeout), short enough that a killed
 * backfill does not hold followers for long.
 */
const holdTtlMs = (rt: Runtime) => Math.max(30_000, 3 * rt.config.vendor.queryTimeoutMs);

/** What a backfill of `stream` does for the gate: holds its followers, or reads behind the stream it follows. */
export interface BackfillOrdering {
  /** Tells followers that events from `epoch` (Unix s) on may still come. */
  hold?(epoch: number): Promise<void>;
  /** The backfill has read all it will (its jobs hold followers from here). */
  release?(): Promise<void>;
  /** Read only before this (the followed stream's watermark); undefined: no bound. */
  gate?(): Promise<number | undefined>;
}

export function backfillOrdering(rt: Runtime, stream: EventStreamName): BackfillOrdering {
  const followed = EVENT_STREAMS[stream].follows;
  const ordering: BackfillOrdering = {};
  if (followed !== undefined) ordering.gate = () => watermarkOf(rt, followed);
  if (followersOf(stream).length > 0) {
    const holdId = `${process.pid}-${randomBytes(4).toString('hex')}`;
    ordering.hold = (epoch) => rt.progress.hold(stream, holdId, epoch, holdTtlMs(rt));
    ordering.release = () => rt.progress.release(stream, holdId);
  }
  return ordering;
}

/**
 * An entrance job in trouble (its batch refused and being split, given up after retrying, or one
 * refused entrance parked in the failed set) leaves the watermark, so departures of every other lot
 * go on; the departures of its own lots from its earliest entrance on are held instead, until it is
 * delivered (src/pipeline/lots/registration.ts holds and releases them).
 */
export async function blockFollowers(
  rt: Runtime,
  stream: EventStreamName,
  jobId: string,
  records: ReadonlyArray<{ lot: string; time: number }>,
): Promise<void> {
  if (followersOf(stream).length === 0 || records.length === 0) return;
  const lotTimes = new Map<string, number>();
  for (const r of records)
    lotTimes.set(r.lot, Math.min(lotTimes.get(r.lot) ?? Number.POSITIVE_INFINITY, r.time));
  await rt.entranceBlocks.block(jobId, lotTimes);
  await rt.progress.settle(stream, jobId);
}

/** The job is delivered: its lots' held departures may go (if nothing else holds them). */
export async function unblockFollowers(rt: Runtime, stream: EventStreamName, jobId: string): Promise<void> {
  if (followersOf(stream).length === 0) return;
  const lots = await rt.entranceBlocks.unblock(jobId);
  if (lots.length) await releaseWhereClear(rt, lots);
}
