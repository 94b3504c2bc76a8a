/**
 * The job schedulers (bullmq 6; repeatable jobs are gone): one poll per stream at its interval and
 * the nightly full sync at a cron time in an explicit zone. Upserting is idempotent, so every
 * process with the scheduler role may do it at start.
 */

import type { Queue } from 'bullmq';
import type { Config, StreamName } from '../config/index.js';
import { STREAM_NAMES } from '../config/index.js';
import type { Queues } from './queues.js';

export const pollSchedulerId = (stream: string) => `poll-${stream}-every`;
export const FULL_SYNC_SCHEDULER_ID = 'full-sync-nightly';
export const HEALTH_SCHEDULER_ID = 'lot-health-every';

/** The poll job scheduler of `stream`, polling every `everyMs` (a changed interval takes effect from now). */
export async function upsertPollSchedule(queues: Queues, stream: StreamName, everyMs: number): Promise<void> {
  await queues.poll[stream].upsertJobScheduler(
    pollSchedulerId(stream),
    { every: everyMs },
    {
      name: `poll-${stream}`,
      data: { stream },
      opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
    },
  );
}

export async function upsertSchedules(config: Config, queues: Queues): Promise<void> {
  // At the usual interval: a stream that is idle goes back to its idle interval at its next poll
  // (src/pipeline/poll-interval.ts).
  for (const stream of STREAM_NAMES)
    await upsertPollSchedule(queues, stream, config.streams[stream].pollEveryMs);
  const { cron, tz } = config.pipeline.fullSync;
  await queues.fullSync.upsertJobScheduler(
    FULL_SYNC_SCHEDULER_ID,
    { pattern: cron, tz },
    {
      name: 'full-sync',
      data: { reason: 'nightly' },
      opts: { removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } },
    },
  );
  // Scheduled even with alerts off (the job then does nothing): the expected schedulers stay one list.
  await queues.health.upsertJobScheduler(
    HEALTH_SCHEDULER_ID,
    { every: config.alerts.evaluateEveryMs },
    {
      name: 'lot-health',
      data: {},
      opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 30 } },
    },
  );
}

/** When the nightly full sync runs next (epoch ms), as BullMQ computed it. */
export async function nextFullSync(queues: Queues): Promise<number | undefined> {
  const scheduler = await queues.fullSync.getJobScheduler(FULL_SYNC_SCHEDULER_ID);
  return scheduler?.next ?? undefined;
}

/** Ids of the job schedulers config asks for, with their queues. */
function expectedSchedulers(queues: Queues): Array<{ queue: Queue; id: string }> {
  return [
    ...STREAM_NAMES.map((stream) => ({ queue: queues.poll[stream], id: pollSchedulerId(stream) })),
    { queue: queues.fullSync, id: FULL_SYNC_SCHEDULER_ID },
    { queue: queues.health, id: HEALTH_SCHEDULER_ID },
  ];
}

/** The job schedulers that are missing from Redis, as `queue/id`. Reads only. */
export async function missingSchedules(queues: Queues): Promise<string[]> {
  const missing: string[] = [];
  for (const { queue, id } of expectedSchedulers(queues)) {
    if (!(await queue.getJobScheduler(id))) missing.push(`${queue.name}/${id}`);
  }
  return missing;
}

/** Poll, full-sync and lot-health queues whose cluster-wide concurrency of 1 is gone (it lives in Redis). */
export async function missingGlobalConcurrency(queues: Queues): Promise<string[]> {
  const missing: string[] = [];
  for (const queue of [...Object.values(queues.poll), queues.fullSync, queues.health]) {
    if ((await queue.getGlobalConcurrency()) !== 1) missing.push(queue.name);
  }
  return missing;
}

/**
 * Puts back what config owns in Redis and Redis may have lost (a flush, a failover, a scheduler
 * deleted by hand): the job schedulers and the poll queues' global concurrency. Returns what it
 * re-created; nothing when all is there.
 */
export async function ensureSchedules(config: Config, queues: Queues): Promise<string[]> {
  const concurrency = await missingGlobalConcurrency(queues);
  for (const name of concurrency)
    await queues
      .all()
      .find((q) => q.name === name)
      ?.setGlobalConcurrency(1);
  const schedulers = await missingSchedules(queues);
  if (schedulers.length) await upsertSchedules(config, queues);
  return [...schedulers, ...concurrency.map((name) => `${name} global concurrency`)];
}

/**
 * Removes a source's job schedulers, so no process polls it any more (a source taken out of the
 * config). Its jobs, failed set and state stay until purged on purpose.
 */
export async function removeSchedules(queues: Queues): Promise<void> {
  for (const { queue, id } of expectedSchedulers(queues)) await queue.removeJobScheduler(id);
}
