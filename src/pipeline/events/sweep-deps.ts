/**
 * The sweep of a low-latency stream wired to a Runtime: keys of the commit-lag window from the
 * vendor, looked up in the live poll's read marks, late rows handed on exactly as the live poll
 * hands on its pages (its `enqueue`: the ledger check, direct delivery or push jobs).
 */
import type { Cursor } from '../../config/vendor-rows.js';
import { readEventKeys, readEventRowsAt, readEventRowsById, readVendorNow } from '../../vendor-db/index.js';
import type { Runtime } from '../runtime.js';
import type { EventRow, EventStreamName } from '../streams.js';
import { gateOf } from './departure-gate.js';
import { type IdGapProbeDeps, PROBE_LIMIT } from './id-gap-probe.js';
import type { PollEventsDeps } from './poll.js';
import { readMark } from './poll-deps.js';
import type { SweepDeps } from './sweep.js';

/**
 * Before a live poll of a low-latency stream: the sweep starts where the stream has read
 * completely, if it has not started yet: a guarded stream switched to low-latency, at its read-up-to
 * time; a first start, at the beginning (0).
 */
export async function startSweep(rt: Runtime, stream: EventStreamName): Promise<void> {
  if (rt.config.streams[stream].mode !== 'low-latency') return;
  if ((await rt.progress.sweptUpTo(stream)) !== undefined) return;
  await rt.progress.setSweptUpTo(stream, (await rt.progress.caughtUp(stream)) ?? 0);
}

/** `poll`: the live poll's deps of the same stream and process (its hand-on is shared). */
export function eventSweepDeps(
  rt: Runtime,
  stream: EventStreamName,
  poll: PollEventsDeps<EventRow>,
  options: { budgetMs?: number } = {},
): SweepDeps<EventRow> {
  const cfg = rt.config.streams[stream];
  const vendorCfg = rt.config.vendor;
  const marks = rt.readMarks[stream];
  const keyOf = (c: Cursor) => readMark(cfg, { cursorTime: c.time, vendorKey: c.id });
  return {
    stream,
    pageSize: cfg.pageSize,
    maxItemsPerJob: poll.maxItemsPerJob,
    maxQueueDepth: poll.maxQueueDepth,
    budgetMs: options.budgetMs ?? 2_000,
    lowLatency: cfg.mode === 'low-latency',
    sweptUpTo: () => rt.progress.sweptUpTo(stream),
    setSweptUpTo: (epoch) => rt.progress.setSweptUpTo(stream, epoch),
    clearSweptUpTo: () => rt.progress.clearSweptUpTo(stream),
    liveCheckpoint: () => rt.checkpoints.get(stream),
    liveReadUpTo: () => rt.progress.caughtUp(stream),
    lagSeconds: vendorCfg.commitLagSeconds,
    readBound: async () => (await readVendorNow(rt.vendor)) - vendorCfg.commitLagSeconds,
    // A follower sweeps only what its guarded read could read: before the followed watermark.
    gateUpTo: gateOf(rt, stream),
    readKeys: async (after, from, limit, upper) => {
      const page = await readEventKeys(rt.vendor, stream, cfg, vendorCfg, after, {
        limit,
        from,
        upTo: 'cursor' in upper ? upper.cursor : upper.time,
      });
      return {
        rows: page.rows.map((r) => ({ time: r.cursorTime, id: r.vendorKey })),
        last: page.last,
        full: page.full,
      };
    },
    wasRead: (keys) => marks.has(keys.map(keyOf)),
    markRead: (keys) => marks.add(keys.map(keyOf)),
    readRows: (keys) => readEventRowsAt(rt.vendor, stream, cfg, keys),
    transform: poll.transform,
    cursorEpoch: poll.cursorEpoch,
    quarantine: poll.quarantine,
    enqueue: poll.enqueue,
    queueDepth: poll.queueDepth,
  };
}

/**
 * The id-gap probe of a low-latency stream with `probeIdGaps`, after its live poll `poll` (same
 * hand-on, same follower gate); undefined for any other stream. A gap is probed for the commit lag
 * after it was first seen, the promise the sweep keeps too.
 */
export function eventIdGapProbeDeps(
  rt: Runtime,
  stream: EventStreamName,
  poll: PollEventsDeps<EventRow>,
): IdGapProbeDeps<EventRow> | undefined {
  const cfg = rt.config.streams[stream];
  if (!cfg.probeIdGaps) return undefined; // allowed only in low-latency mode (src/config/schema.ts)
  const marks = rt.readMarks[stream];
  const gaps = rt.idGaps[stream];
  const lagMs = rt.config.vendor.commitLagSeconds * 1000;
  return {
    stream,
    maxItemsPerJob: poll.maxItemsPerJob,
    openGaps: async () => (await gaps.open(Date.now() - lagMs, PROBE_LIMIT)).ids,
    readRows: (ids) => readEventRowsById(rt.vendor, stream, cfg, ids),
    wasRead: (rows) => marks.has(rows.map((row) => readMark(cfg, row))),
    markRead: (rows) => marks.add(rows.map((row) => readMark(cfg, row))),
    resolve: (ids) => gaps.resolve(ids),
    transform: poll.transform,
    ...(poll.mayGo ? { mayGo: poll.mayGo } : {}),
    quarantine: poll.quarantine,
    enqueue: poll.enqueue,
  };
}
