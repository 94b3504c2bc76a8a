/**
 * The lots as ISP knows them, kept in Redis, per lot stream (parks, spot counts):
 * - delivered: what ISP last accepted per lot (a fingerprint) and when that state was read;
 * - pending: the latest payload waiting to be sent (a burst of changes leaves only the newest);
 * - vanished: lots gone from the vendor's table, with when that was first seen (DELETE waits);
 * - deleted: lots ISP has deleted (their data is held until they come back).
 * States are ordered by when they were read (`at`, ms): an older state never replaces a newer one,
 * pending or delivered, so a replay or a full sync racing a poll cannot roll a lot back. Clearing a
 * pending entry is compare-and-delete, so a change that arrives while a flush is sending the
 * previous value is never lost.
 */
import { createHash } from 'node:crypto';
import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

/** The latest state of one lot in one stream: what ISP is sent for it. */
export interface LotItem {
  code: string;
  payload: Record<string, unknown>;
}

/** A lot's state with when it was read from the vendor (ms). */
export interface ReadLot extends LotItem {
  at: number;
}

export interface PendingLot extends ReadLot {
  /** The JSON as stored: what compare-and-delete compares, and what is sent. */
  json: string;
}

/** What ISP was last sent of a lot, in short: a changed payload has another fingerprint. */
export function fingerprint(payload: Record<string, unknown>): string {
  return createHash('sha1').update(JSON.stringify(payload)).digest('base64url').slice(0, 16);
}

/** Where a lot stands at ISP. */
export type LotStanding = 'registered' | 'deleted' | 'unknown';

/** The mass-deletion guard as it tripped: nothing was deleted. */
export interface DeleteGuard {
  at: number;
  /** Lots the pass would have deleted (first few), and how many in all. */
  codes: string[];
  wouldDelete: number;
  /** Lots registered at ISP when it tripped. */
  registered: number;
  /** Rows the lot read returned. */
  rowsRead: number;
  reason: string;
}

// KEYS: pending, pending-at, delivered-at, vanished, superseded, delivered.
// ARGV: force, then code, json, at, fingerprint quads. Sets what is newer than both the pending and
// the delivered state; counts what is not. Without `force` (a full sync sends every lot again), a
// state equal to the delivered one is not pending: a poll that read it just before a flush recorded
// it must not set it pending again after (nothing would flush it).
const SET_IF_NEWER = `
local superseded = 0
local force = ARGV[1] == '1'
for i = 2, #ARGV, 4 do
  local code, at = ARGV[i], tonumber(ARGV[i + 2])
  local pendingAt = tonumber(redis.call('HGET', KEYS[2], code) or '-1')
  local deliveredAt = tonumber(redis.call('HGET', KEYS[3], code) or '-1')
  if not force and redis.call('HGET', KEYS[6], code) == ARGV[i + 3] then
    -- already delivered as it is
  elseif at > pendingAt and at > deliveredAt then
    redis.call('HSET', KEYS[1], code, ARGV[i + 1])
    redis.call('HSET', KEYS[2], code, ARGV[i + 2])
    redis.call('HDEL', KEYS[4], code)
  else
    superseded = superseded + 1
  end
end
if superseded > 0 then redis.call('INCRBY', KEYS[5], superseded) end
return superseded`;

// KEYS: pending, pending-at, delivered, delivered-at, deleted, refused. ARGV: code, json, fingerprint, at quads.
// ISP accepted these: remember them (the newest), clear the pending entry unless it changed meanwhile.
const MARK_SENT = `
for i = 1, #ARGV, 4 do
  local code = ARGV[i]
  if redis.call('HGET', KEYS[1], code) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], code)
    redis.call('HDEL', KEYS[2], code)
  end
  local at = tonumber(ARGV[i + 3])
  if at >= tonumber(redis.call('HGET', KEYS[4], code) or '-1') then
    redis.call('HSET', KEYS[3], code, ARGV[i + 2])
    redis.call('HSET', KEYS[4], code, ARGV[i + 3])
  end
  redis.call('HDEL', KEYS[5], code)
  redis.call('HDEL', KEYS[6], code)
end
return 1`;

interface LotChangeCommands {
  ispLotsSetIfNewer(...args: Array<string | number>): Promise<number>;
  ispLotsMarkSent(...args: Array<string | number>): Promise<number>;
}

export class LotChangeStore {
  private readonly commands: LotChangeCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.commands = scriptCommands<LotChangeCommands>(redis, {
      ispLotsSetIfNewer: { numberOfKeys: 6, lua: SET_IF_NEWER },
      ispLotsMarkSent: { numberOfKeys: 6, lua: MARK_SENT },
    });
  }

  private key(kind: string, stream: string) {
    return stateKey(this.prefix, kind, stream);
  }

  /** code -> fingerprint of what ISP last accepted. */
  async delivered(stream: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('delivered', stream))));
  }

  /** Where each lot stands at ISP (registered by POST /park/spot, deleted, or never seen). */
  async standing(codes: readonly string[]): Promise<LotStanding[]> {
    if (codes.length === 0) return [];
    const [registered, deleted] = await Promise.all([
      this.redis.hmget(this.key('delivered', 'parks'), ...codes),
      this.redis.hmget(this.key('deleted', 'parks'), ...codes),
    ]);
    return codes.map((_, i) =>
      registered[i] != null ? 'registered' : deleted[i] != null ? 'deleted' : 'unknown',
    );
  }

  /**
   * Sets each lot's state unless a newer one is pending or delivered (returns how many were older),
   * or, without `force`, it is what ISP has already.
   */
  async setPending(stream: string, items: readonly ReadLot[], force = false): Promise<number> {
    if (!items.length) return 0;
    return this.commands.ispLotsSetIfNewer(
      this.key('pending', stream),
      this.key('pending-at', stream),
      this.key('delivered-at', stream),
      this.key('vanished', stream),
      this.key('superseded', stream),
      this.key('delivered', stream),
      force ? '1' : '0',
      ...items.flatMap((i) => [i.code, JSON.stringify(i.payload), i.at, fingerprint(i.payload)]),
    );
  }

  async pending(stream: string): Promise<PendingLot[]> {
    const [all, at] = await Promise.all([
      this.redis.hgetall(this.key('pending', stream)),
      this.redis.hgetall(this.key('pending-at', stream)),
    ]);
    return Object.entries(all)
      .map(([code, json]) => ({
        code,
        json,
        at: Number(at[code] ?? 0),
        payload: JSON.parse(json) as Record<string, unknown>,
      }))
      .sort((a, b) => a.code.localeCompare(b.code));
  }

  /** ISP accepted these: remember them, clear them if unchanged, and a deleted lot is registered again. */
  async markSent(stream: string, items: readonly PendingLot[]): Promise<void> {
    if (!items.length) return;
    await this.commands.ispLotsMarkSent(
      this.key('pending', stream),
      this.key('pending-at', stream),
      this.key('delivered', stream),
      this.key('delivered-at', stream),
      this.key('deleted', stream),
      this.key('refused', stream),
      ...items.flatMap((i) => [i.code, i.json, fingerprint(i.payload), i.at]),
    );
  }

  /**
   * ISP refused these (isolated in the failed set): not registered, and not sent again until they
   * change or the failed job is replayed. The pending entry is cleared if unchanged.
   */
  async markRefused(stream: string, items: readonly PendingLot[]): Promise<void> {
    if (!items.length) return;
    const pipeline = this.redis.pipeline();
    for (const i of items) pipeline.hset(this.key('refused', stream), i.code, fingerprint(i.payload));
    await pipeline.exec();
    // The pending entry goes like a sent one's, unless it changed meanwhile.
    const current = await this.redis.hmget(this.key('pending', stream), ...items.map((i) => i.code));
    const same = items.filter((i, k) => current[k] === i.json).map((i) => i.code);
    if (same.length)
      await this.redis
        .pipeline()
        .hdel(this.key('pending', stream), ...same)
        .hdel(this.key('pending-at', stream), ...same)
        .exec();
  }

  /** code -> fingerprint of the state ISP refused last. */
  async refused(stream: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('refused', stream))));
  }

  /** Lots gone from the vendor's table: remembered with the first time seen gone; not sent meanwhile. */
  async setVanished(stream: string, codes: readonly string[], at: number): Promise<void> {
    if (!codes.length) return;
    const pipeline = this.redis.pipeline();
    for (const code of codes) pipeline.hsetnx(this.key('vanished', stream), code, String(at));
    pipeline.hdel(this.key('pending', stream), ...codes).hdel(this.key('pending-at', stream), ...codes);
    await pipeline.exec();
  }

  /** code -> when the lot was first seen gone (ms). */
  async vanished(stream: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.key('vanished', stream));
    return new Map(Object.entries(all).map(([code, at]) => [code, Number(at)]));
  }

  /** ISP deleted these lots: no longer registered, their data is held until they come back. */
  async markDeleted(stream: string, codes: readonly string[], at: number): Promise<void> {
    if (!codes.length) return;
    await this.redis
      .pipeline()
      .hdel(this.key('vanished', stream), ...codes)
      .hdel(this.key('delivered', stream), ...codes)
      .hdel(this.key('delivered-at', stream), ...codes)
      .hset(this.key('deleted', stream), ...codes.flatMap((code) => [code, String(at)]))
      .exec();
  }

  /** code -> when ISP deleted the lot (ms). */
  async deleted(stream: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.key('deleted', stream));
    return new Map(Object.entries(all).map(([code, at]) => [code, Number(at)]));
  }

  /** Why each vanished lot's DELETE still waits (status), replacing what was said before. */
  async setDeleteWaits(stream: string, waits: ReadonlyMap<string, string>): Promise<void> {
    const key = this.key('delete-waits', stream);
    const pipeline = this.redis.pipeline().del(key);
    if (waits.size) pipeline.hset(key, ...[...waits].flat());
    await pipeline.exec();
  }

  async deleteWaits(stream: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('delete-waits', stream))));
  }

  async setGuard(stream: string, guard: DeleteGuard | undefined): Promise<void> {
    if (guard) await this.redis.set(this.key('delete-guard', stream), JSON.stringify(guard));
    else await this.redis.del(this.key('delete-guard', stream));
  }

  async guard(stream: string): Promise<DeleteGuard | undefined> {
    const json = await this.redis.get(this.key('delete-guard', stream));
    return json ? (JSON.parse(json) as DeleteGuard) : undefined;
  }

  /** An operator confirms the deletions the guard held back (`full-sync --confirm-deletes`). */
  async confirmDeletes(stream: string): Promise<void> {
    await this.redis.set(this.key('confirm-deletes', stream), String(Date.now()));
  }

  /** Takes the operator's confirmation, if any (one pass uses it). */
  async takeConfirmation(stream: string): Promise<boolean> {
    return (await this.redis.getdel(this.key('confirm-deletes', stream))) !== null;
  }

  async counts(stream: string) {
    const [delivered, pending, vanished, deleted, superseded] = await Promise.all([
      this.redis.hlen(this.key('delivered', stream)),
      this.redis.hlen(this.key('pending', stream)),
      this.redis.hlen(this.key('vanished', stream)),
      this.redis.hlen(this.key('deleted', stream)),
      this.redis.get(this.key('superseded', stream)),
    ]);
    return { delivered, pending, vanished, deleted, superseded: Number(superseded ?? 0) };
  }
}
