/**
 * The job schedulers (bullmq 6; repeatable jobs are gone): one poll per stream at its interval and
 * the nightly full sync at a cron time in an explicit zone. Upserting is idempotent, so every
 * process with the scheduler role may do it at start.
 */
import type { Config } from '../config/index.js';
import { STREAM_NAMES } from '../config/index.js';
import type { Queues } from './queues.js';

export const pollSchedulerId = (stream: string) => `poll-${stream}-every`;
export const FULL_SYNC_SCHEDULER_ID = 'full-sync-nightly';

export async function upsertSchedules(config: Config, queues: Queues): Promise<void> {
  for (const stream of STREAM_NAMES) {
    const every = config.streams[stream].pollEveryMs;
    await queues.poll[stream].upsertJobScheduler(
      pollSchedulerId(stream),
      { every },
      {
        name: `poll-${stream}`,
        data: { stream },
        opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
      },
    );
  }
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
}

/** When the nightly full sync runs next (epoch ms), as BullMQ computed it. */
export async function nextFullSync(queues: Queues): Promise<number | undefined> {
  const scheduler = await queues.fullSync.getJobScheduler(FULL_SYNC_SCHEDULER_ID);
  return scheduler?.next ?? undefined;
}
