/**
 * What the worker writes down once ISP has accepted a batch: the delivery count, each lot's
 * latest event (status page, metrics) and each lot's figures of the day (daily report), written
 * through a Redis restart like the ledger.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { eventsDelivered } from '../metrics.js';
import type { DeliveryDayTally } from '../state/delivery-days.js';
import type { EventRecord } from './events/records.js';
import type { Runtime } from './runtime.js';
import { EVENT_STREAMS, type EventStreamName } from './streams.js';

/** How long a delivered batch's ledger write keeps retrying through a Redis outage. */
const LEDGER_WRITE_PATIENCE_MS = 120_000;

/**
 * ISP has accepted a batch: the ledger must hear of it, or the retried job sends it again. A Redis
 * restart makes the write fail at once (the client gives up after a few reconnects), so it is
 * retried until Redis is back (measured: 130+ duplicates per 3 s restart without this,
 * test/chaos/redis-restart.test.ts); only a longer outage fails the job. The same for the
 * delivery count: the job's retry skips the records, so a count missed here is never made up.
 */
export async function untilWritten(
  write: () => Promise<void>,
  rt: Runtime,
  what = 'ledger write',
): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() - started > LEDGER_WRITE_PATIENCE_MS) throw error;
      if (attempt === 1)
        rt.logger.warn({ err: (error as Error).message }, `${what} failed; retrying until Redis is up`);
      await sleep(Math.min(1_000, 100 * attempt));
    }
  }
}

/**
 * Records delivered, each lot's latest event time among them, and their figures per lot and day
 * (latency taken as they are added, photos missing, replayed); per lot the earliest event time and
 * how many, and the earliest of all, for the lot health alerts. The records themselves are let go.
 */
export class DeliveryTally {
  count = 0;
  readonly lots = new Map<string, number>();
  readonly days: DeliveryDayTally;
  readonly firstTimes = new Map<string, number>();
  readonly counts = new Map<string, number>();
  oldest = Number.POSITIVE_INFINITY;

  constructor(rt: Pick<Runtime, 'deliveryDays'>) {
    this.days = rt.deliveryDays.tally();
  }

  /** `withoutPhoto`: those of `records` sent without their photo; `replayed`: from a replayed job. */
  add(
    records: readonly EventRecord[],
    detail: { withoutPhoto?: readonly EventRecord[]; replayed?: boolean } = {},
  ): this {
    this.count += records.length;
    for (const r of records) {
      const time = this.lots.get(r.lot);
      if (time === undefined || r.time > time) this.lots.set(r.lot, r.time);
      const first = this.firstTimes.get(r.lot);
      if (first === undefined || r.time < first) this.firstTimes.set(r.lot, r.time);
      this.counts.set(r.lot, (this.counts.get(r.lot) ?? 0) + 1);
      if (r.time < this.oldest) this.oldest = r.time;
    }
    this.days.add(records, detail);
    return this;
  }
}

/**
 * Delivery count, per-lot latest times and per-lot-day figures, after the ledger has the records:
 * two script calls sent together (one round trip), each retried through a Redis restart. `live`:
 * the records came from the live poll (not a backfill or a replay), so their age is the stream's
 * delivery latency (lot health alerts).
 */
export async function countDelivered(
  rt: Runtime,
  stream: EventStreamName,
  tally: DeliveryTally,
  options: { live?: boolean; nowMs?: number } = {},
): Promise<void> {
  eventsDelivered.inc({ source: rt.config.source.name, stream }, tally.count);
  const nowMs = options.nowMs ?? Date.now();
  const perLot = {
    field: EVENT_STREAMS[stream].lotActivity,
    times: tally.lots,
    firstTimes: tally.firstTimes,
    counts: tally.counts,
    zoneOffsetSeconds: zoneOffsetSeconds(rt.config.vendor.timeZone, nowMs),
    ...(options.live && Number.isFinite(tally.oldest) ? { latencySeconds: nowMs / 1000 - tally.oldest } : {}),
  };
  await Promise.all([
    untilWritten(() => rt.activity.recordDelivered(stream, tally.count, perLot, nowMs), rt, 'delivery count'),
    untilWritten(() => rt.deliveryDays.record(stream, tally.days), rt, 'delivery figures per day'),
  ]);
}

/**
 * The zone's offset from UTC at `atMs`, seconds (east positive), looked up once a minute (it runs
 * for every delivered batch). The store finds the hour of the week of a lot's previous event with
 * it too: across a daylight-saving change that event's hour is one off, once a year.
 */
export function zoneOffsetSeconds(zone: string, atMs: number): number {
  const minute = Math.floor(atMs / 60_000);
  if (offsetCache.zone !== zone || offsetCache.minute !== minute)
    Object.assign(offsetCache, { zone, minute, offset: DateTime.fromMillis(atMs, { zone }).offset * 60 });
  return offsetCache.offset;
}
const offsetCache = { zone: '', minute: -1, offset: 0 };
