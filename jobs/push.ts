/**
 * BullMQ processor of the push queues. Turns the pipeline's typed failures into queue behaviour:
 * - ISP unavailable: retry with backoff; after a few failures in a row the whole queue is rate
 *   limited (workers pause instead of burning attempts) and resumes by itself;
 * - code 1: retried `rejectedAttempts` times, then the batch is split (events: each record alone;
 *   lots: halves) and the rejected records are parked alone in the failed set with ISP's message;
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
import { blockFollowers, unblockFollowers } from '../src/pipeline/events/departure-gate.js';
import { pushEvents } from '../src/pipeline/events/push.js';
import { eventPushDeps, pushContext } from '../src/pipeline/events/push-deps.js';
import { sendCurrentState } from '../src/pipeline/lots/current-state.js';
import { flushLots } from '../src/pipeline/lots/flush.js';
import { lotFlushDeps } from '../src/pipeline/lots/flush-deps.js';
import { type PushJobData, readPushJob } from '../src/pipeline/push-queue.js';
import type { Runtime } from '../src/pipeline/runtime.js';

/** Failures in a row (per stream, this process) after which the queue pauses instead of retrying at once. */
const OUTAGE_AFTER = 3;

export function pushProcessor(rt: Runtime) {
  const failuresInARow = new Map<string, number>();
  /** Per stream: end of the pause the last counted failure set (epoch ms). */
  const pausedUntil = new Map<string, number>();

  return async (job: Job) => {
    const data = readPushJob(job.data);
    if (!data) throw new UnrecoverableError(`not a push job: ${JSON.stringify(job.data).slice(0, 200)}`);
    const { stream } = data;
    try {
      const result = await runPush(rt, job, data);
      failuresInARow.set(stream, 0);
      if (data.kind === 'events') {
        if (!data.isolated) await rt.progress.settle(stream, String(job.id));
        await unblockFollowers(rt, data.stream, String(job.id));
      }
      return result;
    } catch (error) {
      if (error instanceof RecordRejectedError) {
        eventsRejected.inc({ source: rt.config.source.name, stream });
        await rt.activity.recordError(stream, error.message);
        // Counted against its lot: a lot whose events ISP mostly refuses alerts.
        if (data.kind === 'events')
          for (const r of data.records) await rt.health.countOutcome(r.lot, 'refused');
        // A refused entrance in the failed set holds its lot's later departures, no one else's.
        if (data.kind === 'events') await blockFollowers(rt, data.stream, String(job.id), data.records);
        throw new UnrecoverableError(error.message);
      }
      await rt.activity.recordError(stream, (error as Error).message);
      if (error instanceof IspRejectedError) {
        await job.updateData({ ...data, rejections: (data.rejections ?? 0) + 1 });
        // Being split may take long: its own lots' departures wait, every other lot's go on.
        if (data.kind === 'events') await blockFollowers(rt, data.stream, String(job.id), data.records);
        throw error;
      }
      if (error instanceof IspUnavailableError || error instanceof IspAuthError) {
        const since = data.failingSince ?? Date.now();
        if (Date.now() - since > rt.config.pipeline.retryForMs) {
          // A later replay starts a fresh retry window (and counts what it delivers as replayed).
          await job.updateData({
            ...data,
            failingSince: undefined,
            ...(data.kind === 'events' ? { gaveUp: true } : {}),
          });
          await rt.progress.settle(stream, String(job.id));
          if (data.kind === 'events') await blockFollowers(rt, data.stream, String(job.id), data.records);
          throw new UnrecoverableError(
            `gave up after ${Math.round((Date.now() - since) / 60_000)} min: ${error.message}`,
          );
        }
        if (data.failingSince === undefined) await job.updateData({ ...data, failingSince: since });
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

async function runPush(rt: Runtime, job: Job, data: PushJobData) {
  const split = (data.rejections ?? 0) + 1 >= rt.config.pipeline.rejectedAttempts;
  // First run of a record (or lot) isolated by a split: ISP has just rejected it; park it in the
  // failed set without sending again. A replay (retry) sends it.
  if (data.kind === 'events' && data.isolated && !data.isolated.parked) {
    await job.updateData({ ...data, isolated: { ...data.isolated, parked: true } });
    throw new RecordRejectedError(data.isolated.message, data.records[0]?.key ?? '?');
  }
  if (data.kind === 'lots' && data.isolated && !data.isolated.parked) {
    await job.updateData({ ...data, isolated: { ...data.isolated, parked: true } });
    throw new RecordRejectedError(data.isolated.message, data.isolated.item.code);
  }
  if (data.kind === 'events') {
    const key = data.isolated ? data.records[0]?.key : undefined;
    const deps = eventPushDeps(rt, data.stream, pushContext(job, data));
    // A split keeps what it learned across attempts: records already isolated are not sent again
    // when the job is retried after a transient error (delivered ones the ledger skips).
    const isolatedBefore = new Set(data.isolatedKeys);
    const records = isolatedBefore.size
      ? data.records.filter((r) => !isolatedBefore.has(r.key))
      : data.records;
    const isolate = deps.isolate;
    deps.isolate = async (rejected) => {
      await isolate(rejected);
      data.isolatedKeys = [...(data.isolatedKeys ?? []), ...rejected.map((r) => r.record.key)];
      await job.updateData(data);
    };
    deps.onSplit = async () => {
      if (data.splitting) return;
      data.splitting = true;
      await job.updateData(data);
      // A split takes a request per record: its own lots' departures wait, every other lot's go on.
      await blockFollowers(rt, data.stream, String(job.id), records);
    };
    // A split cut short by a transient error goes on record by record, and so does a batch ISP
    // refused as often as it may be: the same batch is not sent again first. Such a job holds only
    // its own lots' departures meanwhile, not the watermark.
    if (data.splitting || (!data.isolated && (data.rejections ?? 0) >= rt.config.pipeline.rejectedAttempts)) {
      deps.maxItems = 1;
      await blockFollowers(rt, data.stream, String(job.id), records);
    }
    const push = () =>
      pushEvents(records, deps, {
        ledger: data.resend ? 'resend' : 'check',
        // A replayed single record is sent alone; rejected again, it goes back to the failed set.
        splitRejected: data.isolated ? false : split,
        ...(key === undefined ? {} : { isolatedKey: key }),
      });
    return rt.config.streams[data.stream].photo ? rt.photoPushes(push) : push();
  }
  const deps = lotFlushDeps(rt, data.stream, job, split);
  // A replayed lot, count or DELETE: what the vendor holds now, never the job's old snapshot.
  if (data.isolated) return sendCurrentState(rt, { ...data, isolated: data.isolated }, deps);
  return flushLots(deps);
}
