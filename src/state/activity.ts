/**
 * What the status page shows that BullMQ does not keep: deliveries per stream per minute (kept two
 * days), the last error per stream, and per lot the time of the last entrance, departure and spot
 * count delivered. Written by the pushers after ISP accepts a batch; read by status and /api.
 */
import { stateKey } from './keys.js';
import {
  HEALTH_LUA,
  healthKeys,
  LATENCY_TTL_SECONDS,
  OUTCOME_KEEP_SECONDS,
  outcomeHour,
} from './lot-health.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

const KEEP_SECONDS = 2 * 86_400;

const collator = new Intl.Collator('en', { numeric: true });
/** Lot codes as people sort them: ATXL/2 before ATXL/10. */
export const naturalOrder = (a: string, b: string): number =>
  collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

export interface LastError {
  at: number;
  message: string;
  /** What failed: a poll (recovered by a successful poll) or a push (recovered by a delivery). */
  source?: 'poll' | 'push';
  /** When the stream worked again after it (Unix s); absent while it has not. */
  recoveredAt?: number;
}

export interface LotActivity {
  parkCode: string;
  lastEntrance?: number;
  lastDeparture?: number;
  lastSpotNum?: { at: number; total: number; remain: number; used: number };
}

/** Marks the stream's last error recovered at ARGV[1] (Unix s), if it is of source ARGV[2] and not yet. */
const RECOVER_LUA = `
local function recover(key, now, source)
  local value = redis.call('GET', key)
  if not value then return end
  local e = cjson.decode(value)
  if e.recoveredAt or (e.source or 'push') ~= source or tonumber(e.at) > tonumber(now) then return end
  e.recoveredAt = tonumber(now)
  redis.call('SET', key, cjson.encode(e))
end
`;

/**
 * One call per delivered batch (it runs for every batch): the per-minute count, the stream's
 * all-time total (kept in Redis, so a crash does not reset it), a push error's recovery, every
 * lot's latest time, and what the lot health alerts learn from a delivery (lot-health.ts), instead
 * of a command per lot. KEYS: per-minute hash, lot-codes set, lot key base (a lot's key is the base
 * and its code; all share the prefix's {hash tag}), last-error key, totals hash, health lot base,
 * health lot set, this hour's outcome hash, this day's latency hash. ARGV: minute, count, ttl,
 * now (s), stream, zone offset (s), outcome ttl, latency (s, or ''), latency ttl, then per lot
 * field, mode ('max' | 'set' | 'gap': value `first,last,n` | 'count': value `total/remain/used`),
 * code, value.
 */
const DELIVERED = `${RECOVER_LUA}
local perMinute, codes, lotBase, lastError, totals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local healthBase, healthCodes = KEYS[6], KEYS[7]
local outcomes, latency = KEYS[8], KEYS[9]
${HEALTH_LUA}
redis.call('HINCRBY', perMinute, ARGV[1], ARGV[2])
redis.call('EXPIRE', perMinute, ARGV[3])
redis.call('HINCRBY', totals, ARGV[5], ARGV[2])
recover(lastError, ARGV[4], 'push')
local offset = tonumber(ARGV[6])
if ARGV[8] ~= '' then
  local old = tonumber(redis.call('HGET', latency, ARGV[1]))
  if not old or tonumber(ARGV[8]) > old then redis.call('HSET', latency, ARGV[1], ARGV[8]) end
  redis.call('EXPIRE', latency, ARGV[9])
end
local seen, learned = {}, {}
for i = 10, #ARGV, 4 do
  local field, mode, code, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if mode == 'gap' then
    local a = string.find(value, ',', 1, true)
    local b = string.find(value, ',', a + 1, true)
    local n = tonumber(string.sub(value, b + 1))
    healthGap(code, tonumber(string.sub(value, 1, a - 1)), tonumber(string.sub(value, a + 1, b - 1)), n, offset)
    redis.call('HINCRBY', outcomes, code .. '|d', n)
    learned[#learned + 1] = code
  elseif mode == 'count' then
    healthCount(code, value, ARGV[4])
    learned[#learned + 1] = code
  else
    local key = lotBase .. code
    local old = mode == 'max' and tonumber(redis.call('HGET', key, field)) or nil
    if not old or tonumber(value) > old then redis.call('HSET', key, field, value) end
    seen[#seen + 1] = code
  end
end
if #seen > 0 then redis.call('SADD', codes, unpack(seen)) end
if #learned > 0 then
  redis.call('SADD', healthCodes, unpack(learned))
  redis.call('EXPIRE', outcomes, ARGV[7])
end
return 0`;

interface ActivityCommands {
  ispActivityDelivered(
    perMinute: string,
    codes: string,
    lotBase: string,
    lastError: string,
    totals: string,
    ...args: Array<string | number>
  ): Promise<number>;
  ispActivityRecovered(lastError: string, now: number, source: string): Promise<number>;
}

/** What a delivery changes per lot on the status page, and what the lot health alerts learn. */
export interface PerLotDelivery {
  field?: 'lastEntrance' | 'lastDeparture';
  times?: ReadonlyMap<string, number>;
  /**
   * Per lot: its earliest event time in the batch and how many (with `times`, the latest): the
   * health alerts learn each lot's usual silences from them (lot-health.ts).
   */
  firstTimes?: ReadonlyMap<string, number>;
  counts?: ReadonlyMap<string, number>;
  /** The vendor zone's offset from UTC now, s: hours of the week are the vendor's. */
  zoneOffsetSeconds?: number;
  /** A live delivery (not a backfill or a replay): event time of its oldest record to now, s. */
  latencySeconds?: number;
  spotNums?: ReadonlyArray<{
    park_code: string;
    total_spots_num: number;
    remain_spots_num: number;
    used_spots_num: number;
  }>;
}

export class ActivityStore {
  private readonly commands: ActivityCommands;
  private readonly health: ReturnType<typeof healthKeys>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.health = healthKeys(prefix);
    this.commands = scriptCommands<ActivityCommands>(redis, {
      ispActivityDelivered: { numberOfKeys: 9, lua: DELIVERED },
      ispActivityRecovered: {
        numberOfKeys: 1,
        lua: `${RECOVER_LUA}\nrecover(KEYS[1], ARGV[1], ARGV[2])\nreturn 0`,
      },
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
    const { field, times = new Map(), spotNums = [], firstTimes, counts } = perLot;
    const at = Math.floor(nowMs / 1000);
    // Per lot: [field, mode, code, value]; times only move forward (batches may finish out of order).
    const updates: string[] = [];
    if (field) for (const [code, time] of times) updates.push(field, 'max', code, String(time));
    if (field && firstTimes && counts)
      for (const [code, last] of times) {
        const first = firstTimes.get(code) ?? last;
        updates.push('events', 'gap', code, `${first},${last},${counts.get(code) ?? 1}`);
      }
    for (const s of spotNums) {
      const value = { at, total: s.total_spots_num, remain: s.remain_spots_num, used: s.used_spots_num };
      updates.push('lastSpotNum', 'set', s.park_code, JSON.stringify(value));
      updates.push('count', 'count', s.park_code, `${value.total}/${value.remain}/${value.used}`);
    }
    await this.commands.ispActivityDelivered(
      this.key('per-minute', stream, String(day)),
      this.key('lot-codes'),
      this.key('lots', ''),
      this.key('last-error', stream),
      this.key('totals'),
      this.health.lotBase,
      this.health.codes,
      this.health.outcomes(outcomeHour(nowMs)),
      this.health.latency(stream, day),
      minute,
      count,
      KEEP_SECONDS + 86_400,
      at,
      stream,
      perLot.zoneOffsetSeconds ?? 0,
      OUTCOME_KEEP_SECONDS,
      perLot.latencySeconds === undefined ? '' : Math.max(0, Math.round(perLot.latencySeconds)),
      LATENCY_TTL_SECONDS,
      ...updates,
    );
  }

  /** `source`: a poll's error is recovered by a successful poll, a push's by a delivery. */
  async recordError(
    stream: string,
    message: string,
    nowMs = Date.now(),
    source: 'poll' | 'push' = 'push',
  ): Promise<void> {
    const value: LastError = { at: Math.floor(nowMs / 1000), message, source };
    await this.redis.set(this.key('last-error', stream), JSON.stringify(value));
  }

  /** The stream's `source` worked again: its last error of that source, if any, is recovered now. */
  async recordRecovered(stream: string, source: 'poll' | 'push', nowMs = Date.now()): Promise<void> {
    await this.commands.ispActivityRecovered(
      this.key('last-error', stream),
      Math.floor(nowMs / 1000),
      source,
    );
  }

  /** Records delivered per stream since the prefix was first used (never reset by a restart). */
  async totals(): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(this.key('totals'));
    return Object.fromEntries(Object.entries(all).map(([stream, n]) => [stream, Number(n)]));
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

  /** The vendor database's clock minus this host's (ms), as last measured. */
  async recordVendorClock(skewMs: number, atMs: number): Promise<void> {
    await this.redis.set(this.key('vendor-clock'), JSON.stringify({ skewMs, at: Math.floor(atMs / 1000) }));
  }

  async vendorClock(): Promise<{ skewMs: number; at: number } | undefined> {
    const json = await this.redis.get(this.key('vendor-clock'));
    return json ? (JSON.parse(json) as { skewMs: number; at: number }) : undefined;
  }

  async lots(): Promise<LotActivity[]> {
    const codes = (await this.redis.smembers(this.key('lot-codes'))).sort(naturalOrder);
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
