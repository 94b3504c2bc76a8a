/**
 * Starts the BullMQ workers of a process, by role: `scheduler` (job schedulers, full sync, lot health alerts),
 * `poller` (one poll per stream at a time, cluster-wide), `pusher` (push queues). Any number of
 * processes on any number of machines may run any roles against one Redis.
 */
import { Worker, type WorkerOptions } from 'bullmq';
import { STREAM_NAMES } from '../src/config/index.js';
import { photoFileReadsStuck } from '../src/metrics.js';
import { backoffDelay } from '../src/pipeline/backoff.js';
import { PeerPushers, pusherName } from '../src/pipeline/peer-pushers.js';
import { slowestPollEveryMs } from '../src/pipeline/poll-interval.js';
import {
  FULL_SYNC_QUEUE,
  HEALTH_QUEUE,
  pollQueueName,
  pushQueueName,
  workerConnection,
} from '../src/pipeline/queues.js';
import { restoreReconcileGauges } from '../src/pipeline/reconcile/nightly.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { upsertSchedules } from '../src/pipeline/schedules.js';
import { recordSourcePrefix } from '../src/pipeline/source-state.js';
import { StateGuard } from '../src/pipeline/state-guard.js';
import { isEventStream } from '../src/pipeline/streams.js';
import { showPhotoFileReads } from '../src/transform/photo/index.js';
import { ConsumptionMonitor } from './consumption-monitor.js';
import { fullSyncProcessor } from './full-sync.js';
import { healthProcessor } from './health.js';
import { pollProcessor } from './poll.js';
import { pushProcessor } from './push.js';
import { StateWatch } from './state-watch.js';

/** How often the gauge of stuck photo file reads is refreshed (no I/O: a look at this process's counts). */
const PHOTO_SHARE_EVERY_MS = 10_000;

export const ROLES = ['scheduler', 'poller', 'pusher'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningWorkers {
  workers: Worker[];
  /** "Jobs are actually consumed" (for /readyz). */
  monitor: ConsumptionMonitor;
  /** The state marker check (a loss stops polling). */
  guard: StateGuard;
  /** Re-checks the state and re-creates missing schedulers, every stateCheckEveryMs and on reconnect. */
  watch: StateWatch;
  roles: ReadonlySet<Role>;
  /** Stops taking jobs, waits for active ones to finish, closes connections. */
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  /**
   * The name of this process's push workers (default `host:pid`), by which a poll tells its own
   * process's pushers from the others' (src/pipeline/peer-pushers.ts). Unique per process; two
   * worker sets in one process with different names behave as two processes.
   */
  pusherName?: string;
}

export async function startWorkers(
  rt: Runtime,
  roles: ReadonlySet<Role>,
  options: StartWorkersOptions = {},
): Promise<RunningWorkers> {
  const { config } = rt;
  const name = options.pusherName ?? pusherName();
  const base: WorkerOptions = {
    connection: workerConnection(config),
    prefix: config.redis.prefix,
    removeOnComplete: {
      age: config.pipeline.keepCompleted.ageSeconds,
      count: config.pipeline.keepCompleted.count,
    },
    // No removeOnFail: a failed job is kept until an operator replays or discards it (BullMQ keeps
    // every failed job when neither the worker nor the job bounds them; src/pipeline/queues.ts).
    // A dead worker's job is handed on once its lock has expired and two stalled checks have seen
    // it: with BullMQ's default of 30 s between checks a SIGKILL stalled a stream for up to a
    // minute beyond the lock (measured in test/chaos/worker-sigkill.test.ts).
    stalledInterval: 5_000,
    // How long an idle worker blocks before it looks again (s). A new job wakes it at once (BullMQ's
    // marker), so this only sets how often an empty queue costs a round trip. 10 s is the longest
    // BullMQ itself blocks while waiting for a delayed job (a longer block risks a stuck connection
    // after a reconnect); with ~10 workers per source these wakes were much of an idle fleet's work.
    drainDelay: 10,
  };
  // The nightly full sync and the lot health evaluation: short, idempotent jobs that a crash only
  // delays. BullMQ's own 30 s stalled check instead of the 5 s the stream queues need.
  const slow: WorkerOptions = { ...base, stalledInterval: 30_000 };
  const workers: Worker[] = [];
  const track = (worker: Worker, role: Role) => {
    // Through the OutageLog: during a Redis outage every worker reports each reconnect failure.
    worker.on('error', (error) =>
      rt.outages.clientError('redis', error, { queue: worker.name, role }, 'worker error'),
    );
    worker.on('failed', (job, error) =>
      rt.logger.warn(
        { queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, err: error.message },
        'job failed',
      ),
    );
    workers.push(worker);
  };

  // Before any work: is the state in Redis the one this worker knows (or a first run)?
  const guard = new StateGuard(rt, rt.logger);
  await guard.check();
  // A source of a fleet: where its state lives, so `sources` finds it once it is removed.
  const fleetPrefix = config.source.fleetPrefix;
  if (fleetPrefix) await recordSourcePrefix(rt.redis, fleetPrefix, config.source.name, config.redis.prefix);

  // Poll queues are singletons cluster-wide: at most one active poll per stream.
  for (const stream of STREAM_NAMES) await rt.queues.poll[stream].setGlobalConcurrency(1);
  await rt.queues.fullSync.setGlobalConcurrency(1);
  // The last nightly reconcile's gauges, so /metrics after a restart does not read "nothing missing".
  await restoreReconcileGauges(rt).catch((error: Error) =>
    rt.logger.warn({ err: error.message }, 'could not read the last nightly reconcile'),
  );
  await rt.queues.health.setGlobalConcurrency(1);

  if (roles.has('scheduler')) {
    await upsertSchedules(config, rt.queues);
    track(new Worker(FULL_SYNC_QUEUE, fullSyncProcessor(rt), { ...slow, concurrency: 1 }), 'scheduler');
    // Lot health alerts: one evaluation at a time cluster-wide (the queue's global concurrency).
    track(
      new Worker(HEALTH_QUEUE, healthProcessor(rt, { guard }), {
        ...slow,
        concurrency: 1,
        removeOnComplete: { count: 10 },
        removeOnFail: { count: 30 },
      }),
      'scheduler',
    );
  }
  if (roles.has('poller')) {
    const direct = roles.has('pusher') && config.pipeline.directDelivery;
    const processor = pollProcessor(rt, {
      direct,
      guard,
      ...(direct
        ? {
            peers: new PeerPushers(name, {
              onError: (error) =>
                rt.logger.warn(
                  { err: error.message },
                  'could not list the push workers (CLIENT LIST); a backlog is delivered by the poll alone',
                ),
            }),
          }
        : {}),
    });
    for (const stream of STREAM_NAMES) {
      track(
        new Worker(pollQueueName(stream), processor, {
          ...base,
          concurrency: 1,
          // A killed poller's job is handed to another within this time.
          lockDuration: 15_000,
          removeOnComplete: { count: 10 },
          // A failed poll carries no event (the next scheduled poll reads the same rows again):
          // keeping the last 100 is enough to see why.
          removeOnFail: { count: 100 },
        }),
        'poller',
      );
    }
  }
  if (roles.has('pusher')) {
    const processor = pushProcessor(rt);
    const { backoffMs, maxBackoffMs } = config.pipeline;
    for (const stream of STREAM_NAMES) {
      track(
        new Worker(pushQueueName(stream), processor, {
          ...base,
          // Named per process: a poll with a backlog hands it to the queue while other processes push.
          name,
          concurrency:
            // A lot stream's flush sends the latest state per lot: one at a time keeps it ordered.
            isEventStream(stream) ? config.pipeline.pushConcurrency : 1,
          lockDuration: Math.max(30_000, config.isp.timeoutMs * 3),
          // A push re-run is harmless (the ledger skips what ISP has): a job caught by several
          // crashes stays in play instead of landing in the failed set.
          maxStalledCount: 10,
          // Its lock is 30 s or more, so a dead pusher's job waits for that first: checks every
          // 15 s hand it on within a minute of the crash, at a third of the idle cost of 5 s.
          stalledInterval: 15_000,
          maximumRateLimitDelay: maxBackoffMs,
          settings: {
            backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, backoffMs, maxBackoffMs),
          },
        }),
        'pusher',
      );
    }
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const queueByName = new Map(rt.queues.all().map((q) => [q.name, q]));
  const monitor = new ConsumptionMonitor(
    workers.map((worker) => {
      const stream = STREAM_NAMES.find((s) => worker.name.endsWith(`-${s}`));
      // An idle stream's polls are idlePollEveryMs apart (src/pipeline/poll-interval.ts).
      const every = stream ? slowestPollEveryMs(config.streams[stream]) : 60_000;
      return { worker, queue: queueByName.get(worker.name)!, thresholdMs: Math.max(60_000, 10 * every) };
    }),
  );
  const watch = new StateWatch(rt, guard, {
    scheduler: roles.has('scheduler'),
    logger: rt.logger,
    everyMs: config.pipeline.stateCheckEveryMs,
  });
  watch.start();
  await watch.checkNow();
  // A hung photo share, on /metrics: the stuck reads are this process's (its threads), so the
  // gauge is refreshed here rather than read from Redis.
  const source = config.source.name;
  const photoShare = config.photo.fileRoot
    ? setInterval(() => showPhotoFileReads(source, config.photo), PHOTO_SHARE_EVERY_MS).unref()
    : undefined;
  if (photoShare) showPhotoFileReads(source, config.photo);
  return {
    workers,
    monitor,
    guard,
    watch,
    roles,
    async close() {
      watch.stop();
      if (photoShare) {
        clearInterval(photoShare);
        photoFileReadsStuck.remove({ source });
      }
      monitor.stopping = true;
      await Promise.allSettled(workers.map((w) => w.close()));
    },
  };
}
