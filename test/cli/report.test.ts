/**
 * `report` after the whole pipeline delivered a day and a half of visits through the simulator
 * (real MariaDB, Redis, BullMQ and HTTP): per lot and day the counts match a GROUP BY on the
 * vendor's own table, run here; the latency percentiles match those of the simulator's receipt
 * times; a photo made unreadable shows as missing (a row without any photo does not); a record
 * ISP refused, then replayed, shows as replayed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import type { DailyReport } from '../../src/pipeline/report/daily-report.js';
import { ARTIFACTS } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

const ZONE = 'Asia/Shanghai';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Row = Record<string, unknown>;

/** Nearest rank on sorted samples. */
function exactPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

describe('report', () => {
  it('matches the vendor table per lot and day, with latency, photos missing and replayed', async () => {
    harness = await startHarness({ seed: { lots: 5, visits: 400, photoRows: 60, days: 1.5 } });
    const h = harness;
    const db = h.db.admin;

    // A photo the row references, made unreadable; and a row whose photo is simply absent.
    const [[spoiled]] = (await db.query(
      'SELECT id, park_no, DATE_FORMAT(in_time, "%Y-%m-%d") AS day FROM car_inout WHERE LENGTH(in_pic) > 0 ORDER BY id DESC LIMIT 1',
    )) as unknown as [Row[]];
    await db.query("UPDATE car_inout SET in_pic = 'not a jpeg' WHERE id = ?", [spoiled!.id]);
    await db.query(
      "UPDATE car_inout SET in_pic = '' WHERE id = (SELECT id FROM (SELECT MAX(id) - 1 AS id FROM car_inout) t)",
    );

    // An entrance ISP refuses (a plate seen once): parked in the failed set, then replayed.
    const [[victim]] = (await db.query(
      `SELECT in_plate AS plate, park_no, DATE_FORMAT(in_time, "%Y-%m-%d") AS day FROM car_inout
       WHERE in_plate IS NOT NULL AND id <> ? GROUP BY in_plate, park_no, in_time HAVING COUNT(*) = 1
       AND (SELECT COUNT(*) FROM car_inout c2 WHERE c2.in_plate = car_inout.in_plate) = 1 LIMIT 1`,
      [spoiled!.id],
    )) as unknown as [Row[]];
    h.sim.patchFaults({
      rejectRules: [
        { kind: 'entrance', field: 'plate_number', equals: String(victim!.plate), message: 'unknown plate' },
      ],
    });

    // The vendor's own counts, per lot and day (the day of the wall-clock time the row holds).
    const [entrances] = (await db.query(
      `SELECT DATE_FORMAT(in_time, "%Y-%m-%d") AS day, park_no, COUNT(*) AS n FROM car_inout
       GROUP BY day, park_no`,
    )) as unknown as [Row[]];
    const [departures] = (await db.query(
      `SELECT DATE_FORMAT(out_time, "%Y-%m-%d") AS day, park_no, COUNT(*) AS n FROM car_inout
       WHERE out_time IS NOT NULL GROUP BY day, park_no`,
    )) as unknown as [Row[]];
    const [lotRows] = (await db.query('SELECT park_no, park_name FROM parkinfo')) as unknown as [Row[]];
    const totalOf = (rows: Row[]) => rows.reduce((n, r) => n + Number(r.n), 0);
    const expected = new Map<string, { entrances: number; departures: number }>();
    const cell = (day: unknown, lot: unknown) => {
      const id = `${day}|${lot}`;
      if (!expected.has(id)) expected.set(id, { entrances: 0, departures: 0 });
      return expected.get(id)!;
    };
    for (const r of entrances) cell(r.day, r.park_no).entrances = Number(r.n);
    for (const r of departures) cell(r.day, r.park_no).departures = Number(r.n);
    const days = [...new Set([...expected.keys()].map((k) => k.split('|')[0]!))].sort();
    expect(days.length).toBeGreaterThanOrEqual(2);

    await h.start();
    const queue = h.rt.queues.push.entrances;
    await waitFor(
      'everything but the refused entrance delivered, the refused one in the failed set',
      async () =>
        (await queue.getFailedCount()) === 1 &&
        h.sim.state.store.count('entrance') === totalOf(entrances) - 1,
      90_000,
    );
    h.sim.patchFaults({ rejectRules: [] });
    const env = h.childEnv();
    const report = async (...args: string[]): Promise<DailyReport> => {
      const run = await runCli(['report', ...args, '--format', 'json'], env);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as DailyReport;
    };

    // Before the replay the refused entrance is failed, and the lot's later departures wait
    // behind it (pending): its day is short, nothing is missing.
    const [parked] = (await report('--date', String(victim!.day), '--lot', String(victim!.park_no))).rows;
    expect(parked).toMatchObject({ failed: 1, missing: 0, replayed: 0 });
    expect(parked!.delivered + parked!.pending! + parked!.failed!).toBe(
      parked!.entrances + parked!.departures,
    );
    expect(parked!.completeness).toBeLessThan(100);
    const replay = await runCli(['replay', '--stream', 'entrances', '--yes', '--wait'], env);
    expect(replay.code, replay.stderr + replay.stdout).toBe(0);
    await waitFor(
      'every entrance and departure at ISP',
      () =>
        h.sim.state.store.count('entrance') === totalOf(entrances) &&
        h.sim.state.store.count('departure') === totalOf(departures),
      90_000,
    );

    const all = await report('--date', days[0]!, '--to', days.at(-1)!);
    expect(all.zone).toBe(ZONE);
    expect(all.reconciled).toBe(true);
    // A lot without a row on a day (the seed's last day may have just begun in the vendor's zone)
    // is listed with nothing to deliver; every other lot and day is the vendor's.
    const idOf = (r: { day: string; parkCode: string }) => `${r.day}|${r.parkCode}`;
    for (const r of all.rows.filter((r) => !expected.has(idOf(r))))
      expect(r, idOf(r)).toMatchObject({ entrances: 0, departures: 0, delivered: 0, missing: 0 });
    const got = new Map(all.rows.filter((r) => expected.has(idOf(r))).map((r) => [idOf(r), r]));
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, want] of expected) {
      const row = got.get(id)!;
      expect({ entrances: row.entrances, departures: row.departures }, id).toEqual(want);
      expect(row.delivered, id).toBe(want.entrances + want.departures);
      expect(
        {
          missing: row.missing,
          quarantined: row.quarantined,
          failed: row.failed,
          completeness: row.completeness,
        },
        id,
      ).toEqual({
        missing: 0,
        quarantined: 0,
        failed: 0,
        completeness: 100,
      });
      expect(row.lotName, id).toBe(String(lotRows.find((l) => l.park_no === row.parkCode)?.park_name ?? ''));
    }

    // Photos missing: only the spoiled one; replayed: only the refused one.
    for (const row of all.rows) {
      const spoiledHere = row.day === spoiled!.day && row.parkCode === spoiled!.park_no;
      expect(row.photosMissing, `${row.day} ${row.parkCode} photos missing`).toBe(spoiledHere ? 1 : 0);
      const victimHere = row.day === victim!.day && row.parkCode === victim!.park_no;
      expect(row.replayed, `${row.day} ${row.parkCode} replayed`).toBe(victimHere ? 1 : 0);
    }
    expect(all.total.photosMissing).toBe(1);
    expect(all.total.replayed).toBe(1);
    expect(all.total.completeness).toBe(100);

    // Latency: the same percentiles as the simulator's receipt times minus the event times,
    // within half a bucket (9%) and a second (the worker's clock reads acceptance a moment later).
    const latencies = new Map<string, number[]>();
    for (const [kind, field] of [
      ['entrance', 'enter_time'],
      ['departure', 'depart_time'],
    ] as const) {
      for (const e of h.sim.state.received(kind, 0, 1e7)) {
        const r = e.record as Row;
        const time = Number(r[field]);
        const id = `${DateTime.fromSeconds(time, { zone: ZONE }).toFormat('yyyy-MM-dd')}|${r.park_code}`;
        latencies.set(id, [...(latencies.get(id) ?? []), e.receivedAt / 1000 - time]);
      }
    }
    for (const row of got.values()) {
      const samples = latencies.get(`${row.day}|${row.parkCode}`)!;
      for (const [p, derived] of [
        [0.5, row.latencyP50],
        [0.99, row.latencyP99],
      ] as const) {
        const exact = exactPercentile(samples, p);
        expect(derived, `${row.day} ${row.parkCode} p${p * 100}`).not.toBeNull();
        expect(
          Math.abs(derived! - exact),
          `${row.day} ${row.parkCode} p${p * 100}: ${derived} vs ${exact}`,
        ).toBeLessThanOrEqual(exact * 0.1 + 1);
      }
      expect(row.latencyP50!).toBeLessThanOrEqual(row.latencyP99!);
    }

    // The whole range as an operator reads it (docs/operations.md quotes it).
    const table = await runCli(['report', '--date', days[0]!, '--to', days.at(-1)!], env);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'report.md'), table.stdout);

    // Markdown and CSV of one lot's day: the same figures.
    const lot = String(spoiled!.park_no);
    const md = await runCli(['report', '--date', String(spoiled!.day), '--lot', lot], env);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain(`| ${spoiled!.day} | ${lot} |`);
    const csv = await runCli(
      ['report', '--date', String(spoiled!.day), '--lot', lot, '--format', 'csv'],
      env,
    );
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines[0]!.startsWith('day,park_code,lot_name,entrances')).toBe(true);
    expect(lines).toHaveLength(2);
    const unknown = await runCli(['report', '--date', String(spoiled!.day), '--lot', 'NO-SUCH-LOT'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('NO-SUCH-LOT');
    const badDay = await runCli(['report', '--date', '2026-13-01'], env);
    expect(badDay.code).toBe(1);
    expect(badDay.stderr).toContain('yyyy-MM-dd');
  }, 240_000);
});
