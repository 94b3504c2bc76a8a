/**
 * The no-photo figures on one preloaded visit table (demo style `visit-table`, seeded without
 * photos, streams configured without a photo column, so nothing is fetched or encoded):
 * - `ceiling-mysql-read` and `vendor-reader-ratio` (vendor-read.ts) on this table;
 * - `throughput-no-photos`: one child worker drains every entrance and departure into the
 *   simulator; events/s against min(ceiling-mysql-read, ceiling-isp-ingest);
 * - `vendor-rows-examined-ratio` and idle queries/s, from the server's statistics for the worker's
 *   own read-only user during that run (vendor-stats.ts);
 * - `scaleout-ratio`: the same backlog drained by two worker processes against one;
 * - `baseline-ratio`: a hand-written LIMIT/OFFSET, one-POST-per-record uploader on the same data
 *   for a fixed time, against the worker's rate.
 * Between runs the Redis prefix is emptied and the simulator reset; the vendor data stays.
 */
import { seedDemo } from '../../src/sim/demo-vendor/index.js';
import { explainStreams } from '../../src/vendor-db/explain.js';
import { createVendorPool } from '../../src/vendor-db/pool.js';
import { measureIspIngest } from './isp-ingest.js';
import { runScript } from './lib/child.js';
import type { BenchContext } from './lib/context.js';
import { type DrainResult, drain } from './lib/drain.js';
import { makeResult, median, type Run } from './lib/report.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack, startStack } from './lib/stack.js';
import { diffStats, enableUserStats, readVendorStats, type VendorStats } from './lib/vendor-stats.js';
import { measureKeysetRead } from './vendor-read.js';

export const BASELINE_UPLOADER = 'test/bench/lib/baseline-uploader.ts';

/**
 * min(ceiling-mysql-read, one ingest-ceiling round now): the ceiling of a pipeline run measured
 * next to it, so load from other processes on a shared machine weighs on both alike. The round
 * posts `departureShare` of its batches as departures: the simulator's rate for the same batches
 * is that of the workload's mix, and a departure (eleven fields) costs it ~1.5× an
 * entrance (five), so an entrances-only round overstates it by ~15% for a half-and-half workload.
 */
export async function adjacentCeiling(ctx: BenchContext, departureShare = 0): Promise<number> {
  const [round] = await measureIspIngest({
    ...ctx.sizes.ingest,
    records: Math.round(ctx.sizes.ingest.records / 2),
    rounds: 1,
    departureShare,
  });
  const mysql = ctx.get('ceiling-mysql-read')?.value ?? Number.POSITIVE_INFINITY;
  return Math.min(round!.value, mysql);
}

/** Measures the keyset ceiling and the reader ratio on the stack's table (once per bench run). */
export async function measureReadFigures(ctx: BenchContext, stack: Stack, group: string): Promise<void> {
  const read = await measureKeysetRead(stack.config, ctx.sizes.reader.rounds);
  ctx.add(
    makeResult({
      id: 'ceiling-mysql-read',
      unit: 'rows/s',
      runs: read.bare,
      note:
        `Bare mysql2 query() loop (text protocol, as the reader) over the entrance page query (keyset on (in_time, id), pages of ` +
        `${stack.config.streams.entrances.pageSize}, commit-lag guard, dateStrings) reading all ${read.rows.toLocaleString('en')} ` +
        'rows of the visit table to the end, after one warm-up pass.',
      command: ctx.command(group),
    }),
  );
  const bare = ctx.get('ceiling-mysql-read')!;
  ctx.add(
    makeResult({
      id: 'vendor-reader-ratio',
      unit: '×',
      runs: read.reader,
      ceiling: { id: 'ceiling-mysql-read', value: bare.value, unit: 'rows/s' },
      ratio: null,
      target: { on: 'value', op: '>=', bound: 0.7, text: '≥ 0.70 of the bare query' },
      note: 'readEventPage (the reader the poller uses) over the same table, rounds interleaved with the bare loop; value = reader rows/s ÷ bare rows/s of the same round.',
      command: ctx.command(group),
    }),
  );
  const r = ctx.get('vendor-reader-ratio')!;
  r.ratio = r.value;
}

function drainRun(d: DrainResult): Run {
  return {
    value: d.eventsPerSecond,
    events: d.delivered,
    expected: d.expected,
    seconds: d.seconds,
    complete: d.complete,
    firstReceiptSeconds: d.firstReceiptSeconds,
    duplicatesSent: d.extra,
    peakRssMb: d.peakRssMb,
    cpuCores: d.cpu.cores,
  };
}

export async function runThroughputGroup(ctx: BenchContext): Promise<void> {
  const group = 'throughput';
  const sizes = ctx.sizes.throughput;
  const stack = await startStack({ style: 'visit-table', photos: false, readOnlyUser: true });
  try {
    ctx.log(`seeding ${sizes.visits.toLocaleString('en')} visits (no photos)`);
    const seed = await seedDemo(stack.db.url, 'visit-table', {
      visits: sizes.visits,
      photos: false,
      lots: 20,
      days: 7,
    });
    const expected = seed.entrances + seed.departures;
    const departureShare = seed.departures / expected;
    ctx.note(
      `throughput/scale-out/vendor-cost/baseline data: ${seed.entrances.toLocaleString('en')} entrances + ` +
        `${seed.departures.toLocaleString('en')} departures (${sizes.visits.toLocaleString('en')} visits over 7 days, ` +
        `20 lots, demo style visit-table, no photos), seeded in ${(seed.ms / 1000).toFixed(1)} s.`,
    );

    ctx.log('keyset read ceiling and reader ratio');
    await measureReadFigures(ctx, stack, group);
    const plans = await explainPlans(stack);

    const restore = await enableUserStats(stack.db.admin);
    const runs: Run[] = [];
    const cost: Run[] = [];
    try {
      for (let i = 0; i < sizes.runs; i++) {
        if (i > 0) {
          await stack.resetRedis();
          stack.sim.reset();
        }
        // The entrances-only round too, for comparison with earlier runs (which used it). First:
        // the first round after a run also pays for collecting that run's garbage in this process
        // (the simulator's), and it should not lower the ceiling the ratio is taken against.
        const entrancesOnly = await adjacentCeiling(ctx, 0);
        const ceiling = await adjacentCeiling(ctx, departureShare);
        ctx.log(
          `throughput run ${i + 1}/${sizes.runs}: 1 worker, ${expected.toLocaleString('en')} events (ceiling next to it ${Math.round(ceiling)}/s)`,
        );
        const before = await readVendorStats(stack.db.admin, stack.user!, stack.db.name);
        const d = await drain(stack, expected, {
          workers: 1,
          deadlineMs: sizes.deadlineSeconds * 1000,
          label: 'throughput-no-photos',
        });
        const during = diffStats(await readVendorStats(stack.db.admin, stack.user!, stack.db.name), before);
        runs.push({
          ...drainRun(d),
          ceiling,
          ratio: d.eventsPerSecond / ceiling,
          ceilingEntrancesOnly: entrancesOnly,
          ratioEntrancesOnly: d.eventsPerSecond / entrancesOnly,
        });
        ctx.log(
          `  ${Math.round(d.eventsPerSecond)} events/s in ${d.seconds.toFixed(1)} s${d.complete ? '' : ' (deadline)'}`,
        );
        // Idle: everything delivered, the worker keeps polling; count its statements.
        await new Promise((r) => setTimeout(r, 2_000));
        const idleFrom = await readVendorStats(stack.db.admin, stack.user!, stack.db.name);
        const t = Date.now();
        await new Promise((r) => setTimeout(r, sizes.idleSeconds * 1000));
        const idle = diffStats(await readVendorStats(stack.db.admin, stack.user!, stack.db.name), idleFrom);
        cost.push(costRun(during, idle, (Date.now() - t) / 1000, d.delivered));
      }
    } finally {
      await restore();
    }
    ctx.add(
      makeResult({
        id: 'throughput-no-photos',
        unit: 'events/s',
        runs,
        ceiling: {
          id: 'min(ceiling-mysql-read, ceiling-isp-ingest round of the same entrance/departure mix before the run)',
          value: median(runs.map((r) => Number(r.ceiling))),
          unit: 'events/s',
        },
        ratio: median(runs.map((r) => Number(r.ratio))),
        target: { on: 'ratio', op: '>=', bound: 0.5, text: '≥ 0.5 of min(ceilings)' },
        note:
          `${expected.toLocaleString('en')} preloaded entrances + departures drained by one child worker ` +
          '(`node bin/isp-park-sync.js start --no-web`, all roles, product defaults) into the simulator ' +
          '(light storage); time from spawn to the receipt of the last record. Ceiling: min(ceiling-mysql-read, ' +
          `a ceiling-isp-ingest round measured right before the run with the workload's mix: ${(departureShare * 100).toFixed(0)}% of ` +
          'its batches departures, as the pipeline sends); ratio = the median of the runs’ own ratios. Against an ' +
          `entrances-only round (the ceiling before 2026-11-29 08:00): ratio ${median(runs.map((r) => Number(r.ratioEntrancesOnly))).toFixed(3)} ` +
          `(ceiling ${Math.round(median(runs.map((r) => Number(r.ceilingEntrancesOnly)))).toLocaleString('en')}/s); per run in the runs. ` +
          'CPU per process (worker, bench+simulator, MariaDB, Redis, other processes on the machine) is in the runs.',
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'vendor-rows-examined-ratio',
        unit: 'rows examined / event',
        runs: cost,
        ratio: null,
        target: { on: 'value', op: '<=', bound: 1.05, text: '≤ 1.05, no full scan of an event table' },
        note:
          'Rows the worker read on the vendor server (MariaDB userstat: USER_STATISTICS.ROWS_READ of the ' +
          "worker's own read-only user, so no other client is counted) during the throughput run, per event delivered; " +
          'per-table and per-index rows read, EXPLAIN verdicts and idle statements/s (same user, after the drain) ' +
          `in the runs. EXPLAIN: ${plans}.`,
        command: ctx.command(group),
      }),
    );
    const examined = ctx.get('vendor-rows-examined-ratio')!;
    const fullScan = cost.some((c) => c.fullScanSuspected === true);
    if (examined.met && fullScan) examined.met = false;
    examined.ratio = examined.value;

    // Scale-out: the same backlog, two worker processes.
    const twoRuns: Run[] = [];
    for (let i = 0; i < ctx.sizes.scaleout.runs; i++) {
      await stack.resetRedis();
      stack.sim.reset();
      ctx.log(`scale-out run ${i + 1}/${ctx.sizes.scaleout.runs}: 2 workers`);
      const d = await drain(stack, expected, {
        workers: 2,
        deadlineMs: sizes.deadlineSeconds * 1000,
        label: 'scale-out',
      });
      twoRuns.push(drainRun(d));
      ctx.log(`  ${Math.round(d.eventsPerSecond)} events/s in ${d.seconds.toFixed(1)} s`);
    }
    await stack.resetRedis();
    const one = ctx.get('throughput-no-photos')!;
    ctx.add(
      makeResult({
        id: 'scaleout-ratio',
        unit: '× (2 workers ÷ 1)',
        runs: twoRuns.map((r) => ({
          ...r,
          value: Number(r.value) / one.value,
          twoWorkersEventsPerSecond: r.value,
        })),
        ceiling: { id: 'throughput-no-photos (1 worker)', value: one.value, unit: 'events/s' },
        ratio: null,
        note:
          'The same backlog drained by two worker processes (all roles each; polls stay singletons, pushes are shared) ' +
          'divided by the one-worker rate (throughput-no-photos). Both processes, the simulator, MariaDB and Redis share the 2 cores.',
        command: ctx.command(group),
      }),
    );
    const scale = ctx.get('scaleout-ratio')!;
    scale.ratio = scale.value;

    // Baseline: the hand-written uploader on the same data.
    const baseRuns: Run[] = [];
    for (let i = 0; i < ctx.sizes.baseline.runs; i++) {
      stack.sim.reset();
      ctx.log(`baseline run ${i + 1}/${ctx.sizes.baseline.runs}: LIMIT/OFFSET + one POST per record`);
      const out = await runScript<{
        sent: number;
        accepted: number;
        failed: number;
        seconds: number;
        offset: number;
      }>(BASELINE_UPLOADER, [stack.db.url, stack.sim.url, String(ctx.sizes.baseline.seconds)], {
        BENCH_CLIENT_ID: CLIENT_ID,
        BENCH_CLIENT_SECRET: CLIENT_SECRET,
      });
      const rate = out.accepted / out.seconds;
      baseRuns.push({ value: one.value / rate, baselineEventsPerSecond: rate, ...out });
      ctx.log(`  ${Math.round(rate)} events/s`);
    }
    ctx.add(
      makeResult({
        id: 'baseline-ratio',
        unit: '× (worker ÷ baseline)',
        runs: baseRuns,
        ceiling: { id: 'throughput-no-photos', value: one.value, unit: 'events/s' },
        ratio: null,
        note:
          `A hand-written uploader (lib/baseline-uploader.ts, own process): SELECT … ORDER BY id LIMIT 1000 OFFSET n over ` +
          `the same visit table, each row POSTed alone to /park/entrance, one request at a time, for ${ctx.sizes.baseline.seconds} s ` +
          'from the start of the table (OFFSET costs grow with depth, so a longer run would look worse). ' +
          'Value = throughput-no-photos ÷ the baseline rate.',
        command: ctx.command(group),
      }),
    );
    const base = ctx.get('baseline-ratio')!;
    base.ratio = base.value;
  } finally {
    await stack.close();
  }
}

/** Rows examined per event from one run's statistics; flags a read pattern that looks like a scan. */
function costRun(during: VendorStats, idle: VendorStats, idleSeconds: number, delivered: number): Run {
  const eventTable = during.tables.car_inout ?? 0;
  const viaCursorIndexes =
    (during.indexes['car_inout.idx_in_time'] ?? 0) + (during.indexes['car_inout.idx_out_time'] ?? 0);
  return {
    value: during.userRowsRead / delivered,
    eventsDelivered: delivered,
    userRowsRead: during.userRowsRead,
    eventTableRowsRead: eventTable,
    eventTableRowsPerEvent: eventTable / delivered,
    rowsReadByIndex: during.indexes,
    rowsReadByTable: during.tables,
    statementsDuringRun: during.statements,
    // Every event-table row read through the cursor indexes: anything else would be a scan.
    fullScanSuspected: eventTable > viaCursorIndexes * 1.01 + 100,
    idleStatementsPerSecond: idle.statements / idleSeconds,
    idleRowsReadPerSecond: idle.userRowsRead / idleSeconds,
    idleSeconds,
  };
}

async function explainPlans(stack: Stack): Promise<string> {
  const pool = createVendorPool(
    { ...stack.config.vendor, connectionLimit: 1 },
    { source: stack.config.source.name },
  );
  try {
    const plans = await explainStreams(pool, stack.config);
    return plans
      .filter((p) => p.query === 'poll')
      .map((p) => `${p.stream} ${p.verdict} (${p.plan?.type ?? '?'} on ${p.plan?.key ?? 'no index'})`)
      .join(', ');
  } finally {
    await pool.close();
  }
}
