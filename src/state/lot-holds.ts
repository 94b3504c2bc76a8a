/**
 * Events held back because ISP does not know their lot yet (never registered, or deleted): kept in
 * Redis per lot, in the order they were held, until the lot is registered and they are released.
 * Each held event is the push record as it was (payload without photo), tagged with its stream.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface HeldEvent<R> {
  stream: string;
  record: R;
}

export interface HeldLot {
  code: string;
  count: number;
  /** Why it is held, as the last hold said. */
  reason: string;
  /** When the first event still held was held (ms). */
  since: number;
}

// KEYS: list of the lot, lots hash. ARGV: code, reason, now. Takes everything held for the lot.
const TAKE = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return items`;

export class LotHoldStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private listKey(code: string) {
    return stateKey(this.prefix, 'held', code);
  }

  private lotsKey() {
    return stateKey(this.prefix, 'held-lots');
  }

  async hold<R>(
    code: string,
    events: ReadonlyArray<HeldEvent<R>>,
    reason: string,
    now = Date.now(),
  ): Promise<void> {
    if (!events.length) return;
    const lots = this.lotsKey();
    const previous = await this.redis.hget(lots, code);
    const since = previous ? (JSON.parse(previous) as { since: number }).since : now;
    await this.redis
      .multi()
      .rpush(this.listKey(code), ...events.map((e) => JSON.stringify(e)))
      .hset(lots, code, JSON.stringify({ reason, since }))
      .exec();
  }

  /** Takes (removes and returns) every event held for the lot, oldest first. */
  async take<R>(code: string): Promise<Array<HeldEvent<R>>> {
    const items = (await this.redis.eval(TAKE, 2, this.listKey(code), this.lotsKey(), code)) as string[];
    return items.map((json) => JSON.parse(json) as HeldEvent<R>);
  }

  /** Every event held, per lot, without taking any (what a reconciliation counts as on its way). */
  async peekAll<R>(): Promise<Array<HeldEvent<R>>> {
    const codes = await this.heldCodes();
    if (codes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const code of codes) pipeline.lrange(this.listKey(code), 0, -1);
    const out: Array<HeldEvent<R>> = [];
    for (const [error, items] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      for (const json of items as string[]) out.push(JSON.parse(json) as HeldEvent<R>);
    }
    return out;
  }

  /** Puts events back at the head of the lot's list (a release that could not be enqueued). */
  async putBack<R>(code: string, events: ReadonlyArray<HeldEvent<R>>, reason: string): Promise<void> {
    if (!events.length) return;
    await this.redis
      .multi()
      .lpush(this.listKey(code), ...events.map((e) => JSON.stringify(e)).reverse())
      .hset(this.lotsKey(), code, JSON.stringify({ reason, since: Date.now() }))
      .exec();
  }

  async lots(): Promise<HeldLot[]> {
    const all = await this.redis.hgetall(this.lotsKey());
    const codes = Object.keys(all).sort();
    if (codes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const code of codes) pipeline.llen(this.listKey(code));
    const lengths = (await pipeline.exec()) ?? [];
    return codes.map((code, i) => {
      const { reason, since } = JSON.parse(all[code]!) as { reason: string; since: number };
      return { code, count: Number(lengths[i]?.[1] ?? 0), reason, since };
    });
  }

  /** Says why a lot's events are held (what is known now about the lot). */
  async setReason(code: string, reason: string): Promise<void> {
    const previous = await this.redis.hget(this.lotsKey(), code);
    if (!previous) return;
    const { since } = JSON.parse(previous) as { since: number };
    await this.redis.hset(this.lotsKey(), code, JSON.stringify({ reason, since }));
  }

  async heldCodes(): Promise<string[]> {
    return this.redis.hkeys(this.lotsKey());
  }
}

/**
 * Entrance jobs that hold back their lots' departures: a job whose batch ISP refused (being split,
 * retried) or a refused entrance parked in the failed set. Per lot, the earliest entrance time each
 * such job carries; a departure of the lot at or after it waits, departures of other lots do not.
 * One hash per lot (job id -> time) and one set per job (its lots): every change is one command on
 * one field, so jobs blocking and unblocking the same lot at once never undo each other.
 */
export class EntranceBlockStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private lotKey(lot: string) {
    return stateKey(this.prefix, 'entrance-block', lot);
  }

  private jobKey(jobId: string) {
    return stateKey(this.prefix, 'entrance-block-job', jobId);
  }

  private lotsKey() {
    return stateKey(this.prefix, 'entrance-block-lots');
  }

  /** `jobId` holds each lot's departures from the time given (Unix s). */
  async block(jobId: string, lotTimes: ReadonlyMap<string, number>): Promise<void> {
    if (lotTimes.size === 0) return;
    const multi = this.redis.multi();
    for (const [lot, time] of lotTimes) {
      multi.hset(this.lotKey(lot), jobId, String(time));
      multi.sadd(this.lotsKey(), lot);
    }
    multi.sadd(this.jobKey(jobId), ...lotTimes.keys());
    await multi.exec();
  }

  /** `jobId` holds nothing any more; returns the lots it held. */
  async unblock(jobId: string): Promise<string[]> {
    const lots = await this.redis.smembers(this.jobKey(jobId));
    if (lots.length === 0) return [];
    const multi = this.redis.multi();
    for (const lot of lots) multi.hdel(this.lotKey(lot), jobId);
    multi.del(this.jobKey(jobId));
    await multi.exec();
    return lots;
  }

  /** Per lot with blocks: the earliest entrance time held back (Unix s) and the jobs holding it. */
  async blocks(lots: readonly string[]): Promise<Map<string, { mark: number; jobs: string[] }>> {
    const out = new Map<string, { mark: number; jobs: string[] }>();
    if (lots.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const lot of lots) pipeline.hgetall(this.lotKey(lot));
    const results = (await pipeline.exec()) ?? [];
    lots.forEach((lot, i) => {
      const jobs = (results[i]?.[1] ?? {}) as Record<string, string>;
      const ids = Object.keys(jobs);
      if (ids.length) out.set(lot, { mark: Math.min(...ids.map((id) => Number(jobs[id]))), jobs: ids });
    });
    return out;
  }

  /** Every lot with a block (status). */
  async all(): Promise<Map<string, { mark: number; jobs: string[] }>> {
    return this.blocks(await this.redis.smembers(this.lotsKey()));
  }
}
