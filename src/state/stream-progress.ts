/**
 * How far each event stream has got, for the departure gate and the status page:
 * - `caughtUp`: every vendor row with a cursor time before this (Unix s) has been read and handed
 *   on (enqueued or quarantined);
 * - pending push jobs with their earliest event time, removed when a job is settled (delivered,
 *   or parked in the failed set).
 * The entrance watermark is the smaller of the two: every entrance before it is settled, so a
 * departure before it can go without overtaking its entrance.
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export class StreamProgress {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private caughtUpKey(stream: string) {
    return stateKey(this.prefix, 'caught-up', stream);
  }

  private pendingKey(stream: string) {
    return stateKey(this.prefix, 'pending-jobs', stream);
  }

  async setCaughtUp(stream: string, epoch: number): Promise<void> {
    await this.redis.set(this.caughtUpKey(stream), String(epoch));
  }

  async caughtUp(stream: string): Promise<number | undefined> {
    const value = await this.redis.get(this.caughtUpKey(stream));
    return value === null ? undefined : Number(value);
  }

  async addPending(stream: string, jobs: Array<{ id: string; firstTime: number }>): Promise<void> {
    if (jobs.length === 0) return;
    const args = jobs.flatMap((j) => [j.firstTime, j.id]);
    await this.redis.zadd(this.pendingKey(stream), ...args);
  }

  async settle(stream: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.pendingKey(stream), jobId);
  }

  /** Earliest pending jobs (id, first event time), oldest first. */
  async oldestPending(stream: string, count = 1): Promise<Array<{ id: string; firstTime: number }>> {
    const flat = await this.redis.zrange(this.pendingKey(stream), 0, count - 1, 'WITHSCORES');
    const out: Array<{ id: string; firstTime: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, firstTime: Number(flat[i + 1]) });
    return out;
  }

  /**
   * The time before which every event of `stream` is settled, or undefined if nothing was ever read.
   * `isLive(jobId)` says whether a pending job still exists unsettled; entries left by a crash
   * between bookkeeping and enqueue are dropped here, so the watermark cannot stick.
   */
  async watermark(stream: string, isLive: (jobId: string) => Promise<boolean>): Promise<number | undefined> {
    const caughtUp = await this.caughtUp(stream);
    if (caughtUp === undefined) return undefined;
    for (;;) {
      const [oldest] = await this.oldestPending(stream);
      if (!oldest) return caughtUp;
      if (await isLive(oldest.id)) return Math.min(caughtUp, oldest.firstTime);
      await this.settle(stream, oldest.id);
    }
  }
}
