/**
 * How far each event stream has got, for the departure gate and the status page:
 * - `caughtUp`: every vendor row with a cursor time before this (Unix s) has been read and handed
 *   on (enqueued or quarantined);
 * - pending push jobs with their earliest event time, removed when a job is settled (delivered,
 *   or parked in the failed set).
 * - in low-latency mode, `sweptUpTo`: where the sweep behind the live read has got (rows committed
 *   late before it have been handed on).
 * The entrance watermark is the smallest of them: every entrance before it is settled, so a
 * departure before it can go without overtaking its entrance.
 *
 * Backfills keep their jobs in a set of their own, with a *hold* at the time a running backfill has
 * read up to (renewed while it runs, gone with it when it dies). Departures wait for those too (a
 * car backfilled in may be leaving now), while a backfill's own range is cut by live work only, so
 * two backfills of different ranges do not stop each other.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export class StreamProgress {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private caughtUpKey(stream: string) {
    return stateKey(this.prefix, 'caught-up', stream);
  }

  private pendingKey(stream: string) {
    return stateKey(this.prefix, 'pending-jobs', stream);
  }

  private backfillKey(stream: string) {
    return stateKey(this.prefix, 'pending-backfill', stream);
  }

  private holdKey(stream: string, holdId: string) {
    return stateKey(this.prefix, 'backfill-hold', stream, holdId);
  }

  /** A poll of `stream` ended without an error at `atMs` (readiness: is the stream still polled?). */
  async setPolled(stream: string, atMs = Date.now()): Promise<void> {
    await this.redis.set(stateKey(this.prefix, 'polled-at', stream), String(atMs));
  }

  /** When a poll of `stream` last ended without an error, epoch ms. */
  async polledAt(stream: string): Promise<number | undefined> {
    const value = await this.redis.get(stateKey(this.prefix, 'polled-at', stream));
    return value === null ? undefined : Number(value);
  }

  async setCaughtUp(stream: string, epoch: number): Promise<void> {
    await this.redis.set(this.caughtUpKey(stream), String(epoch));
  }

  async caughtUp(stream: string): Promise<number | undefined> {
    const value = await this.redis.get(this.caughtUpKey(stream));
    return value === null ? undefined : Number(value);
  }

  private sweptKey(stream: string) {
    return stateKey(this.prefix, 'swept-up-to', stream);
  }

  /**
   * The low-latency sweep of `stream` has handed on every row committed late before `epoch` (Unix
   * s). While set, it bounds the watermark too: a row before the live read may still come from it.
   */
  async setSweptUpTo(stream: string, epoch: number): Promise<void> {
    await this.redis.set(this.sweptKey(stream), String(epoch));
  }

  async sweptUpTo(stream: string): Promise<number | undefined> {
    const value = await this.redis.get(this.sweptKey(stream));
    return value === null ? undefined : Number(value);
  }

  /** No sweep is due (a guarded stream whose sweep caught up, or a resume that re-reads anyway). */
  async clearSweptUpTo(stream: string): Promise<void> {
    await this.redis.del(this.sweptKey(stream));
  }

  /** Jobs enqueued, with their earliest event time; `backfill`: enqueued by a backfill. */
  async addPending(
    stream: string,
    jobs: Array<{ id: string; firstTime: number }>,
    options: { backfill?: boolean } = {},
  ): Promise<void> {
    if (jobs.length === 0) return;
    const args = jobs.flatMap((j) => [j.firstTime, j.id]);
    const key = options.backfill ? this.backfillKey(stream) : this.pendingKey(stream);
    await this.redis.zadd(key, ...args);
  }

  /** A job is delivered or parked: it no longer holds anything back (live or backfill). */
  async settle(stream: string, jobId: string): Promise<void> {
    // One round trip, no MULTI (each removal stands alone): this runs for every job.
    await this.redis
      .pipeline()
      .zrem(this.pendingKey(stream), jobId)
      .zrem(this.backfillKey(stream), jobId)
      .exec();
  }

  /**
   * A pending job has delivered its records before `epoch` (Unix s): it holds only from there on.
   * Never moves back, and never re-adds a job already settled.
   */
  async advance(stream: string, jobId: string, epoch: number): Promise<void> {
    await this.redis
      .pipeline()
      .zadd(this.pendingKey(stream), 'XX', 'GT', epoch, jobId)
      .zadd(this.backfillKey(stream), 'XX', 'GT', epoch, jobId)
      .exec();
  }

  /**
   * A running backfill has read `stream` up to `epoch` (Unix s) and will read on: events from there
   * on may still come. Lapses after `ttlMs` unless renewed, so a killed backfill cannot hold for ever.
   */
  async hold(stream: string, holdId: string, epoch: number, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.holdKey(stream, holdId), '1', 'PX', ttlMs)
      .zadd(this.backfillKey(stream), epoch, `${HOLD}${holdId}`)
      .exec();
  }

  async release(stream: string, holdId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.backfillKey(stream), `${HOLD}${holdId}`)
      .del(this.holdKey(stream, holdId))
      .exec();
  }

  private async oldest(key: string, count: number): Promise<Array<{ id: string; firstTime: number }>> {
    const flat = await this.redis.zrange(key, 0, count - 1, 'WITHSCORES');
    const out: Array<{ id: string; firstTime: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, firstTime: Number(flat[i + 1]) });
    return out;
  }

  /**
   * The time before which every event of `stream` is settled, or undefined if nothing was ever read.
   * `isLive(jobId)` says whether a pending job still exists unsettled; entries left by a crash
   * between bookkeeping and enqueue are dropped here, so the watermark cannot stick.
   * `withBackfills`: also before every pending backfill job and running backfill (departure gates);
   * then defined as soon as either the live poll or a backfill has read something.
   */
  async watermark(
    stream: string,
    isLive: (jobId: string) => Promise<boolean>,
    options: { withBackfills?: boolean } = {},
  ): Promise<number | undefined> {
    return (await this.watermarkReading(stream, isLive, options)).mark;
  }

  /**
   * The watermark and what holds it, read in one round trip while no job is pending (a departure
   * poll waiting at its gate looks at it every few milliseconds): `heldBy` `jobs` when pending jobs,
   * backfills or the sweep hold it below where the stream has read (they settle on their own, soon),
   * `read` when only the stream's own read does (it moves when the stream's next poll ends: `polledAt`,
   * with `foundRowsAt` for its interval).
   */
  async watermarkReading(
    stream: string,
    isLive: (jobId: string) => Promise<boolean>,
    options: { withBackfills?: boolean } = {},
  ): Promise<WatermarkReading> {
    const replies = await this.redis
      .pipeline()
      .get(this.caughtUpKey(stream))
      .get(this.sweptKey(stream))
      .zrange(this.pendingKey(stream), 0, 0, 'WITHSCORES')
      .zrange(this.backfillKey(stream), 0, 0, 'WITHSCORES')
      .get(stateKey(this.prefix, 'polled-at', stream))
      .get(this.foundRowsKey(stream))
      .exec();
    const value = (i: number): unknown => {
      const [error, result] = replies?.[i] ?? [new Error('no reply')];
      if (error) throw error;
      return result;
    };
    const num = (i: number) => {
      const v = value(i);
      return v === null || v === undefined ? undefined : Number(v);
    };
    const firstScore = (i: number) => {
      const flat = value(i) as string[];
      return flat.length >= 2 ? { id: flat[0]!, firstTime: Number(flat[1]) } : null;
    };
    const caughtUp = num(0);
    const swept = num(1);
    let mark =
      caughtUp === undefined
        ? Number.POSITIVE_INFINITY
        : Math.min(
            caughtUp,
            swept ?? Number.POSITIVE_INFINITY,
            await this.oldestLive(this.pendingKey(stream), isLive, firstScore(2)),
          );
    if (options.withBackfills) {
      const live = (id: string) =>
        id.startsWith(HOLD)
          ? this.redis.exists(this.holdKey(stream, id.slice(HOLD.length))).then((n) => n === 1)
          : isLive(id);
      mark = Math.min(mark, await this.oldestLive(this.backfillKey(stream), live, firstScore(3)));
    }
    const polledAt = num(4);
    const foundRowsAt = num(5);
    return {
      mark: Number.isFinite(mark) ? mark : undefined,
      ...(caughtUp !== undefined ? { caughtUp } : {}),
      heldBy: Number.isFinite(mark) && (caughtUp === undefined || mark < caughtUp) ? 'jobs' : 'read',
      ...(polledAt !== undefined ? { polledAt } : {}),
      ...(foundRowsAt !== undefined ? { foundRowsAt } : {}),
    };
  }

  private foundRowsKey(stream: string) {
    return stateKey(this.prefix, 'found-rows-at', stream);
  }

  /** A poll of `stream` found rows (or lot changes) at `atMs`: idle polling (src/pipeline/poll-interval.ts). */
  async setFoundRows(stream: string, atMs = Date.now()): Promise<void> {
    await this.redis.set(this.foundRowsKey(stream), String(atMs));
  }

  /** When a poll of `stream` last found rows, epoch ms (undefined: never noted). */
  async foundRowsAt(stream: string): Promise<number | undefined> {
    const value = await this.redis.get(this.foundRowsKey(stream));
    return value === null ? undefined : Number(value);
  }

  /**
   * Event time (Unix s) of the earliest event in a live poll's push job not yet settled, or
   * undefined when none waits (lot health: how long delivered events wait). Drops dead entries
   * as `watermark` does.
   */
  async oldestPending(
    stream: string,
    isLive: (jobId: string) => Promise<boolean>,
  ): Promise<number | undefined> {
    const oldest = await this.oldestLive(this.pendingKey(stream), isLive);
    return Number.isFinite(oldest) ? oldest : undefined;
  }

  /** First event time of the oldest entry of `key` still live (Infinity: none), dropping dead ones. */
  private async oldestLive(
    key: string,
    isLive: (id: string) => Promise<boolean>,
    /** The oldest entry, already read (null: none); one round trip for the whole watermark. */
    first?: { id: string; firstTime: number } | null,
  ): Promise<number> {
    let known = first;
    for (;;) {
      const oldest = known === undefined ? (await this.oldest(key, 1))[0] : (known ?? undefined);
      known = undefined;
      if (!oldest) return Number.POSITIVE_INFINITY;
      if (await isLive(oldest.id)) return oldest.firstTime;
      await this.redis.zrem(key, oldest.id);
    }
  }
}

/** The watermark and what holds it (`StreamProgress.watermarkReading`). */
export interface WatermarkReading {
  mark: number | undefined;
  /** `jobs`: pending jobs, backfills or the sweep; `read`: only how far the stream has read (or nothing read yet). */
  heldBy: 'jobs' | 'read';
  /** Where the stream's live read has got (`caughtUp`). */
  caughtUp?: number;
  /** When the stream's last poll ended without an error, epoch ms. */
  polledAt?: number;
  /** When a poll of the stream last found rows, epoch ms. */
  foundRowsAt?: number;
}

/** Member prefix of a running backfill's hold in a backfill set (BullMQ refuses ':' in job ids). */
const HOLD = 'hold:';
