/**
 * Events held back because ISP does not know their lot yet (never registered, or deleted): kept in
 * Redis per lot, in the order they were held, until the lot is registered and they are released.
 * Each held event is the push record as it was (payload without photo), tagged with its stream.
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

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
    private readonly redis: Redis,
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
 */
export class EntranceBlockStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private lotsKey() {
    return stateKey(this.prefix, 'entrance-blocks');
  }

  private jobKey() {
    return stateKey(this.prefix, 'entrance-block-jobs');
  }

  /** `jobId` holds each lot's departures from the time given (Unix s). */
  async block(jobId: string, lotTimes: ReadonlyMap<string, number>): Promise<void> {
    if (lotTimes.size === 0) return;
    const lots = [...lotTimes.keys()];
    const current = await this.redis.hmget(this.lotsKey(), ...lots);
    const multi = this.redis.multi();
    lots.forEach((lot, i) => {
      const jobs = current[i] ? (JSON.parse(current[i]!) as Record<string, number>) : {};
      jobs[jobId] = Math.min(jobs[jobId] ?? Number.POSITIVE_INFINITY, lotTimes.get(lot)!);
      multi.hset(this.lotsKey(), lot, JSON.stringify(jobs));
    });
    const known = await this.redis.hget(this.jobKey(), jobId);
    const all = new Set([...(known ? (JSON.parse(known) as string[]) : []), ...lots]);
    multi.hset(this.jobKey(), jobId, JSON.stringify([...all]));
    await multi.exec();
  }

  /** `jobId` holds nothing any more; returns the lots it held. */
  async unblock(jobId: string): Promise<string[]> {
    const known = await this.redis.hget(this.jobKey(), jobId);
    if (!known) return [];
    const lots = JSON.parse(known) as string[];
    const current = await this.redis.hmget(this.lotsKey(), ...lots);
    const multi = this.redis.multi();
    lots.forEach((lot, i) => {
      const jobs = current[i] ? (JSON.parse(current[i]!) as Record<string, number>) : {};
      delete jobs[jobId];
      if (Object.keys(jobs).length) multi.hset(this.lotsKey(), lot, JSON.stringify(jobs));
      else multi.hdel(this.lotsKey(), lot);
    });
    multi.hdel(this.jobKey(), jobId);
    await multi.exec();
    return lots;
  }

  /** Per lot with blocks: the earliest entrance time held back (Unix s) and the jobs holding it. */
  async blocks(lots: readonly string[]): Promise<Map<string, { mark: number; jobs: string[] }>> {
    const out = new Map<string, { mark: number; jobs: string[] }>();
    if (lots.length === 0) return out;
    const current = await this.redis.hmget(this.lotsKey(), ...lots);
    lots.forEach((lot, i) => {
      if (!current[i]) return;
      const jobs = JSON.parse(current[i]!) as Record<string, number>;
      out.set(lot, { mark: Math.min(...Object.values(jobs)), jobs: Object.keys(jobs) });
    });
    return out;
  }

  async all(): Promise<Map<string, { mark: number; jobs: string[] }>> {
    return this.blocks(await this.redis.hkeys(this.lotsKey()));
  }
}
