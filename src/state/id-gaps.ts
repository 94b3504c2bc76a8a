/**
 * The id gaps of a low-latency stream that probes them (`streams.<s>.probeIdGaps`,
 * src/pipeline/events/id-gap-probe.ts): in a table whose rows get their AUTO_INCREMENT id when
 * inserted, an id below the highest one read that the live poll has not read is a row not yet
 * committed (or one it held back, or a hole left by a rollback). It is looked up again at every
 * poll until found or until it is older than the commit lag; the sweep behind the poll still
 * catches whatever the probe does not.
 *
 * Two keys per stream (one slot: the prefix's hash tag): `<base>:max`, the highest id read, and
 * `<base>`, a sorted set of open gaps scored by when each was first seen (ms). Ids are compared as
 * Lua numbers (doubles): exact up to 2^53, which the caller checks.
 */
import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

/** An id range this much above the highest id read is a jump (a backlog, deleted rows), not gaps. */
export const MAX_NEW_GAPS_PER_NOTE = 10_000;
/** Keys of a stream that stopped probing go after a day. */
const TTL_SECONDS = 86_400;

/**
 * KEYS: gaps, max. ARGV: now (ms), cap, then the ids read. Removes the ids read from the gaps, adds
 * the ids between the former highest and the new highest that were not read, moves the highest.
 * Without a highest yet, starts just below the lowest id read. Returns how many gaps it added.
 */
const NOTE = `
local gaps, maxKey = KEYS[1], KEYS[2]
local now, cap = ARGV[1], tonumber(ARGV[2])
local max = tonumber(redis.call('GET', maxKey) or '')
local read, lo, hi = {}, nil, nil
for i = 3, #ARGV do
  local id = tonumber(ARGV[i])
  read[id] = true
  if lo == nil or id < lo then lo = id end
  if hi == nil or id > hi then hi = id end
end
if hi == nil then return 0 end
for i = 3, #ARGV, 500 do
  redis.call('ZREM', gaps, unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
if max == nil then max = lo - 1 end
local added = 0
if hi > max then
  if hi - max - 1 <= cap then
    for id = max + 1, hi - 1 do
      if not read[id] then
        redis.call('ZADD', gaps, 'NX', now, string.format('%d', id))
        added = added + 1
      end
    end
  end
  redis.call('SET', maxKey, string.format('%d', hi), 'EX', ${TTL_SECONDS})
end
if redis.call('EXISTS', gaps) == 1 then redis.call('EXPIRE', gaps, ${TTL_SECONDS}) end
return added`;

/** KEYS: gaps. ARGV: first seen before this (ms) expires, limit. Returns the oldest open gaps. */
const OPEN = `
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local open = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return {expired, open}`;

interface IdGapCommands {
  ispIdGapsNote(gaps: string, max: string, nowMs: number, cap: number, ...ids: string[]): Promise<number>;
  ispIdGapsOpen(gaps: string, expireBeforeMs: number, limit: number): Promise<[number, string[]]>;
}

export class IdGaps {
  private readonly base: string;
  private readonly commands: IdGapCommands;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    stream: string,
  ) {
    this.base = stateKey(prefix, 'id-gaps', stream);
    this.commands = scriptCommands<IdGapCommands>(redis, {
      ispIdGapsNote: { numberOfKeys: 2, lua: NOTE },
      ispIdGapsOpen: { numberOfKeys: 1, lua: OPEN },
    });
  }

  /**
   * The live poll has read these ids (before its checkpoint moves past them): they are no gaps, and
   * the ids it skipped below the highest are. Ids that are not safe integers are left out.
   * Returns the gaps added.
   */
  async note(ids: readonly string[], nowMs: number): Promise<number> {
    const usable = ids.filter(isSafeId);
    if (usable.length === 0) return 0;
    return this.commands.ispIdGapsNote(
      this.base,
      `${this.base}:max`,
      nowMs,
      MAX_NEW_GAPS_PER_NOTE,
      ...usable,
    );
  }

  /** Drops the gaps first seen before `expireBeforeMs`; returns the oldest `limit` open ones. */
  async open(expireBeforeMs: number, limit: number): Promise<{ expired: number; ids: string[] }> {
    const [expired, ids] = await this.commands.ispIdGapsOpen(this.base, Math.floor(expireBeforeMs), limit);
    return { expired, ids };
  }

  /** Found and handed on (or read by the live poll meanwhile). */
  async resolve(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.base, ...ids);
  }

  /** How many gaps are open, and when the oldest was first seen (ms): the status page's. */
  async summary(): Promise<{ open: number; oldestFirstSeenMs: number | null }> {
    const [open, oldest] = await Promise.all([
      this.redis.zcard(this.base),
      this.redis.zrange(this.base, 0, 0, 'WITHSCORES'),
    ]);
    return { open, oldestFirstSeenMs: oldest[1] === undefined ? null : Number(oldest[1]) };
  }

  /** Forgets the gaps and the highest id (a stream that starts probing again starts afresh). */
  async clear(): Promise<void> {
    await this.redis.del(this.base, `${this.base}:max`);
  }
}

/** A decimal id Lua compares exactly (its numbers are doubles). */
export function isSafeId(id: string): boolean {
  return /^\d{1,16}$/.test(id) && Number.isSafeInteger(Number(id));
}
