/**
 * BullMQ processor of the poll queues: one job = one poll of one stream. The queue's global
 * concurrency of 1 makes it a singleton across all processes and machines.
 */
import type { Job } from 'bullmq';
import type { StreamName } from '../src/config/index.js';
import type { Cursor } from '../src/config/vendor-rows.js';
import { probedLateRows, streamLag, sweptLateRows } from '../src/metrics.js';
import { probeIdGaps } from '../src/pipeline/events/id-gap-probe.js';
import { pollEvents } from '../src/pipeline/events/poll.js';
import { eventPollDeps } from '../src/pipeline/events/poll-deps.js';
import { sweepEvents } from '../src/pipeline/events/sweep.js';
import { eventIdGapProbeDeps, eventSweepDeps, startSweep } from '../src/pipeline/events/sweep-deps.js';
import { pollLots } from '../src/pipeline/lots/poll.js';
import { lotPollDeps } from '../src/pipeline/lots/poll-deps.js';
import type { PeerPushers } from '../src/pipeline/peer-pushers.js';
import { keepPollInterval } from '../src/pipeline/poll-interval.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { pollSchedulerId, upsertPollSchedule } from '../src/pipeline/schedules.js';
import type { StateGuard } from '../src/pipeline/state-guard.js';
import { isEventStream } from '../src/pipeline/streams.js';
import { VendorUnavailableError } from '../src/vendor-db/errors.js';

/**
 * `direct`: this process also pushes, so a poll may deliver its pages itself (direct-delivery.ts).
 * `peers`: other processes' pushers per push queue; while there are any, a backlog goes through the
 * queue for them to share.
 * `guard`: a poll runs only while the state in Redis is the one this worker knows; after a loss it
 * does nothing (src/pipeline/state-guard.ts says why and what the operator may do).
 */
export function pollProcessor(
  rt: Runtime,
  options: { direct?: boolean; guard?: StateGuard; peers?: PeerPushers } = {},
) {
  return async (job: Job<{ stream: StreamName }>) => {
    const { stream } = job.data;
    if (options.guard) {
      const verdict = await options.guard.check({ keepEvidence: false });
      if (!verdict.ok) return { skipped: 'state lost' };
    }
    // While the vendor database is down, one poll per retry interval tries it (one log line);
    // the others skip quietly: nothing was read, so no checkpoint moves and nothing is lost.
    if (!rt.outages.mayAttempt('vendor')) return { skipped: 'vendor database unreachable' };
    try {
      let result: unknown;
      let found: boolean;
      /** How far the stream has read (Unix s), for its lag gauge. */
      let readUpTo: number | undefined;
      if (isEventStream(stream)) {
        await startSweep(rt, stream);
        const { peers } = options;
        const deps = eventPollDeps(rt, stream, {
          direct: options.direct ?? false,
          ...(peers ? { otherPushers: (queue) => peers.count(queue) } : {}),
        });
        if (options.guard) believeOnlyIntactState(deps, options.guard);
        const live = await pollEvents(deps);
        // Low-latency mode with probeIdGaps: the rows committed late behind the live read, found
        // at the ids it skipped, before the sweep (which then passes them by).
        const probeDeps = eventIdGapProbeDeps(rt, stream, deps);
        const probe = probeDeps ? await probeIdGaps(probeDeps) : undefined;
        if (probe?.late) probedLateRows.inc({ source: rt.config.source.name, stream }, probe.late);
        // Low-latency mode: the sweep behind the live read, in the same singleton slot (it reads
        // the live checkpoint as this poll left it). Idle, one Redis read.
        const sweep = await sweepEvents(eventSweepDeps(rt, stream, deps));
        if (sweep.late > 0) sweptLateRows.inc({ source: rt.config.source.name, stream }, sweep.late);
        result = {
          ...live,
          ...(sweep.stoppedBy === 'idle' ? {} : { sweep }),
          ...(probe?.gaps ? { probe } : {}),
        };
        found = live.rows > 0 || sweep.late > 0 || (probe?.late ?? 0) > 0;
        readUpTo = await rt.progress.caughtUp(stream);
      } else {
        const lots = await pollLots(lotPollDeps(rt, stream));
        result = lots;
        found = lots.changed > 0 || lots.vanished > 0;
        // A lot table is read whole: the stream has read everything up to now.
        readUpTo = Math.floor(Date.now() / 1000);
        await rt.progress.setCaughtUp(stream, readUpTo);
      }
      if (readUpTo !== undefined)
        streamLag.set({ source: rt.config.source.name, stream }, Math.max(0, Date.now() / 1000 - readUpTo));
      // The poll's bookkeeping, independent of each other: issued together, they leave in one
      // write (the state client pipelines what is sent in one tick). Socket writes of Redis
      // commands were the largest part of an idle source's CPU.
      await Promise.all([
        rt.progress.setPolled(stream),
        keepPollInterval({
          cfg: rt.config.streams[stream],
          scheduledEvery: scheduledEvery(job, stream),
          found,
          nowMs: Date.now(),
          foundRowsAt: () => rt.progress.foundRowsAt(stream),
          setFoundRows: (atMs) => rt.progress.setFoundRows(stream, atMs),
          reschedule: (everyMs) => upsertPollSchedule(rt.queues, stream, everyMs),
        }),
        rt.activity.recordRecovered(stream, 'poll'),
      ]);
      rt.outages.recovered('vendor');
      return result;
    } catch (error) {
      if (error instanceof StateLostMidPoll) return { skipped: 'state lost' };
      await rt.activity.recordError(stream, `poll: ${(error as Error).message}`, Date.now(), 'poll');
      if (error instanceof VendorUnavailableError) {
        rt.outages.attemptFailed('vendor', new Error(error.reason));
        return { skipped: 'vendor database unreachable' };
      }
      rt.outages.release('vendor');
      throw error;
    }
  };
}

/** The interval the scheduler made this poll job at; undefined for a poll queued otherwise. */
function scheduledEvery(job: Job, stream: StreamName): number | undefined {
  if (job.repeatJobKey !== pollSchedulerId(stream)) return undefined;
  // Scheduler-made jobs carry their repeat options (internal to BullMQ's types, public in its data).
  const every = (job.opts as { repeat?: { every?: unknown } }).repeat?.every;
  return typeof every === 'number' ? every : undefined;
}

/** The state was lost while a poll ran: it stops before reading anything. */
class StateLostMidPoll extends Error {}

/**
 * A stream without a checkpoint is read from its first row. After a loss of Redis's data (a flush
 * between the guard's check and a page's read of the checkpoint) that would send the whole history
 * again with an empty ledger, so a missing checkpoint is believed only while the state marker
 * says the state is intact. (Seen once without this: test/chaos/state-loss.test.ts received 97
 * events twice after a FLUSHALL, all older than the loss.)
 */
function believeOnlyIntactState(deps: { getCheckpoint(): Promise<Cursor | null> }, guard: StateGuard): void {
  const read = deps.getCheckpoint.bind(deps);
  deps.getCheckpoint = async () => {
    const checkpoint = await read();
    if (checkpoint === null && !(await guard.check({ keepEvidence: false })).ok) throw new StateLostMidPoll();
    return checkpoint;
  };
}
