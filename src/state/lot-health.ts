/**
 * What the lot health alerts learn and remember, in Redis: per lot its latest event time, the
 * longest silence it usually has by hour of the week, when its count last changed and how many of
 * its events went since; per lot and clock hour its events delivered, quarantined and refused; per
 * event stream the delivery latency per minute; and the alerts now active, the notifications not
 * yet sent and the webhook's rate-limit window.
 *
 * Deliveries write the learned parts in the activity store's one call per batch (activity.ts runs
 * HEALTH_LUA with these keys), so learning costs no round trip of its own. Owns only these keys.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

const HOUR = 3_600;
const WEEK_HOURS = 168;
/** Hours from the Unix epoch (a Thursday) back to the Monday 00:00 before it. */
const EPOCH_WEEKDAY_HOURS = 72;
/** Outcome counts per lot are kept for the current and the previous clock hour (plus slack). */
const OUTCOME_TTL_SECONDS = 3 * HOUR;
/** Latency per minute is kept a day, in one hash per day. */
export const LATENCY_TTL_SECONDS = 2 * 86_400;

/**
 * Hour of the week (0 = Monday 00:00–01:00 … 167 = Sunday 23:00) of `epochSeconds` in a zone
 * `offsetSeconds` east of UTC, and the week it falls in. HEALTH_LUA computes the same.
 */
export function hourOfWeek(epochSeconds: number, offsetSeconds: number): { slot: number; week: number } {
  const hours = Math.floor((epochSeconds + offsetSeconds) / HOUR) + EPOCH_WEEKDAY_HOURS;
  return { slot: ((hours % WEEK_HOURS) + WEEK_HOURS) % WEEK_HOURS, week: Math.floor(hours / WEEK_HOURS) };
}

/**
 * Lua for the delivery script of activity.ts: `healthGap(code, first, last, n, offset)` learns from
 * `n` events of lot `code` delivered, the earliest at `first` and the latest at `last`: the
 * silence since the lot's previous latest event is a gap that began in that event's hour of the
 * week; the slot keeps the longest such gap, halved for each week after the first since it was seen (a
 * lot's habits change, and one long outage must not mute it for good; a gap seen every week stays). `healthCount(code, values, now)` notes
 * when a lot's count values changed. Expects `healthBase` (a lot's hash is it and the code) as a
 * local; the caller adds the codes to the set of lots (`healthCodes`), once per call.
 */
export const HEALTH_LUA = `
local function healthSlot(t, offset)
  local hours = math.floor((t + offset) / ${HOUR}) + ${EPOCH_WEEKDAY_HOURS}
  return hours % ${WEEK_HOURS}, math.floor(hours / ${WEEK_HOURS})
end
local function healthGap(code, first, last, n, offset)
  local key = healthBase .. code
  local previous = tonumber(redis.call('HGET', key, 'last'))
  if previous and first > previous then
    local slot, week = healthSlot(previous, offset)
    local gap = first - previous
    local field = 'g' .. slot
    local old = redis.call('HGET', key, field)
    local keep = 0
    if old then
      local sep = string.find(old, ',', 1, true)
      local oldGap, oldWeek = tonumber(string.sub(old, 1, sep - 1)), tonumber(string.sub(old, sep + 1))
      keep = oldGap * 0.5 ^ math.max(0, week - oldWeek - 1)
    end
    if gap > keep then redis.call('HSET', key, field, string.format('%d,%d', gap, week)) end
  end
  if not previous or last > previous then redis.call('HSET', key, 'last', string.format('%d', last)) end
  redis.call('HINCRBY', key, 'sinceCount', n)
end
local function healthCount(code, values, now)
  local key = healthBase .. code
  if redis.call('HGET', key, 'count') ~= values then
    redis.call('HSET', key, 'count', values, 'countChangedAt', now, 'sinceCount', 0)
  end
end
`;

/** What a lot's hash holds, as the rules need it (the gap of the slot its silence began in). */
export interface LotHealthFacts {
  parkCode: string;
  /** Latest event time delivered (Unix s, event time), entrances and departures together. */
  lastEvent?: number;
  /** The longest gap learned for the hour of the week `lastEvent` falls in, and the week it was. */
  usualGap?: { seconds: number; week: number };
  /** The count values (`total/remain/used`) and when they last changed (Unix s, delivery time). */
  count?: { values: string; changedAt: number };
  /** Events delivered since the count last changed. */
  eventsSinceCount: number;
}

export interface LotOutcomes {
  delivered: number;
  quarantined: number;
  refused: number;
}

/** An alert that is firing, as the evaluator keeps it between runs (and across restarts). */
export interface ActiveAlert {
  /** `<alert>|<lot>|<stream>`. */
  id: string;
  alert: string;
  lot: string;
  stream: string;
  /** The operator's sentence, refreshed at each evaluation. */
  reason: string;
  /** When it fired, Unix s. */
  since: number;
}

/** A fire or clear notification waiting to be sent to the webhook. */
export interface AlertNotification {
  event: 'fired' | 'cleared';
  alert: string;
  lot: string;
  stream: string;
  reason: string;
  /** When it fired, Unix s. */
  since: number;
  /** When this happened (fired: = since; cleared: when it cleared), Unix s. */
  at: number;
}

export function healthKeys(prefix: string) {
  const key = (...parts: string[]) => stateKey(prefix, 'health', ...parts);
  return {
    /** A lot's hash: `<lotBase><code>`. */
    lotBase: key('lot', ''),
    codes: key('lots'),
    outcomes: (hour: number) => key('outcomes', String(hour)),
    latency: (stream: string, day: number) => key('latency', stream, String(day)),
    active: key('active'),
    outbox: key('outbox'),
    window: (index: number) => key('sent', String(index)),
  };
}

export const outcomeHour = (nowMs: number) => Math.floor(nowMs / 1000 / HOUR);
export const OUTCOME_KEEP_SECONDS = OUTCOME_TTL_SECONDS;

export class LotHealthStore {
  private readonly keys: ReturnType<typeof healthKeys>;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = healthKeys(prefix);
  }

  /**
   * Every lot's facts. `offsetSeconds(t)`: the vendor zone's offset at t, to find the hour of the
   * week each lot's silence began in.
   */
  async lots(offsetSeconds: (epochSeconds: number) => number): Promise<LotHealthFacts[]> {
    const codes = await this.redis.smembers(this.keys.codes);
    const heads = this.redis.pipeline();
    for (const code of codes)
      heads.hmget(this.keys.lotBase + code, 'last', 'count', 'countChangedAt', 'sinceCount');
    const rows = ((await heads.exec()) ?? []).map((r) => (r[1] ?? []) as Array<string | null>);
    const facts: LotHealthFacts[] = codes.map((parkCode, i) => {
      const [last, count, changedAt, since] = rows[i] ?? [];
      const lot: LotHealthFacts = { parkCode, eventsSinceCount: Number(since ?? 0) };
      if (last) lot.lastEvent = Number(last);
      if (count && changedAt) lot.count = { values: count, changedAt: Number(changedAt) };
      return lot;
    });
    const gaps = this.redis.pipeline();
    const asked: LotHealthFacts[] = [];
    for (const lot of facts) {
      if (lot.lastEvent === undefined) continue;
      const { slot } = hourOfWeek(lot.lastEvent, offsetSeconds(lot.lastEvent));
      gaps.hget(this.keys.lotBase + lot.parkCode, `g${slot}`);
      asked.push(lot);
    }
    const values = (await gaps.exec()) ?? [];
    asked.forEach((lot, i) => {
      const value = values[i]?.[1] as string | null | undefined;
      if (!value) return;
      const [seconds, week] = value.split(',').map(Number);
      lot.usualGap = { seconds: seconds!, week: week! };
    });
    return facts;
  }

  /** One of the lot's events was quarantined or refused by ISP (a delivery counts itself). */
  async countOutcome(code: string, kind: 'quarantined' | 'refused', nowMs = Date.now()): Promise<void> {
    const key = this.keys.outcomes(outcomeHour(nowMs));
    await this.redis.multi().hincrby(key, `${code}|${kind}`, 1).expire(key, OUTCOME_TTL_SECONDS).exec();
  }

  /** Per lot: events delivered, quarantined and refused in the current and the previous clock hour. */
  async outcomes(nowMs = Date.now()): Promise<Map<string, LotOutcomes>> {
    const hour = outcomeHour(nowMs);
    const out = new Map<string, LotOutcomes>();
    for (const h of [hour - 1, hour]) {
      for (const [field, n] of Object.entries(await this.redis.hgetall(this.keys.outcomes(h)))) {
        const sep = field.lastIndexOf('|');
        const code = field.slice(0, sep);
        const kind = field.slice(sep + 1);
        const lot = out.get(code) ?? { delivered: 0, quarantined: 0, refused: 0 };
        if (kind === 'd') lot.delivered += Number(n);
        else if (kind === 'quarantined') lot.quarantined += Number(n);
        else if (kind === 'refused') lot.refused += Number(n);
        out.set(code, lot);
      }
    }
    return out;
  }

  /** The largest delivery latency (s) of `stream`'s live deliveries from `fromMs` to `toMs`. */
  async maxLatency(stream: string, fromMs: number, toMs: number): Promise<number | undefined> {
    const from = Math.floor(fromMs / 60_000) * 60;
    let max: number | undefined;
    for (let day = Math.floor(from / 86_400); day <= Math.floor(toMs / 1000 / 86_400); day++) {
      for (const [minute, seconds] of Object.entries(
        await this.redis.hgetall(this.keys.latency(stream, day)),
      )) {
        if (Number(minute) >= from && Number(minute) * 1000 <= toMs)
          max = Math.max(max ?? 0, Number(seconds));
      }
    }
    return max;
  }

  async active(): Promise<Map<string, ActiveAlert>> {
    const all = await this.redis.hgetall(this.keys.active);
    return new Map(Object.entries(all).map(([id, json]) => [id, JSON.parse(json) as ActiveAlert]));
  }

  /**
   * The evaluation's outcome, at once: the alerts active now (the others removed) and the
   * notifications to send, queued behind those not sent yet.
   */
  async commit(active: ActiveAlert[], removed: string[], notifications: AlertNotification[]): Promise<void> {
    const tx = this.redis.multi();
    if (removed.length) tx.hdel(this.keys.active, ...removed);
    for (const alert of active) tx.hset(this.keys.active, alert.id, JSON.stringify(alert));
    if (notifications.length) tx.rpush(this.keys.outbox, ...notifications.map((n) => JSON.stringify(n)));
    await tx.exec();
  }

  /** Notifications not sent yet, oldest first. */
  async outbox(limit = 1_000): Promise<AlertNotification[]> {
    const items = await this.redis.lrange(this.keys.outbox, 0, limit - 1);
    return items.map((json) => JSON.parse(json) as AlertNotification);
  }

  /** The oldest `count` notifications are done with (sent, or given up). */
  async shiftOutbox(count: number): Promise<void> {
    if (count > 0) await this.redis.ltrim(this.keys.outbox, count, -1);
  }

  /** Messages sent in rate-limit window `index`. */
  async sentInWindow(index: number): Promise<number> {
    return Number((await this.redis.get(this.keys.window(index))) ?? 0);
  }

  async countSent(index: number, ttlSeconds: number): Promise<void> {
    const key = this.keys.window(index);
    await this.redis.multi().incr(key).expire(key, ttlSeconds).exec();
  }
}
