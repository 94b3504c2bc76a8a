/**
 * Redis state of the parks and spot-count streams: what ISP last accepted per lot (fingerprints),
 * what is waiting to be sent (latest payload per lot: later changes overwrite earlier ones), and
 * lots waiting for DELETE. Clearing a pending entry is compare-and-delete, so a change that
 * arrives while a flush is sending the previous value is never lost.
 */
import type { Redis } from 'ioredis';
import type { StateItem, StateStore, StateStream } from '../pipeline/lots/lot-streams.js';
import { fingerprint } from '../pipeline/lots/lot-streams.js';
import { stateKey } from './keys.js';

const CLEAR_IF_SAME = `
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
return 1`;

export interface PendingItem extends StateItem {
  /** The JSON as stored: what compare-and-delete compares. */
  json: string;
}

export class RedisStateStore implements StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(kind: string, stream: string) {
    return stateKey(this.prefix, kind, stream);
  }

  async delivered(stream: StateStream): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('delivered', stream))));
  }

  async setPending(stream: StateStream, items: StateItem[]): Promise<void> {
    if (!items.length) return;
    const pipeline = this.redis.pipeline();
    pipeline.hset(this.key('pending', stream), ...items.flatMap((i) => [i.code, JSON.stringify(i.payload)]));
    // A lot that is back (or changed) is no longer to be deleted.
    if (stream === 'parks') pipeline.srem(this.key('pending-delete', stream), ...items.map((i) => i.code));
    await pipeline.exec();
  }

  async setPendingDeletes(codes: string[]): Promise<void> {
    if (!codes.length) return;
    await this.redis
      .pipeline()
      .sadd(this.key('pending-delete', 'parks'), ...codes)
      .hdel(this.key('pending', 'parks'), ...codes)
      .exec();
  }

  async pending(stream: StateStream): Promise<PendingItem[]> {
    const all = await this.redis.hgetall(this.key('pending', stream));
    return Object.entries(all)
      .map(([code, json]) => ({ code, json, payload: JSON.parse(json) as Record<string, unknown> }))
      .sort((a, b) => a.code.localeCompare(b.code));
  }

  async pendingDeletes(): Promise<string[]> {
    return (await this.redis.smembers(this.key('pending-delete', 'parks'))).sort();
  }

  /** ISP accepted (or, for an isolated rejection, has seen) these: remember them, clear them if unchanged. */
  async markSent(stream: StateStream, items: PendingItem[]): Promise<void> {
    if (!items.length) return;
    const args = items.flatMap((i) => [i.code, i.json, fingerprint(i.payload)]);
    await this.redis.eval(
      CLEAR_IF_SAME,
      2,
      this.key('pending', stream),
      this.key('delivered', stream),
      ...args,
    );
  }

  async markDeleted(codes: string[]): Promise<void> {
    if (!codes.length) return;
    await this.redis
      .pipeline()
      .srem(this.key('pending-delete', 'parks'), ...codes)
      .hdel(this.key('delivered', 'parks'), ...codes)
      .exec();
  }

  async counts(stream: StateStream): Promise<{ delivered: number; pending: number; pendingDeletes: number }> {
    const [d, p, x] = await Promise.all([
      this.redis.hlen(this.key('delivered', stream)),
      this.redis.hlen(this.key('pending', stream)),
      stream === 'parks' ? this.redis.scard(this.key('pending-delete', stream)) : Promise.resolve(0),
    ]);
    return { delivered: d, pending: p, pendingDeletes: x };
  }
}
