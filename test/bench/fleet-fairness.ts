/**
 * `fleet-fairness-p99`: does one source's backlog hold up another source in the same process?
 * One child worker runs a fleet (sources folder) on one visit-table database with live traffic:
 * the traffic generator writes entrances and departures at a steady rate (no late commits, no
 * photos; the worker on product defaults: guarded mode, polls every 1 s, 5 s commit-lag guard).
 * Commit → simulator receipt per event, matched by natural key, as latency.ts measures it:
 *
 * (a) the live source alone in the worker: the ceiling beside the figure;
 * (b) the same worker, the same traffic again, while a second source with a preloaded backlog is
 *     added to the sources folder at the traffic's start (the fleet starts it without a restart)
 *     and drains into the same simulator.
 *
 * Also the backlog's drain rate meanwhile, and the live p99 of the events committed while the
 * backlog was draining (the window the competition is in; in the runs).
 */
import { startTraffic, type TrafficEvent } from '../../src/sim/demo-vendor/index.js';
import type { BenchContext } from './lib/context.js';
import {
  type FleetStack,
  receipts,
  receiptTimes,
  receivedEvents,
  startFleetStack,
} from './lib/fleet-stack.js';
import { makeResult, percentile, type Run } from './lib/report.js';
import { until } from './lib/stack.js';
import type { WorkerProcess } from './lib/worker-process.js';

const LIVE = { name: 'live', codePrefix: 'L' };
const BACKLOG = { name: 'backlog', codePrefix: 'B' };
/** Visit-table history over 7 days: ~1.98 events a visit (a few cars still inside). */
const EVENTS_PER_VISIT = 1.98;
const MARGIN_MS = 1_000;

interface Window {
  latencies: number[];
  events: TrafficEvent[];
  missing: number;
  achievedRate: number;
  startedAt: number;
  stoppedAt: number;
}

/** Traffic on the live source for `seconds`, then waits for every event at the simulator. */
async function liveWindow(
  ctx: BenchContext,
  stack: FleetStack,
  worker: WorkerProcess,
  seed: number,
  onStart: () => void = () => undefined,
): Promise<Window> {
  const { rate, seconds } = ctx.sizes.fleet;
  let exited = false;
  void worker.exited.then(() => {
    exited = true;
  });
  const live = stack.sources.get(LIVE.name)!;
  const traffic = await startTraffic(live.db.url, 'visit-table', {
    ratePerSecond: rate,
    durationMs: seconds * 1000,
    photos: false,
    seed,
    lateRatio: 0,
  });
  onStart();
  const report = await traffic.done;
  const events = [...report.entrances, ...report.departures];
  const keys = events.map((e) => ({ e, key: `${e.parkCode}|${e.plateNumber}|${e.epoch}` }));
  let got: { entrance: Map<string, number>; departure: Map<string, number> } | undefined;
  const all = async () => {
    if (exited) throw new Error(`the worker exited: ${worker.output().slice(-1500)}`);
    got = {
      entrance: receipts(stack.sim, LIVE.codePrefix, 'entrance'),
      departure: receipts(stack.sim, LIVE.codePrefix, 'departure'),
    };
    return keys.every(({ e, key }) => got![e.stream === 'entrances' ? 'entrance' : 'departure'].has(key));
  };
  await until(all, Date.now() + 60_000, 500);
  const latencies: number[] = [];
  let missing = 0;
  for (const { e, key } of keys) {
    const at = got![e.stream === 'entrances' ? 'entrance' : 'departure'].get(key);
    if (at === undefined) missing++;
    else latencies.push(at - e.committedAt);
  }
  return {
    latencies,
    events,
    missing,
    achievedRate: report.achievedRate,
    startedAt: report.startedAt,
    stoppedAt: report.stoppedAt,
  };
}

function summary(w: Window): Record<string, number> {
  return {
    events: w.events.length,
    missing: w.missing,
    achievedRate: w.achievedRate,
    p50Ms: percentile(w.latencies, 50),
    p95Ms: percentile(w.latencies, 95),
    p99Ms: percentile(w.latencies, 99),
    maxMs: Math.max(...w.latencies),
  };
}

export async function runFleetFairness(ctx: BenchContext, group: string): Promise<void> {
  const { rate, seconds, backlogEvents, runs: runCount } = ctx.sizes.fleet;
  const alone: Run[] = [];
  const shared: Run[] = [];
  const drain: Run[] = [];
  for (let run = 0; run < runCount; run++) {
    const stack = await startFleetStack();
    try {
      await stack.addDatabase(LIVE.name, LIVE.codePrefix, { visits: 3000, lots: 20, days: 1 });
      const backlog = await stack.addDatabase(BACKLOG.name, BACKLOG.codePrefix, {
        visits: Math.round(backlogEvents / EVENTS_PER_VISIT),
        lots: 20,
        days: 7,
      });
      const backlogTotal = backlog.seed.entrances + backlog.seed.departures;
      const live = stack.sources.get(LIVE.name)!;
      const history = live.seed.entrances + live.seed.departures;
      stack.enable(LIVE.name);
      const worker = stack.startWorker({ label: 'fleet fairness' });
      // Steady state first: the live history delivered, the worker polling an up-to-date table.
      const settled = await until(() => receivedEvents(stack.sim) >= history, Date.now() + 60_000, 100);
      if (!settled) throw new Error(`live history not delivered in 60 s: ${worker.output().slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 2_000));

      ctx.log(`fleet fairness run ${run + 1}: (a) live source alone, ${rate} events/s for ${seconds} s`);
      const a = await liveWindow(ctx, stack, worker, 21 + run);
      ctx.log(
        `  alone: ${a.latencies.length}/${a.events.length} delivered, p50 ${percentile(a.latencies, 50)} ms, p99 ${percentile(a.latencies, 99)} ms`,
      );

      ctx.log(
        `fleet fairness run ${run + 1}: (b) the same traffic while a ${backlogTotal.toLocaleString('en')}-event backlog source is added`,
      );
      let addedAt = 0;
      const b = await liveWindow(ctx, stack, worker, 31 + run, () => {
        addedAt = Date.now();
        stack.enable(BACKLOG.name);
      });
      // The backlog's receipts: its drain rate over the traffic window (or until it finished).
      const times = receiptTimes(stack.sim, BACKLOG.codePrefix);
      const backlogDone = times.length >= backlogTotal;
      const lastBacklog = times.at(-1) ?? addedAt;
      const drainEnd = backlogDone ? lastBacklog : b.stoppedAt;
      const drainedInWindow = times.filter((t) => t <= drainEnd).length;
      const drainRate = drainedInWindow / Math.max(0.001, (drainEnd - addedAt) / 1000);
      // The live events committed while the backlog was draining.
      const during = b.events.filter((e) => e.committedAt >= addedAt && e.committedAt <= drainEnd);
      const duringLatencies: number[] = [];
      const bEntr = receipts(stack.sim, LIVE.codePrefix, 'entrance');
      const bDep = receipts(stack.sim, LIVE.codePrefix, 'departure');
      for (const e of during) {
        const at = (e.stream === 'entrances' ? bEntr : bDep).get(`${e.parkCode}|${e.plateNumber}|${e.epoch}`);
        if (at !== undefined) duringLatencies.push(at - e.committedAt);
      }
      const aP99 = percentile(a.latencies, 99);
      const bP99 = percentile(b.latencies, 99);
      const detail = {
        aloneP99Ms: aP99,
        alone: summary(a),
        withBacklog: summary(b),
        backlogEvents: backlogTotal,
        backlogDelivered: times.length,
        backlogComplete: backlogDone,
        backlogFirstReceiptSeconds: times.length ? (times[0]! - addedAt) / 1000 : null,
        backlogDrainSeconds: (drainEnd - addedAt) / 1000,
        liveEventsWhileDraining: during.length,
        liveP99WhileDrainingMs: percentile(duringLatencies, 99),
        liveMaxWhileDrainingMs: duringLatencies.length ? Math.max(...duringLatencies) : null,
        workerPeakRssMb: worker.peakRssMb(),
      };
      ctx.log(
        `  with backlog: ${b.latencies.length}/${b.events.length} delivered, p50 ${percentile(b.latencies, 50)} ms, ` +
          `p99 ${bP99} ms (alone ${aP99} ms); while the backlog drained (${detail.backlogDrainSeconds.toFixed(1)} s, ` +
          `${Math.round(drainRate)} events/s${backlogDone ? '' : ', not finished in the window'}): ` +
          `${during.length} live events, p99 ${detail.liveP99WhileDrainingMs} ms`,
      );
      alone.push({ value: aP99, ...summary(a) });
      shared.push({ value: bP99, ...detail });
      drain.push({ value: drainRate, ...detail });
    } finally {
      await stack.close();
    }
  }
  const aloneP99 = percentile(
    alone.map((r) => r.value),
    50,
  );
  const bound = aloneP99 + MARGIN_MS;
  const setup =
    `One child worker (\`start\`, a sources folder, product defaults: guarded mode, poll every 1 s, commit-lag guard 5 s), ` +
    `traffic generator at ${rate} events/s for ${seconds} s into the live source's visit table (no late commits, no photos); ` +
    'latency = simulator receipt − vendor commit, per event. (a) the live source alone; (b) the same worker and traffic again while a ' +
    `second source with a ${backlogEvents.toLocaleString('en')}-event backlog (visit table, 7 days, no photos) is written into the ` +
    'sources folder at the start of the traffic: the fleet adds it without a restart and it drains meanwhile.';
  const command = ctx.command(group);
  ctx.add(
    makeResult({
      id: 'fleet-fairness-p99',
      unit: 'ms',
      runs: shared,
      ceiling: { id: 'live source alone in the worker, p99 (a)', value: aloneP99, unit: 'ms' },
      target: {
        on: 'value',
        op: '<=',
        bound,
        text: `≤ alone + 1,000 ms = ${Math.round(bound).toLocaleString('en')} ms`,
      },
      note: `${setup} Value: the live source's p99 in (b). The p99 of the live events committed while the backlog drained, the backlog's own figures and (a) in full are in the runs.`,
      command,
    }),
  );
  ctx.add(
    makeResult({
      id: 'fleet-fairness-backlog-rate',
      unit: 'events/s',
      runs: drain,
      note:
        `${setup} The backlog source's events received per second, from its addition to its last receipt ` +
        '(or to the end of the traffic, when it had not finished). No ceiling: a drain beside live traffic, for the record.',
      command,
    }),
  );
}
