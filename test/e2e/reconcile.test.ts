/**
 * Reconciliation end to end: a day of five lots and 3,000 events delivered by the worker, with gaps
 * made on purpose (events forgotten by the simulator and the ledger as if never delivered, a row the
 * quarantine holds, a departure ISP refused into the failed set). `reconcile` names exactly the lost
 * events; `--repair` sends exactly those (the simulator receives each once); then the day is
 * complete. Real MariaDB (visit-table schema), Redis, the simulator over HTTP, the CLI as a child.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cursor } from '../../src/config/vendor-rows.js';
import { type EventRecord, naturalKeyOf } from '../../src/pipeline/events/records.js';
import { reconcileDays } from '../../src/pipeline/reconcile/reconcile.js';
import { reconcileDeps } from '../../src/pipeline/reconcile/reconcile-deps.js';
import type { ReconcileReport } from '../../src/pipeline/reconcile/types.js';
import { EVENT_STREAMS, type EventRow, type EventStreamName } from '../../src/pipeline/streams.js';
import { readEventPage } from '../../src/vendor-db/index.js';
import { runCli } from '../helpers/cli.js';
import { insertDayVisits, lotCodesOf } from '../helpers/day-visits.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

const ZONE = 'Asia/Shanghai';
const LOTS = 5;
const VISITS = 300; // per lot: 1,500 entrances and 1,500 departures
const REFUSED_PLATE = '鲁F00077';
const KIND = { entrances: 'entrance', departures: 'departure' } as const;

let h: Harness;
let day: string;
let lots: string[];
/** The events forgotten on purpose, per stream: natural keys. */
const lost: Record<EventStreamName, string[]> = { entrances: [], departures: [] };

async function dayRecords(stream: EventStreamName): Promise<EventRecord[]> {
  const cfg = h.config.streams[stream];
  const start = DateTime.fromISO(day, { zone: ZONE });
  const out: EventRecord[] = [];
  let after: Cursor | null = null;
  for (;;) {
    const page: { rows: unknown[]; last: Cursor | null; full: boolean } = await readEventPage(
      h.rt.vendor,
      stream,
      cfg,
      h.config.vendor,
      after,
      { limit: 1000, from: start.toSeconds(), upTo: start.plus({ days: 1 }).toSeconds() },
    );
    for (const row of page.rows as EventRow[]) {
      const outcome = EVENT_STREAMS[stream].toRecord(row, h.rt.transform);
      if (outcome.ok) out.push(outcome.record);
    }
    if (!page.full || !page.last) return out;
    after = page.last;
  }
}

const missingKeys = (report: ReconcileReport, stream: EventStreamName) =>
  report.rows
    .filter((r) => r.stream === stream)
    .flatMap((r) => r.missing.map((m) => m.key))
    .sort();
const total = (
  report: ReconcileReport,
  field: 'quarantined' | 'failed' | 'recorded',
  stream: EventStreamName,
) => report.rows.filter((r) => r.stream === stream).reduce((n, r) => n + r[field], 0);

beforeAll(async () => {
  h = await startHarness({
    style: 'visit-table',
    seed: { lots: LOTS, visits: 0, photos: false },
    faults: {
      rejectRules: [
        { kind: 'departure', field: 'plate_number', equals: REFUSED_PLATE, message: 'refused on purpose' },
      ],
    },
    config: { streams: { entrances: { photo: null }, departures: { photo: null } } },
  });
  day = DateTime.now().setZone(ZONE).minus({ days: 1 }).toFormat('yyyy-MM-dd');
  lots = await lotCodesOf(h);
  await insertDayVisits(h, day, lots, VISITS, {
    plate: (l, k) => (l === 2 && k === 77 ? REFUSED_PLATE : `鲁${'ABCDE'[l]}${String(k).padStart(5, '0')}`),
    // One departure with a negative fee: quarantined.
    fee: (l, k) => (l === 1 && k === 10 ? -5 : 500),
  });
  await h.start();
  await waitFor(
    'the day delivered (less one quarantined and one refused departure)',
    async () => {
      const s = h.sim.state.stats().received;
      const failed = await h.rt.queues.push.departures.getFailedCount();
      return s.entrance === LOTS * VISITS && s.departure === LOTS * VISITS - 2 && failed === 1;
    },
    90_000,
  );

  // Lost on the way: gone from the simulator's record and from the ledger, as if never delivered.
  for (const stream of ['entrances', 'departures'] as const) {
    const records = await dayRecords(stream);
    const picks = (stream === 'entrances' ? [3, 401, 777, 1102, 1499] : [0, 650, 1333]).map(
      (i) => records[i]!,
    );
    await h.rt.ledgers[stream].forget(picks);
    lost[stream] = picks.map((r) => naturalKeyOf(r.key, r.vendorKey)).sort();
    expect(h.sim.state.store.forget(KIND[stream], lost[stream])).toBe(picks.length);
  }
}, 150_000);

afterAll(async () => {
  await h?.close();
});

describe('reconcile', () => {
  it('reports exactly the lost events, the quarantined row and the refused departure', async () => {
    const report = await reconcileDays(reconcileDeps(h.rt), { from: day, to: day });
    expect(missingKeys(report, 'entrances')).toEqual(lost.entrances);
    expect(missingKeys(report, 'departures')).toEqual(lost.departures);
    expect(total(report, 'recorded', 'entrances')).toBe(LOTS * VISITS);
    expect(total(report, 'recorded', 'departures')).toBe(LOTS * VISITS);
    expect(total(report, 'quarantined', 'departures')).toBe(1);
    expect(total(report, 'failed', 'departures')).toBe(1);
    expect(report.rows.filter((r) => r.recorded > 0)).toHaveLength(LOTS * 2);
    expect(report.rows.every((r) => !r.provisional && r.unread === 0 && r.pending === 0)).toBe(true);

    const cli = await runCli(['reconcile', '--date', day, '--json'], h.childEnv());
    expect(cli.code, cli.stderr).toBe(1);
    const json = JSON.parse(cli.stdout) as ReconcileReport;
    expect(missingKeys(json, 'entrances')).toEqual(lost.entrances);
    expect(missingKeys(json, 'departures')).toEqual(lost.departures);

    const table = await runCli(['reconcile', '--date', day, '--lot', lots[0]!], h.childEnv());
    expect(table.stdout).toMatch(
      new RegExp(`${day}\\s+${lots[0]!.replace(/[/]/g, '\\/')}\\s+entrances\\s+${VISITS}\\s+`),
    );
    expect(table.stdout).toContain('NOT complete');
  }, 60_000);

  it('refuses a day outside the retained window and an unknown lot, saying what it can compare', async () => {
    const old = DateTime.now().setZone(ZONE).minus({ days: 40 }).toFormat('yyyy-MM-dd');
    const tooOld = await runCli(['reconcile', '--date', old], h.childEnv());
    expect(tooOld.code).toBe(2);
    expect(tooOld.stderr).toMatch(
      /outside the retained window: delivery records are kept 35 days .*Days that can still be compared: /,
    );
    const typo = `${lots[3]!}X`;
    const unknown = await runCli(['reconcile', '--date', day, '--lot', typo], h.childEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no lot "${typo}" in the vendor's lot table; did you mean "${lots[3]}"`);
  }, 60_000);

  it('--repair sends exactly the missing events once, and the day reconciles complete', async () => {
    const before = {
      entrance: h.sim.state.store.count('entrance'),
      departure: h.sim.state.store.count('departure'),
    };
    const repaired = await runCli(['reconcile', '--date', day, '--repair', '--wait'], h.childEnv(), 90_000);
    expect(repaired.code, repaired.stderr + repaired.stdout).toBe(0);
    expect(repaired.stdout).toContain(
      `repair: enqueued ${lost.entrances.length} entrances and ${lost.departures.length} departures`,
    );
    for (const stream of ['entrances', 'departures'] as const) {
      const kind = KIND[stream];
      const received = h.sim.state
        .received(kind, before[kind])
        .map((e) => e.key)
        .sort();
      expect(received, stream).toEqual(lost[stream]);
    }
    const stats = h.sim.state.stats();
    expect(stats.duplicates).toEqual({ entrance: 0, departure: 0 });

    const again = await runCli(['reconcile', '--date', day], h.childEnv());
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain(
      'complete: every recorded event is delivered, quarantined, failed or on its way',
    );
    expect(again.stdout).toContain('1 event(s) in the failed set');
    expect(again.stdout).toContain('1 event(s) quarantined');
  }, 120_000);
});
