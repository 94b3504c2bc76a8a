/**
 * The nightly reconcile's results, one per vendor day, kept as long as reconciliation can look
 * back (`reconcile.retainDays`): what the status page's lot × day grid and the daily report read.
 * Compact by construction: counts per lot and stream, and at most a hundred missing keys per row,
 * never copies of jobs or payloads.
 *
 * Keys (under the configured prefix):
 *   <prefix>:state:reconcile:day:<yyyy-MM-dd>  string  the day's result (JSON), expires with retention
 *   <prefix>:state:reconcile:days              zset    days by their start (Unix s)
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export class ReconcileResultStore<T> {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private dayKey(day: string) {
    return stateKey(this.prefix, 'reconcile', 'day', day);
  }

  private indexKey() {
    return stateKey(this.prefix, 'reconcile', 'days');
  }

  /** Stores (replaces) a day's result until `expireAt` (Unix s); forgets days expired by then. */
  async put(day: string, dayStart: number, result: T, expireAt: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.dayKey(day), JSON.stringify(result), 'EXAT', Math.ceil(expireAt))
      .zadd(this.indexKey(), dayStart, day)
      .exec();
  }

  async get(day: string): Promise<T | undefined> {
    const json = await this.redis.get(this.dayKey(day));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  /** The latest `count` days still kept, newest first. */
  async recent(count: number): Promise<T[]> {
    const days = await this.redis.zrevrange(this.indexKey(), 0, count - 1);
    if (days.length === 0) return [];
    const jsons = await this.redis.mget(...days.map((d) => this.dayKey(d)));
    const gone = days.filter((_, i) => jsons[i] === null);
    if (gone.length) await this.redis.zrem(this.indexKey(), ...gone);
    return jsons.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as T);
  }
}
