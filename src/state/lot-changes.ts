/**
 * The lot changes of the parks and spot-count streams, kept in Redis: what ISP last accepted per lot (fingerprints),
 * what is waiting to be sent (latest payload per lot: later changes overwrite earlier ones), and
 * lots waiting for DELETE. Clearing a pending entry is compare-and-delete, so a change that
 * arrives while a flush is sending the previous value is never lost.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

/** The latest state of one lot in one stream: what ISP is sent for it. */
export interface LotItem {
  code: string;
  payload: Record<string, unknown>;
}

/** What ISP was last sent of a lot, in short: a changed payload has another fingerprint. */
export function fingerprint(payload: Record<string, unknown>): string {
  return createHash('sha1').update(JSON.stringify(payload)).digest('base64url').slice(0, 16);
}

const CLEAR_IF_SAME = `
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
return 1`;

export interface PendingLot extends LotItem {
  /** The JSON as stored: what compare-and-delete compares, and what is sent. */
  json: string;
}

export class LotChangeStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(kind: string, stream: string) {
    return stateKey(this.prefix, kind, stream);
  }

  async delivered(stream: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('delivered', stream))));
  }

  async setPending(stream: string, items: LotItem[]): Promise<void> {
    if (!items.length) return;
    const pipeline = this.redis.pipeline();
    pipeline.hset(this.key('pending', stream), ...items.flatMap((i) => [i.code, JSON.stringify(i.payload)]));
    // A lot that is back (or changed) is no longer to be deleted.
    pipeline.srem(this.key('pending-delete', stream), ...items.map((i) => i.code));
    await pipeline.exec();
  }

  async setPendingDeletes(stream: string, codes: string[]): Promise<void> {
    if (!codes.length) return;
    await this.redis
      .pipeline()
      .sadd(this.key('pending-delete', stream), ...codes)
      .hdel(this.key('pending', stream), ...codes)
      .exec();
  }

  async pending(stream: string): Promise<PendingLot[]> {
    const all = await this.redis.hgetall(this.key('pending', stream));
    return Object.entries(all)
      .map(([code, json]) => ({ code, json, payload: JSON.parse(json) as Record<string, unknown> }))
      .sort((a, b) => a.code.localeCompare(b.code));
  }

  async pendingDeletes(stream: string): Promise<string[]> {
    return (await this.redis.smembers(this.key('pending-delete', stream))).sort();
  }

  /** ISP accepted (or, for an isolated rejection, has seen) these: remember them, clear them if unchanged. */
  async markSent(stream: string, items: PendingLot[]): Promise<void> {
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

  async markDeleted(stream: string, codes: string[]): Promise<void> {
    if (!codes.length) return;
    await this.redis
      .pipeline()
      .srem(this.key('pending-delete', stream), ...codes)
      .hdel(this.key('delivered', stream), ...codes)
      .exec();
  }

  async counts(stream: string): Promise<{ delivered: number; pending: number; pendingDeletes: number }> {
    const [d, p, x] = await Promise.all([
      this.redis.hlen(this.key('delivered', stream)),
      this.redis.hlen(this.key('pending', stream)),
      this.redis.scard(this.key('pending-delete', stream)),
    ]);
    return { delivered: d, pending: p, pendingDeletes: x };
  }
}
