/**
 * The latency figures (`latency-p50`, `latency-p99`, p95 in the runs): the traffic generator writes
 * entrances and departures at a steady rate into a demo visit table (no photos) while one child
 * worker (product defaults: polls every 1 s, 5 s commit-lag guard) runs; each event's latency is
 * from its transaction's commit (TrafficEvent.committedAt) to its receipt by the simulator
 * (ReceivedEntry.receivedAt), matched by natural key.
 *
 * The reference beside it is measured in the same run: a bare poller that runs the same page query
 * (same commit-lag guard) every 100 ms on its own connection and notes when each row first shows;
 * no pipeline can deliver a row before the guard lets it be read.
 */
import mysql from 'mysql2/promise';
import type { EventStreamName } from '../../src/config/index.js';
import type { Cursor } from '../../src/config/vendor-rows.js';
import { seedDemo, startTraffic, type TrafficEvent } from '../../src/sim/demo-vendor/index.js';
import { eventPageQuery } from '../../src/vendor-db/events.js';
import { zoneOffset } from '../../src/vendor-db/zone.js';
import type { BenchContext } from './lib/context.js';
import { drain, receivedEvents } from './lib/drain.js';
import { makeResult, percentile, type Run } from './lib/report.js';
import { type Stack, startStack, until } from './lib/stack.js';

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

export async function runLatencyGroup(ctx: BenchContext): Promise<void> {
  const group = 'latency';
  const { rate, seconds, runs: runCount } = ctx.sizes.latency;
  const runs: { p50: Run[]; p95: Run[]; p99: Run[] } = { p50: [], p95: [], p99: [] };
  const floors: { p50: number[]; p99: number[] } = { p50: [], p99: [] };
  let bound = 0;
  for (let run = 0; run < runCount; run++) {
    const stack = await startStack({ style: 'visit-table', photos: false });
    try {
      const cfg = stack.config;
      bound = cfg.streams.entrances.pollEveryMs + cfg.vendor.commitLagSeconds * 1000 + 500;
      const seed = await seedDemo(stack.db.url, 'visit-table', {
        visits: 3000,
        photos: false,
        lots: 20,
        days: 1,
      });
      const history = seed.entrances + seed.departures;
      const worker = stack.startWorker({ label: 'latency' });
      // Steady state first: the history delivered, the worker polling an up-to-date table.
      await drain(stack, history, { startedWorkers: [worker], deadlineMs: 60_000 });
      const floor = await startFloorPoller(stack);
      ctx.log(`latency run ${run + 1}/${runCount}: traffic at ${rate} events/s for ${seconds} s`);
      const traffic = await startTraffic(stack.db.url, 'visit-table', {
        ratePerSecond: rate,
        durationMs: seconds * 1000,
        photos: false,
        seed: 11 + run,
      });
      const report = await traffic.done;
      const events: TrafficEvent[] = [...report.entrances, ...report.departures];
      const target = history + events.length;
      await until(() => receivedEvents(stack) >= target, Date.now() + 60_000, 100);
      await new Promise((r) => setTimeout(r, 1_000));
      await floor.stop();

      const byKind = { entrance: receipts(stack, 'entrance'), departure: receipts(stack, 'departure') };
      const latencies: number[] = [];
      const floorLatencies: number[] = [];
      let unmatched = 0;
      for (const e of events) {
        const kind = e.stream === 'entrances' ? 'entrance' : 'departure';
        const at = byKind[kind].get(`${e.parkCode}|${e.plateNumber}|${e.epoch}`);
        if (at === undefined) unmatched++;
        else latencies.push(at - e.committedAt);
        const seenAt = floor.seen.get(`${e.stream}|${e.vendorKey}`);
        if (seenAt !== undefined) floorLatencies.push(seenAt - e.committedAt);
      }
      const detail = {
        events: events.length,
        matched: latencies.length,
        unmatched,
        achievedRate: report.achievedRate,
        lateTransactions: report.counts.lateTransactions,
        trafficErrors: report.counts.errors,
        floorP50Ms: percentile(floorLatencies, 50),
        floorP99Ms: percentile(floorLatencies, 99),
        maxMs: Math.max(...latencies),
      };
      runs.p50.push({ value: percentile(latencies, 50), ...detail });
      runs.p95.push({ value: percentile(latencies, 95), ...detail });
      runs.p99.push({ value: percentile(latencies, 99), ...detail });
      floors.p50.push(detail.floorP50Ms);
      floors.p99.push(detail.floorP99Ms);
      ctx.log(
        `  ${latencies.length}/${events.length} matched at ${report.achievedRate} events/s: ` +
          `p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms ` +
          `(bare lag-guarded poll: p50 ${detail.floorP50Ms} ms, p99 ${detail.floorP99Ms} ms)`,
      );
    } finally {
      await stack.close();
    }
  }
  const floorP50 = floors.p50.sort((a, b) => a - b)[Math.floor(floors.p50.length / 2)]!;
  const floorP99 = floors.p99.sort((a, b) => a - b)[Math.floor(floors.p99.length / 2)]!;
  const note =
    `Traffic generator (src/sim/demo-vendor/traffic.ts) at ${rate} events/s for ${seconds} s into a visit table ` +
    '(5% of transactions held open up to 3 s, committing late), one child worker with product defaults ' +
    '(poll every 1 s, commit-lag guard 5 s), no photos; latency = simulator receipt − vendor commit, per event. ' +
    `p95 and the worst case are in the runs. Ceiling column: the same percentile for a bare poller running the same lag-guarded query every ${FLOOR_POLL_MS} ms (a floor no pipeline can beat).`;
  ctx.add(
    makeResult({
      id: 'latency-p50',
      unit: 'ms',
      runs: runs.p50,
      ceiling: { id: 'bare lag-guarded poll p50', value: floorP50, unit: 'ms' },
      note,
      command: ctx.command(group),
    }),
  );
  ctx.add(
    makeResult({
      id: 'latency-p99',
      unit: 'ms',
      runs: runs.p99,
      ceiling: { id: 'bare lag-guarded poll p99', value: floorP99, unit: 'ms' },
      target: {
        on: 'value',
        op: '<',
        bound,
        text: `< poll interval + lag guard + 500 ms = ${bound} ms`,
      },
      note: `${note} p95 per run: ${runs.p95.map((r) => Math.round(r.value)).join(', ')} ms.`,
      command: ctx.command(group),
    }),
  );
}
