/**
 * BullMQ processor of the push queues. Turns the pipeline's typed failures into queue behaviour:
 * - ISP unavailable: retry with backoff; after a few failures in a row the whole queue is rate
 *   limited (workers pause instead of burning attempts) and resumes by itself;
 * - code 1: retried `rejectedAttempts` times, then the batch is bisected and the rejected records
 *   are parked alone in the failed set with ISP's message;
 * - a job failing for longer than `retryForMs` goes to the failed set, replayable.
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { eventsRejected } from '../src/metrics.js';
import { backoffDelay } from '../src/pipeline/backoff.js';
import {
  IspAuthError,
  IspRejectedError,
  IspUnavailableError,
  RecordRejectedError,
} from '../src/pipeline/errors.js';
import { pushEvents } from '../src/pipeline/events/push.js';
import { flushState } from '../src/pipeline/lots/lot-streams.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import {
  eventPushDeps,
  jobRecords,
  type PushJobData,
  pushContext,
  stateFlushDeps,
} from '../src/pipeline/wiring.js';

/** Failures in a row (per stream, this process) after which the queue pauses instead of retrying at once. */
const OUTAGE_AFTER = 3;

export function pushProcessor(rt: Runtime) {
  const failuresInARow = new Map<string, number>();
  /** Per stream: end of the pause the last counted failure set (epoch ms). */
  const pausedUntil = new Map<string, number>();

  return async (job: Job<PushJobData>) => {
    const { stream } = job.data;
    try {
      const result = await runPush(rt, job);
      failuresInARow.set(stream, 0);
      if (job.data.kind === 'events' && !job.data.isolated) await rt.progress.settle(stream, String(job.id));
      return result;
    } catch (error) {
      if (error instanceof RecordRejectedError) {
        eventsRejected.inc({ stream });
        await rt.activity.recordError(stream, error.message);
        throw new UnrecoverableError(error.message);
      }
      await rt.activity.recordError(stream, (error as Error).message);
      if (error instanceof IspRejectedError) {
        await job.updateData({ ...job.data, rejections: (job.data.rejections ?? 0) + 1 });
        throw error;
      }
      if (error instanceof IspUnavailableError || error instanceof IspAuthError) {
        const since = job.data.failingSince ?? Date.now();
        if (Date.now() - since > rt.config.pipeline.retryForMs) {
          // A later replay starts a fresh retry window.
          await job.updateData({ ...job.data, failingSince: undefined });
          await rt.progress.settle(stream, String(job.id));
          throw new UnrecoverableError(
            `gave up after ${Math.round((Date.now() - since) / 60_000)} min: ${error.message}`,
          );
        }
        if (job.data.failingSince === undefined) await job.updateData({ ...job.data, failingSince: since });
        const now = Date.now();
        const pause = pausedUntil.get(stream) ?? 0;
        if (now < pause) {
          // A job that was in flight with the one that set the pause: the same failure, not one
          // more in a row (counting each would double the pause per concurrent job, so a few
          // seconds of outage paused the stream for minutes: test/bench catch-up).
          await rt.queues.push[stream].rateLimit(pause - now);
          throw Worker.RateLimitError();
        }
        const inARow = (failuresInARow.get(stream) ?? 0) + 1;
        failuresInARow.set(stream, inARow);
        if (inARow >= OUTAGE_AFTER) {
          const { backoffMs, maxBackoffMs } = rt.config.pipeline;
          const wait = Math.max(
            backoffDelay(inARow - OUTAGE_AFTER + 1, backoffMs, maxBackoffMs),
            error instanceof IspUnavailableError ? (error.retryAfterMs ?? 0) : 0,
          );
          pausedUntil.set(stream, now + wait);
          await rt.queues.push[stream].rateLimit(wait);
          throw Worker.RateLimitError();
        }
      }
      throw error;
    }
  };
}

async function runPush(rt: Runtime, job: Job<PushJobData>) {
  const data = job.data;
  const bisect = (data.rejections ?? 0) + 1 >= rt.config.pipeline.rejectedAttempts;
  if (data.isolated && !data.isolated.parked) {
    // First run of a record isolated by bisection: ISP has just rejected it; park it in the
    // failed set without sending again. A replay (retry) sends it.
    await job.updateData({ ...data, isolated: { ...data.isolated, parked: true } } as PushJobData);
    const key = data.kind === 'events' ? (data.records[0]?.key ?? '?') : data.isolated.item.code;
    throw new RecordRejectedError(data.isolated.message, key);
  }
  if (data.kind === 'events') {
    const records = jobRecords(data.records);
    if (data.isolated) {
      // A replayed single record: sent alone; rejected again means back to the failed set.
      const result = await pushEvents(records, eventPushDeps(rt, data.stream, pushContext(job)), {
        force: data.force ?? false,
        bisectRejected: false,
      }).catch((error) => {
        if (error instanceof IspRejectedError)
          throw new RecordRejectedError(error.ispMessage, data.records[0]?.key ?? '?');
        throw error;
      });
      return result;
    }
    return pushEvents(records, eventPushDeps(rt, data.stream, pushContext(job)), {
      force: data.force ?? false,
      bisectRejected: bisect,
    });
  }
  if (data.isolated) {
    const item = data.isolated.item;
    const deps = stateFlushDeps(rt, data.stream, job, false);
    const outcome = await deps.send([item.payload]);
    if (outcome.kind === 'rejected') throw new RecordRejectedError(outcome.message, item.code);
    if (outcome.kind !== 'delivered')
      throw outcome.kind === 'auth-failed'
        ? new IspAuthError(outcome.message)
        : new IspUnavailableError(outcome.reason);
    return { sent: 1 };
  }
  return flushState(stateFlushDeps(rt, data.stream, job, bisect));
}
