/**
 * The latency figures, in each event-stream mode (`latency-p50`, `latency-p99`: guarded, the
 * default; `latency-low-*`: both event streams in low-latency mode; `latency-ids-*`: the same on
 * entry and exit tables, whose ids follow their inserts, with `probeIdGaps`): the traffic generator
 * writes entrances and departures at a steady rate into a demo visit table (no photos), 5% of its
 * transactions committing late (held open, rows stamped a second early), while one child worker
 * (product defaults otherwise: polls every 1 s, 5 s commit-lag guard) runs; each event's latency
 * is from its transaction's commit (TrafficEvent.committedAt) to its receipt by the simulator
 * (ReceivedEntry.receivedAt), matched by natural key. Also per mode: events missing, events
 * received twice, and vendor rows examined per event (the worker's read-only user's ROWS_READ in
 * MariaDB's user statistics, all tables, over the traffic and its drain).
 *
 * The reference beside it is measured in the same run: a bare poller that runs the same page query
 * (same commit-lag guard) every 100 ms on its own connection and notes when each row first shows;
 * no pipeline can deliver a row before the guard lets it be read.
 */
import mysql from 'mysql2/promise';
import { type EventStreamName, loadConfig } from '../../src/config/index.js';
import type { Cursor } from '../../src/config/vendor-rows.js';
import { seedDemo, startTraffic, type TrafficEvent } from '../../src/sim/demo-vendor/index.js';
import { eventPageQuery } from '../../src/vendor-db/events.js';
import { zoneOffset } from '../../src/vendor-db/zone.js';
import type { BenchContext } from './lib/context.js';
import { drain, receivedEvents } from './lib/drain.js';
import { makeResult, percentile, type Run } from './lib/report.js';
import { type Stack, startStack, until } from './lib/stack.js';
import { diffStats, enableUserStats, readVendorStats } from './lib/vendor-stats.js';

const FLOOR_POLL_MS = 100;

/** The bare lag-guarded poller: first time each (stream, vendor key) is readable. */
async function startFloorPoller(stack: Stack) {
  const conn = await mysql.createConnection({
    uri: stack.db.url,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const seen = new Map<string, number>();
  const bounds = {
    lagSeconds: stack.config.vendor.commitLagSeconds,
    zoneOffset: zoneOffset(stack.config.vendor.timeZone),
  };
  const cursors: Record<EventStreamName, Cursor | null> = { entrances: null, departures: null };
  const pollOnce = async (record: boolean) => {
    for (const stream of ['entrances', 'departures'] as const) {
      const cfg = stack.config.streams[stream];
      for (;;) {
        const s = eventPageQuery(cfg).statement(cursors[stream], 1000, bounds);
        const [rows] = await conn.execute<mysql.RowDataPacket[]>(s.sql, s.params);
        const now = Date.now();
        for (const row of rows) if (record) seen.set(`${stream}|${row.vendorKey}`, now);
        const last = rows.at(-1);
        if (last) cursors[stream] = { time: last.cursorTime, id: last.vendorKey };
        if (rows.length < 1000) break;
      }
    }
  };
  await pollOnce(false); // what is already there is not part of the measurement
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      await pollOnce(true);
      await new Promise((r) => setTimeout(r, FLOOR_POLL_MS));
    }
  })();
  return {
    seen,
    async stop() {
      stopping = true;
      await loop;
      await conn.end();
    },
  };
}

function receipts(stack: Stack, kind: 'entrance' | 'departure'): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of stack.sim.state.received(kind, 0, Number.POSITIVE_INFINITY)) {
    if (!out.has(entry.key)) out.set(entry.key, entry.receivedAt);
  }
  return out;
}

/** The late-commit traffic: 5% of transactions held open 1.25–2.5 s, their rows stamped 1 s early. */
const LATE_TRAFFIC = { lateRatio: 0.05, lateConcurrency: 32, holdMs: 2_500, backdateMs: 1_000 };

type Mode = 'guarded' | 'low-latency' | 'guarded-entry-exit' | 'low-latency-ids';

/** Each mode's vendor schema and stream settings. */
const MODES: Record<Mode, { style: 'visit-table' | 'entry-exit'; streams: Record<string, unknown> }> = {
  guarded: { style: 'visit-table', streams: { mode: 'guarded' } },
  'low-latency': { style: 'visit-table', streams: { mode: 'low-latency' } },
  // The rows a guarded read of entry and exit tables examines per event (each departure joins its
  // entrance): what the id-gap mode's rows examined are compared with.
  'guarded-entry-exit': { style: 'entry-exit', streams: { mode: 'guarded' } },
  'low-latency-ids': { style: 'entry-exit', streams: { mode: 'low-latency', probeIdGaps: true } },
};

interface ModeRun {
  latencies: number[];
  lateLatencies: number[];
  floorLatencies: number[];
  detail: ModeDetail;
}

type ModeDetail = Record<
  | 'events'
  | 'lateEvents'
  | 'missing'
  | 'duplicates'
  | 'achievedRate'
  | 'trafficErrors'
  | 'rowsExaminedPerEvent'
  | 'eventRowsPerEvent'
  | 'statementsPerSecond'
  | 'p50Ms'
  | 'p95Ms'
  | 'p99Ms'
  | 'lateP50Ms'
  | 'lateP99Ms'
  | 'entranceP99Ms'
  | 'departureP99Ms'
  | 'onTimeP99Ms'
  | 'maxMs',
  number
>;

async function runMode(ctx: BenchContext, mode: Mode, run: number): Promise<ModeRun> {
  const { rate, seconds, history: visits, idleSeconds } = ctx.sizes.latency;
  const { style, streams } = MODES[mode];
  const stack = await startStack({
    style,
    photos: false,
    readOnlyUser: true,
    config: { streams: { entrances: streams, departures: streams } },
  });
  const restore = await enableUserStats(stack.db.admin);
  try {
    const seed = await seedDemo(stack.db.url, style, {
      visits,
      photos: false,
      lots: 20,
      days: 1,
    });
    const history = seed.entrances + seed.departures;
    const worker = stack.startWorker({ label: `latency ${mode}` });
    // Steady state first: the history delivered, the worker polling an up-to-date table.
    await drain(stack, history, { startedWorkers: [worker], deadlineMs: 60_000 });
    const floor = mode === 'guarded' ? await startFloorPoller(stack) : undefined;
    ctx.log(`latency ${mode} run ${run + 1}: traffic at ${rate} events/s for ${seconds} s, 5% late commits`);
    // What the worker reads with no event coming (lot and count polls, empty event reads), per
    // second: taken off the traffic window's reads to leave the event reads alone.
    const idleFrom = await readVendorStats(stack.db.admin, stack.user!, stack.db.name);
    const idleStarted = Date.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const before = await readVendorStats(stack.db.admin, stack.user!, stack.db.name);
    const idlePerMs = (before.userRowsRead - idleFrom.userRowsRead) / (Date.now() - idleStarted);
    const windowStarted = Date.now();
    const traffic = await startTraffic(stack.db.url, style, {
      ratePerSecond: rate,
      durationMs: seconds * 1000,
      photos: false,
      seed: 11 + run,
      ...LATE_TRAFFIC,
    });
    const report = await traffic.done;
    const events: TrafficEvent[] = [...report.entrances, ...report.departures];
    const target = history + events.length;
    await until(() => receivedEvents(stack) >= target, Date.now() + 60_000, 100);
    // A moment more: anything sent twice shows now.
    await new Promise((r) => setTimeout(r, 1_500));
    const during = diffStats(await readVendorStats(stack.db.admin, stack.user!, stack.db.name), before);
    const eventRowsRead = during.userRowsRead - idlePerMs * (Date.now() - windowStarted);
    await floor?.stop();

    const byKind = { entrance: receipts(stack, 'entrance'), departure: receipts(stack, 'departure') };
    const latencies: number[] = [];
    const lateLatencies: number[] = [];
    const floorLatencies: number[] = [];
    const byStream: Record<'entrances' | 'departures', number[]> = { entrances: [], departures: [] };
    const onTime: number[] = [];
    let missing = 0;
    for (const e of events) {
      const kind = e.stream === 'entrances' ? 'entrance' : 'departure';
      const at = byKind[kind].get(`${e.parkCode}|${e.plateNumber}|${e.epoch}`);
      if (at === undefined) missing++;
      else {
        latencies.push(at - e.committedAt);
        byStream[e.stream].push(at - e.committedAt);
        (e.late ? lateLatencies : onTime).push(at - e.committedAt);
      }
      const seenAt = floor?.seen.get(`${e.stream}|${e.vendorKey}`);
      if (seenAt !== undefined) floorLatencies.push(seenAt - e.committedAt);
    }
    const detail: ModeDetail = {
      events: events.length,
      lateEvents: events.filter((e) => e.late).length,
      missing,
      duplicates: Math.max(0, receivedEvents(stack) - target),
      achievedRate: report.achievedRate,
      trafficErrors: report.counts.errors,
      rowsExaminedPerEvent: during.userRowsRead / Math.max(1, events.length),
      eventRowsPerEvent: eventRowsRead / Math.max(1, events.length),
      statementsPerSecond: during.statements / seconds,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      p99Ms: percentile(latencies, 99),
      lateP50Ms: percentile(lateLatencies, 50),
      lateP99Ms: percentile(lateLatencies, 99),
      entranceP99Ms: percentile(byStream.entrances, 99),
      departureP99Ms: percentile(byStream.departures, 99),
      onTimeP99Ms: percentile(onTime, 99),
      maxMs: Math.max(...latencies),
    };
    ctx.log(
      `  ${mode}: ${latencies.length}/${events.length} delivered (${detail.lateEvents} late), ${detail.duplicates} twice, ` +
        `p50 ${detail.p50Ms} ms, p95 ${detail.p95Ms} ms, p99 ${detail.p99Ms} ms; late commits p50 ${detail.lateP50Ms} ms, ` +
        `p99 ${detail.lateP99Ms} ms; p99 of entrances ${detail.entranceP99Ms} ms, of departures ${detail.departureP99Ms} ms, ` +
        `of rows committed in time ${detail.onTimeP99Ms} ms; ${detail.rowsExaminedPerEvent.toFixed(2)} vendor rows examined/event ` +
        `(${detail.eventRowsPerEvent.toFixed(2)} without the idle reads of lots and counts)`,
    );
    return { latencies, lateLatencies, floorLatencies, detail };
  } finally {
    await restore();
    await stack.close();
  }
}

export async function runLatencyGroup(ctx: BenchContext): Promise<void> {
  const group = 'latency';
  const { rate, seconds, runs: runCount, idleSeconds } = ctx.sizes.latency;
  const family = () => ({
    p50: [] as Run[],
    p99: [] as Run[],
    rows: [] as Run[],
    missing: [] as Run[],
    twice: [] as Run[],
  });
  const runs: Record<Mode, ReturnType<typeof family>> = {
    guarded: family(),
    'low-latency': family(),
    'guarded-entry-exit': family(),
    'low-latency-ids': family(),
  };
  const floors: { p50: number[]; p99: number[] } = { p50: [], p99: [] };
  const defaults = loadConfig({ env: {} });
  const bound = defaults.streams.entrances.pollEveryMs + defaults.vendor.commitLagSeconds * 1000 + 500;
  for (let run = 0; run < runCount; run++) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const { latencies, floorLatencies, detail } = await runMode(ctx, mode, run);
      const into = runs[mode];
      into.p50.push({ value: percentile(latencies, 50), ...detail });
      into.p99.push({ value: percentile(latencies, 99), ...detail });
      into.rows.push({ value: detail.eventRowsPerEvent, ...detail });
      into.missing.push({ value: detail.missing, ...detail });
      into.twice.push({ value: detail.duplicates, ...detail });
      if (mode === 'guarded') {
        floors.p50.push(percentile(floorLatencies, 50));
        floors.p99.push(percentile(floorLatencies, 99));
      }
    }
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const guardedP99 = mid(runs.guarded.p99.map((r) => r.value));
  const late =
    `at ${rate} events/s for ${seconds} s, ` +
    '5% of transactions committing late (held open 1.25–2.5 s, rows stamped 1 s early: up to 4.5 s after their stamp), ' +
    'one child worker with product defaults (poll every 1 s, commit-lag guard 5 s), no photos; latency = simulator receipt − vendor commit, per event. ' +
    "p95, the late commits' own p50/p99, p99 per stream and of the rows committed in time, missing and duplicate events, rows examined per event are in the runs.";
  const traffic = `Traffic generator (src/sim/demo-vendor/traffic.ts) into a visit table ${late}`;
  const command = ctx.command(group);
  ctx.add(
    makeResult({
      id: 'latency-p50',
      unit: 'ms',
      runs: runs.guarded.p50,
      ceiling: { id: 'bare lag-guarded poll p50', value: mid(floors.p50), unit: 'ms' },
      note: `Guarded mode. ${traffic} Ceiling: a bare poller running the same lag-guarded query every ${FLOOR_POLL_MS} ms.`,
      command,
    }),
  );
  ctx.add(
    makeResult({
      id: 'latency-p99',
      unit: 'ms',
      runs: runs.guarded.p99,
      ceiling: { id: 'bare lag-guarded poll p99', value: mid(floors.p99), unit: 'ms' },
      target: { on: 'value', op: '<', bound, text: `< poll interval + lag guard + 500 ms = ${bound} ms` },
      note: `Guarded mode. ${traffic}`,
      command,
    }),
  );
  ctx.add(
    makeResult({
      id: 'latency-guarded-rows-examined',
      unit: 'rows examined / event',
      runs: runs.guarded.rows,
      note: `Guarded mode: the worker user's ROWS_READ over the traffic and its drain, less its idle rate (lot and count polls) measured for ${idleSeconds} s before, ÷ events; with the idle reads: rowsExaminedPerEvent in the runs. ${traffic}`,
      command,
    }),
  );
  const guardedJoinRows = mid(runs['guarded-entry-exit'].rows.map((r) => r.value));
  const lowFamilies = [
    {
      prefix: 'latency-low',
      mode: 'low-latency',
      what: `Both event streams in low-latency mode. ${traffic}`,
      reads: 'live read, the sweep’s keys, late rows fetched',
      rowsCeiling: undefined,
    },
    {
      prefix: 'latency-ids',
      mode: 'low-latency-ids',
      what:
        'Both event streams in low-latency mode with probeIdGaps, on entry and exit tables (rows inserted with their AUTO_INCREMENT id and time; a departure row joins its entrance and both their car types). ' +
        `Traffic generator (src/sim/demo-vendor/traffic.ts) into entry and exit tables ${late}`,
      reads: 'live read, the sweep’s keys, rows found at id gaps and late rows fetched, joined rows included',
      rowsCeiling: {
        id: 'guarded read of the same entry and exit tables, same traffic (rows examined / event)',
        value: guardedJoinRows,
        unit: 'rows examined / event',
      },
    },
  ] as const;
  for (const { prefix, mode, what, reads, rowsCeiling } of lowFamilies) {
    const r = runs[mode];
    ctx.add(makeResult({ id: `${prefix}-p50`, unit: 'ms', runs: r.p50, note: what, command }));
    ctx.add(
      makeResult({
        id: `${prefix}-p99`,
        unit: 'ms',
        runs: r.p99,
        ceiling: { id: 'latency-p99 (guarded, visit table, same traffic)', value: guardedP99, unit: 'ms' },
        target: { on: 'value', op: '<', bound: 1_500, text: '< 1,500 ms' },
        note: what,
        command,
      }),
    );
    ctx.add(
      makeResult({
        id: `${prefix}-rows-examined`,
        unit: 'rows examined / event',
        runs: r.rows,
        ...(rowsCeiling
          ? {
              ceiling: rowsCeiling,
              target: { on: 'ratio' as const, op: '<=' as const, bound: 2, text: '≤ 2 × the guarded read’s' },
            }
          : { target: { on: 'value' as const, op: '<=' as const, bound: 2, text: '≤ 2' } }),
        note: `The worker user's ROWS_READ (${reads}) less its idle rate measured for ${idleSeconds} s before, ÷ events; with the idle reads: rowsExaminedPerEvent in the runs. ${what}`,
        command,
      }),
    );
    const none = [
      { id: `${prefix}-missing`, runs: r.missing, note: 'Traffic events the simulator never received.' },
      {
        id: `${prefix}-duplicates`,
        runs: r.twice,
        note: 'Records received beyond the history and the traffic.',
      },
    ];
    for (const { id, runs: counted, note } of none) {
      ctx.add(
        makeResult({
          id,
          unit: 'events',
          runs: counted,
          target: { on: 'value', op: '<=', bound: 0, text: '0' },
          note: `${note} ${what}`,
          command,
        }),
      );
    }
  }
}
