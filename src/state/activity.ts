/**
 * What the status page shows that BullMQ does not keep: deliveries per stream per minute (kept two
 * days), the last error per stream, and per lot the time of the last entrance, departure and spot
 * count delivered. Written by the pushers after ISP accepts a batch; read by status and /api.
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';
import { scriptCommands } from './scripts.js';

const KEEP_SECONDS = 2 * 86_400;

export interface LastError {
  at: number;
  message: string;
}

export interface LotActivity {
  parkCode: string;
  lastEntrance?: number;
  lastDeparture?: number;
  lastSpotNum?: { at: number; total: number; remain: number; used: number };
}

/**
 * One call per delivered batch (it runs for every batch): the per-minute count and every lot's
 * latest time, instead of a command per lot. KEYS: per-minute hash, lot-codes set, lot key base
 * (a lot's key is the base and its code; all share the prefix's {hash tag}). ARGV: minute, count,
 * ttl, then per lot field, mode ('max' | 'set'), code, value.
 */
const DELIVERED = `
local perMinute, codes, lotBase = KEYS[1], KEYS[2], KEYS[3]
redis.call('HINCRBY', perMinute, ARGV[1], ARGV[2])
redis.call('EXPIRE', perMinute, ARGV[3])
local seen = {}
for i = 4, #ARGV, 4 do
  local field, mode, code, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = lotBase .. code
  local old = mode == 'max' and tonumber(redis.call('HGET', key, field)) or nil
  if not old or tonumber(value) > old then redis.call('HSET', key, field, value) end
  seen[#seen + 1] = code
end
if #seen > 0 then redis.call('SADD', codes, unpack(seen)) end
return 0`;

interface ActivityCommands {
  ispActivityDelivered(
    perMinute: string,
    codes: string,
    lotBase: string,
    ...args: Array<string | number>
  ): Promise<number>;
}

/** What a delivery changes per lot on the status page. */
export interface PerLotDelivery {
  field?: 'lastEntrance' | 'lastDeparture';
  times?: ReadonlyMap<string, number>;
  spotNums?: ReadonlyArray<{
    park_code: string;
    total_spots_num: number;
    remain_spots_num: number;
    used_spots_num: number;
  }>;
}

export class ActivityStore {
  private readonly commands: ActivityCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.commands = scriptCommands<ActivityCommands>(redis, {
      ispActivityDelivered: { numberOfKeys: 3, lua: DELIVERED },
    });
  }

  private key(...parts: string[]) {
    return stateKey(this.prefix, 'activity', ...parts);
  }

  /**
   * Counts `count` records of `stream` delivered now, and moves the per-lot fields of the status
   * page: `times` (park code -> latest event time, s) into `field`, and `spotNums` as each lot's count.
   */
  async recordDelivered(
    stream: string,
    count: number,
    perLot: PerLotDelivery = {},
    nowMs = Date.now(),
  ): Promise<void> {
    const minute = Math.floor(nowMs / 60_000) * 60;
    const day = Math.floor(minute / 86_400);
    const { field, times = new Map(), spotNums = [] } = perLot;
    const at = Math.floor(nowMs / 1000);
    // Per lot: [field, mode, code, value]; times only move forward (batches may finish out of order).
    const updates: string[] = [];
    if (field) for (const [code, time] of times) updates.push(field, 'max', code, String(time));
    for (const s of spotNums) {
      const value = { at, total: s.total_spots_num, remain: s.remain_spots_num, used: s.used_spots_num };
      updates.push('lastSpotNum', 'set', s.park_code, JSON.stringify(value));
    }
    await this.commands.ispActivityDelivered(
      this.key('per-minute', stream, String(day)),
      this.key('lot-codes'),
      this.key('lots', ''),
      minute,
      count,
      KEEP_SECONDS + 86_400,
      ...updates,
    );
  }

  async recordError(stream: string, message: string, nowMs = Date.now()): Promise<void> {
    await this.redis.set(
      this.key('last-error', stream),
      JSON.stringify({ at: Math.floor(nowMs / 1000), message }),
    );
  }

  async lastError(stream: string): Promise<LastError | undefined> {
    const value = await this.redis.get(this.key('last-error', stream));
    return value ? (JSON.parse(value) as LastError) : undefined;
  }

  /** Deliveries per minute of `stream` from `fromMs` to `toMs`, zero-filled, oldest first. */
  async perMinute(
    stream: string,
    fromMs: number,
    toMs = Date.now(),
  ): Promise<Array<{ minute: number; count: number }>> {
    const from = Math.floor(fromMs / 60_000) * 60;
    const to = Math.floor(toMs / 60_000) * 60;
    const days = new Set<number>();
    for (let m = from; m <= to; m += 86_400) days.add(Math.floor(m / 86_400));
    days.add(Math.floor(to / 86_400));
    const counts = new Map<number, number>();
    for (const day of days) {
      const all = await this.redis.hgetall(this.key('per-minute', stream, String(day)));
      for (const [minute, count] of Object.entries(all)) counts.set(Number(minute), Number(count));
    }
    const out: Array<{ minute: number; count: number }> = [];
    for (let m = from; m <= to; m += 60) out.push({ minute: m, count: counts.get(m) ?? 0 });
    return out;
  }

  async deliveredSince(stream: string, fromMs: number, toMs = Date.now()): Promise<number> {
    return (await this.perMinute(stream, fromMs, toMs)).reduce((sum, m) => sum + m.count, 0);
  }

  async lots(): Promise<LotActivity[]> {
    const codes = (await this.redis.smembers(this.key('lot-codes'))).sort();
    const pipeline = this.redis.pipeline();
    for (const code of codes) pipeline.hgetall(this.key('lots', code));
    const rows = (await pipeline.exec()) ?? [];
    return codes.map((parkCode, i) => {
      const h = (rows[i]?.[1] ?? {}) as Record<string, string>;
      const lot: LotActivity = { parkCode };
      if (h.lastEntrance) lot.lastEntrance = Number(h.lastEntrance);
      if (h.lastDeparture) lot.lastDeparture = Number(h.lastDeparture);
      if (h.lastSpotNum) lot.lastSpotNum = JSON.parse(h.lastSpotNum);
      return lot;
    });
  }
}
