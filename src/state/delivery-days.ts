/**
 * Per event stream, per day (in the vendor's zone, by event time) and per lot: records delivered,
 * how many of them went without the photo their vendor row referenced, how many a replayed job
 * delivered, and their delivery latency (event time → ISP's acceptance) as a histogram of fixed
 * log buckets (latency-buckets.ts). Written by the pushers once per delivered batch, in one Lua
 * call; read by the daily report and the status page's 14-day chart. One hash per stream and day,
 * kept `reconcile.retainDays` days after the day ends. Holds counts only, never records or keys.
 */
import { DateTime, IANAZone } from 'luxon';
import { stateKey } from './keys.js';
import { type LatencyHistogram, latencyBucket } from './latency-buckets.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

/**
 * Fields of a day's hash: `<kind>|<lot code>` (the kind never holds "|", so a lot code may), and
 * `n` alone for the day's total over every lot (what the chart reads).
 */
const FIELD = { delivered: 'n', photosMissing: 'pm', replayed: 'rp' } as const;
const TOTAL = 'n';
const histogramField = (bucket: number) => `h${bucket}`;

/** What a lot's day holds for one stream. */
export interface LotDayDelivery {
  day: string;
  parkCode: string;
  delivered: number;
  /** Delivered without the photo their vendor row referenced (file gone, fetch failed, corrupt, refused). */
  photosMissing: number;
  /** Delivered by a job that came back from the failed set (a replay) or an operator's resend. */
  replayed: number;
  latency: LatencyHistogram;
}

/** The days of a zone: event times to `yyyy-MM-dd`, and back to their bounds. */
export class VendorDays {
  private readonly zone: IANAZone;
  /** The last day looked up: most records of a batch share it. */
  private cached = { start: 0, end: -1, day: '' };

  constructor(readonly timeZone: string) {
    this.zone = IANAZone.create(timeZone);
    if (!this.zone.isValid) throw new Error(`VendorDays: invalid time zone ${timeZone}`);
  }

  /** The day (`yyyy-MM-dd`, vendor zone) of Unix second `epoch`. */
  dayOf(epoch: number): string {
    const c = this.cached;
    if (epoch >= c.start && epoch < c.end) return c.day;
    const day = DateTime.fromSeconds(epoch, { zone: this.zone }).toFormat('yyyy-MM-dd');
    const { start, end } = this.bounds(day);
    this.cached = { start, end, day };
    return day;
  }

  /** Unix seconds of the day's first instant and of the next day's (23 or 25 h on a DST change). */
  bounds(day: string): { start: number; end: number } {
    const start = DateTime.fromISO(day, { zone: this.zone });
    if (!start.isValid || start.toFormat('yyyy-MM-dd') !== day)
      throw new Error(`"${day}" is not a day: give it as yyyy-MM-dd (for example 2026-12-01)`);
    return { start: start.toSeconds(), end: start.plus({ days: 1 }).toSeconds() };
  }

  /** The days from `from` to `to`, both included, oldest first. */
  range(from: string, to: string): string[] {
    const days: string[] = [];
    let d = DateTime.fromISO(from, { zone: this.zone });
    this.bounds(from);
    this.bounds(to);
    for (let guard = 0; guard < 3_660; guard++) {
      const day = d.toFormat('yyyy-MM-dd');
      if (day > to) break;
      days.push(day);
      d = d.plus({ days: 1 });
    }
    return days;
  }

  /** The day `n` days before `day`. */
  before(day: string, n: number): string {
    return DateTime.fromISO(day, { zone: this.zone }).minus({ days: n }).toFormat('yyyy-MM-dd');
  }
}

interface Cell {
  day: string;
  lot: string;
  delivered: number;
  photosMissing: number;
  replayed: number;
  buckets: Map<number, number>;
}

/**
 * A delivered batch (or a page of them), summed per day and lot before it is written: the
 * latency of each record is taken when it is added, that is when ISP has just accepted it.
 */
export class DeliveryDayTally {
  readonly cells = new Map<string, Cell>();

  constructor(private readonly days: VendorDays) {}

  /**
   * `records`: delivered now; `withoutPhoto`: those among them whose referenced photo was not
   * sent; `replayed`: the batch came from a replayed job.
   */
  add(
    records: ReadonlyArray<{ time: number; lot: string }>,
    options: {
      nowMs?: number;
      replayed?: boolean;
      withoutPhoto?: ReadonlyArray<{ time: number; lot: string }>;
    } = {},
  ): this {
    const now = (options.nowMs ?? Date.now()) / 1000;
    const replayed = options.replayed === true;
    for (const r of records) {
      const cell = this.cell(r.time, r.lot);
      cell.delivered++;
      if (replayed) cell.replayed++;
      const b = latencyBucket(now - r.time);
      cell.buckets.set(b, (cell.buckets.get(b) ?? 0) + 1);
    }
    for (const r of options.withoutPhoto ?? []) this.cell(r.time, r.lot).photosMissing++;
    return this;
  }

  private cell(time: number, lot: string): Cell {
    const day = this.days.dayOf(time);
    const id = `${day}\n${lot}`;
    let cell = this.cells.get(id);
    if (!cell) {
      cell = { day, lot, delivered: 0, photosMissing: 0, replayed: 0, buckets: new Map() };
      this.cells.set(id, cell);
    }
    return cell;
  }
}

/**
 * ARGV: groups of day, expire-at (Unix s), number of fields, then that many field / increment
 * pairs. KEYS[1]: the key base (a day's key is the base and the day; all share the prefix's
 * {hash tag}).
 */
const RECORD = `
local base = KEYS[1]
local i = 1
while i <= #ARGV do
  local key = base .. ARGV[i]
  local n = tonumber(ARGV[i + 2])
  for j = i + 3, i + 2 + 2 * n, 2 do redis.call('HINCRBY', key, ARGV[j], ARGV[j + 1]) end
  redis.call('EXPIREAT', key, ARGV[i + 1])
  i = i + 3 + 2 * n
end
return 0`;

interface DeliveryDayCommands {
  ispDeliveryDaysRecord(base: string, ...args: Array<string | number>): Promise<number>;
}

export class DeliveryDayStore {
  private readonly commands: DeliveryDayCommands;
  readonly days: VendorDays;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    timeZone: string,
    /** Days a day's figures are kept after it ends (config `reconcile.retainDays`). */
    private readonly retainDays: number,
  ) {
    this.days = new VendorDays(timeZone);
    this.commands = scriptCommands<DeliveryDayCommands>(redis, {
      ispDeliveryDaysRecord: { numberOfKeys: 1, lua: RECORD },
    });
  }

  tally(): DeliveryDayTally {
    return new DeliveryDayTally(this.days);
  }

  private key(stream: string, day: string): string {
    return stateKey(this.prefix, 'delivery-days', stream, day);
  }

  /** Writes a tally of `stream` in one call; nothing for an empty one. */
  async record(stream: string, tally: DeliveryDayTally): Promise<void> {
    if (tally.cells.size === 0) return;
    const perDay = new Map<string, Array<string | number>>();
    const totals = new Map<string, number>();
    for (const c of tally.cells.values()) {
      let fields = perDay.get(c.day);
      if (!fields) {
        fields = [];
        perDay.set(c.day, fields);
      }
      fields.push(`${FIELD.delivered}|${c.lot}`, c.delivered);
      if (c.photosMissing) fields.push(`${FIELD.photosMissing}|${c.lot}`, c.photosMissing);
      if (c.replayed) fields.push(`${FIELD.replayed}|${c.lot}`, c.replayed);
      for (const [b, n] of c.buckets) fields.push(`${histogramField(b)}|${c.lot}`, n);
      totals.set(c.day, (totals.get(c.day) ?? 0) + c.delivered);
    }
    const args: Array<string | number> = [];
    for (const [day, fields] of perDay) {
      fields.push(TOTAL, totals.get(day) ?? 0);
      const expireAt = this.days.bounds(day).end + this.retainDays * 86_400;
      args.push(day, expireAt, fields.length / 2, ...fields);
    }
    await this.commands.ispDeliveryDaysRecord(this.key(stream, ''), ...args);
  }

  /** Every lot's figures of `stream` on `day` (lots with a delivery that day). */
  async lotDays(stream: string, day: string): Promise<LotDayDelivery[]> {
    return parseDay(day, await this.redis.hgetall(this.key(stream, day)));
  }

  /** Records of `stream` delivered per day (by event time), for each of `days`; 0 for a day without. */
  async deliveredPerDay(stream: string, days: readonly string[]): Promise<number[]> {
    if (days.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.hget(this.key(stream, day), TOTAL);
    const rows = (await pipeline.exec()) ?? [];
    return days.map((_, i) => Number(rows[i]?.[1] ?? 0) || 0);
  }
}

/** A day's hash as lot figures, sorted by lot code. */
export function parseDay(day: string, hash: Record<string, string>): LotDayDelivery[] {
  const lots = new Map<string, LotDayDelivery>();
  for (const [field, raw] of Object.entries(hash)) {
    const bar = field.indexOf('|');
    if (bar < 0) continue;
    const kind = field.slice(0, bar);
    const parkCode = field.slice(bar + 1);
    let lot = lots.get(parkCode);
    if (!lot) {
      lot = { day, parkCode, delivered: 0, photosMissing: 0, replayed: 0, latency: new Map() };
      lots.set(parkCode, lot);
    }
    const n = Number(raw);
    if (kind === FIELD.delivered) lot.delivered = n;
    else if (kind === FIELD.photosMissing) lot.photosMissing = n;
    else if (kind === FIELD.replayed) lot.replayed = n;
    else if (kind.startsWith('h')) lot.latency.set(Number(kind.slice(1)), n);
  }
  return [...lots.values()].sort((a, b) => (a.parkCode < b.parkCode ? -1 : a.parkCode > b.parkCode ? 1 : 0));
}
