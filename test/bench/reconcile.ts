/**
 * The reconcile figures: one vendor day of ~1,000,000 events across 200 lots (a visit table, no
 * photos), every event recorded as delivered in the ledger as the push does, less a known few:
 * - `reconcile-day-seconds`: `reconcileDays` of that day (both streams), with its rate against the
 *   bare read of the same rows through the same page query (ceiling, same run);
 * - `reconcile-rows-examined-per-event`: rows the server read (INDEX/TABLE_STATISTICS of this
 *   database, `userstat`) per event counted, target ≤ 1.05; the plans of the reconcile queries
 *   (EXPLAIN, as `check` judges them) must be ranges;
 * - `reconcile-ledger-35d-mb`: Redis memory of 35 days of delivery records at that volume,
 *   extrapolated from the bytes per event measured (MEMORY USAGE of the day's ledger keys);
 * - `reconcile-lot-35d-mb`: measured directly, one lot of 5,000 events a day for 35 days.
 */
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { silentLogger } from '../../src/log.js';
import type { EventRecord } from '../../src/pipeline/events/records.js';
import { dayBounds } from '../../src/pipeline/reconcile/days.js';
import { type ReconcileDeps, reconcileDays } from '../../src/pipeline/reconcile/reconcile.js';
import { reconcileDeps } from '../../src/pipeline/reconcile/reconcile-deps.js';
import { createRuntime, ledgerDays, type Runtime } from '../../src/pipeline/runtime.js';
import { seedDemo } from '../../src/sim/demo-vendor/index.js';
import { DeliveredLedger } from '../../src/state/ledger.js';
import { explainStreams } from '../../src/vendor-db/explain.js';
import type { BenchContext } from './lib/context.js';
import { prefixMemory, usedMemoryMb } from './lib/redis-memory.js';
import { makeResult } from './lib/report.js';
import { startStack } from './lib/stack.js';
import { diffStats, enableUserStats, readVendorStats } from './lib/vendor-stats.js';

/** Events per stream forgotten on purpose (at most; every 401st). */
const GAPS = 100;
const STREAMS = ['entrances', 'departures'] as const;

export async function runReconcileGroup(ctx: BenchContext): Promise<void> {
  const group = 'reconcile';
  const sizes = ctx.sizes.reconcile;
  const command = ctx.command(group);
  const stack = await startStack({ style: 'visit-table', photos: false });
  const rt = createRuntime(stack.config, { logger: silentLogger });
  try {
    const zone = stack.config.vendor.timeZone;
    const day = DateTime.now().setZone(zone).minus({ days: 1 }).toFormat('yyyy-MM-dd');
    const bounds = dayBounds(day, zone);
    ctx.log(
      `seeding ${sizes.visits.toLocaleString('en')} visits of ${day} across ${sizes.lots} lots (no photos)`,
    );
    // Visits of the day only (a car still inside at midnight leaves the next day: not this day's departure).
    const seed = await seedDemo(stack.db.url, 'visit-table', {
      visits: sizes.visits,
      lots: sizes.lots,
      days: 0.96,
      endEpoch: bounds.end - 3600,
      photos: false,
    });
    for (const stream of STREAMS) await rt.progress.setCaughtUp(stream, Math.floor(Date.now() / 1000));

    // What the push records at delivery, for every event of the day; then a known few forgotten.
    const deps = reconcileDeps(rt);
    const lost = await markDay(rt, deps, bounds);
    const delivered = lost.marked;
    const memory = await prefixMemory(stack.redis.client, stack.redis.prefix);
    const bytesPerEvent = (memory.ledgerMb * 1024 * 1024) / delivered;
    ctx.log(
      `  ledger: ${delivered.toLocaleString('en')} events in ${memory.ledgerKeys} keys, ${memory.ledgerMb.toFixed(2)} MB ` +
        `(${bytesPerEvent.toFixed(2)} B an event); ${lost.forgotten} forgotten`,
    );

    // Ceiling: the bare read of the day's rows through the same page query.
    let t = performance.now();
    let rowsRead = 0;
    for (const stream of STREAMS)
      await deps.readRows(stream, { from: bounds.start, to: bounds.end }, async (rows) => {
        rowsRead += rows.length;
      });
    const readSeconds = (performance.now() - t) / 1000;

    const restore = await enableUserStats(stack.db.admin);
    try {
      const before = await readVendorStats(stack.db.admin, 'root', stack.db.name);
      t = performance.now();
      const report = await reconcileDays(deps, { from: day, to: day });
      const seconds = (performance.now() - t) / 1000;
      const stats = diffStats(await readVendorStats(stack.db.admin, 'root', stack.db.name), before);
      const recorded = report.rows.reduce((n, r) => n + r.recorded, 0);
      const missing = report.missingByStream.entrances + report.missingByStream.departures;
      const examined = stats.tables.car_inout ?? Number.NaN;
      const perEvent = examined / recorded;
      ctx.log(
        `  reconcile: ${recorded.toLocaleString('en')} events (seeded ${(seed.entrances + seed.departures).toLocaleString('en')}) in ${seconds.toFixed(1)} s ` +
          `(bare read ${readSeconds.toFixed(1)} s); rows examined ${examined.toLocaleString('en')} ` +
          `(${JSON.stringify(stats.indexes)}); missing ${missing} (forgotten ${lost.forgotten})`,
      );
      if (missing !== 2 * GAPS || rowsRead !== recorded)
        throw new Error(
          `reconcile counted ${missing} missing of ${2 * GAPS} forgotten, ${recorded} of ${rowsRead} rows`,
        );
      ctx.add(
        makeResult({
          id: 'reconcile-day-seconds',
          unit: 's',
          runs: [
            {
              value: seconds,
              events: recorded,
              lots: sizes.lots,
              eventsPerSecond: recorded / seconds,
              bareReadSeconds: readSeconds,
            },
          ],
          ceiling: { id: 'reconcile-bare-read', value: readSeconds, unit: 's' },
          ratio: readSeconds / seconds,
          note: `reconcileDays of one day, ${recorded.toLocaleString('en')} events across ${sizes.lots} lots; ratio: bare read time / reconcile time (share of the page query's own speed)`,
          command,
        }),
      );
      ctx.add(
        makeResult({
          id: 'reconcile-rows-examined-per-event',
          unit: 'rows/event',
          runs: [{ value: perEvent, examined, recorded, indexes: stats.indexes }],
          target: { on: 'value', op: '<=', bound: 1.05, text: '≤ 1.05 rows per event' },
          note: 'rows the server read from car_inout (TABLE_STATISTICS, userstat) per event counted, both streams',
          command,
        }),
      );
    } finally {
      await restore();
    }

    const plans = (await explainStreams(rt.vendor, stack.config)).filter((p) => p.query === 'reconcile');
    const plansText = plans
      .map((p) => `${p.stream} ${p.verdict} (${p.plan?.type} on ${p.plan?.key})`)
      .join(', ');
    ctx.log(`  EXPLAIN of the reconcile queries: ${plansText}`);
    if (plans.some((p) => p.verdict !== 'ok' || p.plan?.type !== 'range'))
      throw new Error(`a reconcile query is not a range scan: ${plansText}`);

    const days = 35;
    ctx.add(
      makeResult({
        id: 'reconcile-ledger-35d-mb',
        unit: 'MB',
        runs: [
          {
            value: (bytesPerEvent * delivered * days) / 1024 / 1024,
            bytesPerEvent,
            eventsPerDay: delivered,
            days,
          },
        ],
        note: `Redis for ${days} days of delivery records at ${delivered.toLocaleString('en')} events a day: extrapolated from ${bytesPerEvent.toFixed(2)} B an event measured (MEMORY USAGE of the day's ledger keys); plans: ${plansText}`,
        command,
      }),
    );
    await lotMemory(ctx, rt, sizes.lotEventsPerDay, days, command);
  } finally {
    await rt.close();
    await stack.close();
  }
}

/** Marks every event of the day delivered, as the push does, then forgets GAPS per stream. */
async function markDay(rt: Runtime, deps: ReconcileDeps, bounds: { start: number; end: number }) {
  let marked = 0;
  let forgotten = 0;
  for (const stream of STREAMS) {
    const forget: EventRecord[] = [];
    let n = 0;
    await deps.readRows(stream, { from: bounds.start, to: bounds.end }, async (rows) => {
      const records: EventRecord[] = [];
      for (const row of rows) {
        const o = deps.transform(stream, row);
        if (o.ok) records.push(o.record);
      }
      for (let i = 0; i < records.length; i += 1000)
        await rt.ledgers[stream].markDelivered(records.slice(i, i + 1000));
      for (const r of records) if (n++ % 401 === 0 && forget.length < GAPS) forget.push(r);
      marked += records.length;
    });
    await rt.ledgers[stream].forget(forget);
    marked -= forget.length;
    forgotten += forget.length;
  }
  return { marked, forgotten };
}

/** One lot, `perDay` events a day (half entrances, half departures) for `days` days: measured. */
async function lotMemory(ctx: BenchContext, rt: Runtime, perDay: number, days: number, command: string) {
  const prefix = `${rt.config.redis.prefix}:lotmem`;
  // The bench's stack runs on one Redis server (INFO and SCAN of one node).
  const redis = rt.redis as Redis;
  const before = await usedMemoryMb(redis);
  const today = Math.floor(Date.now() / 86_400_000) * 86_400;
  let id = 0;
  for (const stream of STREAMS) {
    const ledger = new DeliveredLedger(redis, prefix, stream, ledgerDays(rt.config));
    for (let d = 1; d <= days; d++) {
      const start = today - d * 86_400;
      const entries = Array.from({ length: perDay / 2 }, (_, i) => {
        const time = start + Math.floor((i * 86_400) / (perDay / 2));
        return { key: `LOT0001|鲁A${String(i).padStart(5, '0')}|${time}#${++id}`, time };
      });
      for (let i = 0; i < entries.length; i += 1000) await ledger.markDelivered(entries.slice(i, i + 1000));
    }
  }
  const measured = await prefixMemory(redis, prefix);
  const used = (await usedMemoryMb(redis)) - before;
  ctx.log(
    `  one lot, ${perDay} events a day, ${days} days: ${measured.ledgerMb.toFixed(2)} MB in ${measured.ledgerKeys} keys (MEMORY USAGE), ` +
      `used_memory +${used.toFixed(2)} MB`,
  );
  ctx.add(
    makeResult({
      id: 'reconcile-lot-35d-mb',
      unit: 'MB',
      runs: [
        {
          value: measured.ledgerMb,
          keys: measured.ledgerKeys,
          usedMemoryDeltaMb: used,
          eventsPerDay: perDay,
          days,
        },
      ],
      note: `one lot alone, ${perDay} events a day for ${days} days: MEMORY USAGE of its ledger keys, measured (INFO used_memory delta in the run)`,
      command,
    }),
  );
}
