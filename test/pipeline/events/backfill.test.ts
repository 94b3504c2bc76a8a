import type mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProgress } from '../../../src/cli/backfill.js';
import { parseOperatorTime, TimeArgumentError } from '../../../src/cli/operator-time.js';
import { type BackfillProgress, runBackfill } from '../../../src/pipeline/events/backfill.js';
import type { EventRecord } from '../../../src/pipeline/events/records.js';
import { runCli } from '../../helpers/cli.js';
import { departuresAfterEntrances, expectedEvents, receivedAt } from '../../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../../helpers/pipeline.js';
import { testTransform } from '../../helpers/records.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('operator times', () => {
  it('reads times without an offset in the vendor zone, and honours an offset', () => {
    const zone = 'Asia/Shanghai';
    const utc = Date.UTC(2026, 2, 1, 0, 30, 0) / 1000; // 08:30 in Shanghai
    expect(parseOperatorTime('2026-03-01T08:30', zone, '--from')).toBe(utc);
    expect(parseOperatorTime('2026-03-01 08:30:00', zone, '--from')).toBe(utc);
    expect(parseOperatorTime('2026-03-01T00:30:00Z', zone, '--from')).toBe(utc);
    expect(parseOperatorTime('2026-03-01T02:30:00+02:00', zone, '--from')).toBe(utc);
    expect(parseOperatorTime('2026-03-01', zone, '--from')).toBe(utc - 8.5 * 3600);
    expect(parseOperatorTime('2026-03-01T08:30', 'UTC', '--from')).toBe(utc + 8 * 3600);
    expect(() => parseOperatorTime('yesterday', zone, '--to')).toThrow(TimeArgumentError);
    expect(() => parseOperatorTime('yesterday', zone, '--to')).toThrow(/--to: "yesterday" is not a time/);
  });
});

/** Vendor rows of the runBackfill tests: ids 1..25 at t = 1000, 1010, ... */
type Row = { vendorKey: string; cursorTime: string; t: number };
const rows: Row[] = Array.from({ length: 25 }, (_, i) => ({
  vendorKey: String(i + 1),
  cursorTime: String(1000 + i * 10),
  t: 1000 + i * 10,
}));

describe('runBackfill (I/O passed in)', () => {
  it('pages through the range, skips delivered and bad rows, chunks jobs, waits out backpressure', async () => {
    const delivered = new Set(['3', '4', '20']);
    const enqueued: Array<{ id: string; keys: string[] }> = [];
    const quarantined: string[] = [];
    const progress: BackfillProgress[] = [];
    const depths = [0, 5, 5, 0, 0, 0, 0];
    let clock = 0;
    const result = await runBackfill<Row>(
      {
        stream: 'entrances',
        pageSize: 10,
        maxItemsPerJob: 4,
        maxQueueDepth: 3,
        readPage: async (after, limit, bounds) => {
          const start = after ? Number(after.id) : 0;
          const page = rows
            .filter((r) => r.t >= bounds.from && r.t < bounds.upTo)
            .filter((r) => Number(r.vendorKey) > start);
          const slice = page.slice(0, limit);
          const last = slice.at(-1);
          return {
            rows: slice,
            last: last ? { time: last.cursorTime, id: last.vendorKey } : null,
            full: slice.length >= limit,
          };
        },
        transform: testTransform((row) => row.vendorKey === '7'),
        delivered: async (records: EventRecord[]) => records.map((r) => delivered.has(r.vendorKey)),
        quarantine: async (row) => {
          quarantined.push(row.vendorKey);
        },
        enqueue: async (jobs) => {
          enqueued.push(...jobs.map((j) => ({ id: j.id, keys: j.records.map((r) => r.vendorKey) })));
        },
        queueDepth: async () => depths.shift() ?? 0,
        cursorEpoch: (c) => Number(c.time),
        onProgress: (p) => progress.push(p),
        now: () => (clock += 100),
        sleep: async () => undefined,
      },
      { from: 1000, to: 1200 },
    );
    // Rows 1..20 are in [1000, 1200); 7 is bad, 3, 4 and 20 already delivered.
    expect(result).toMatchObject({
      read: 20,
      enqueued: 16,
      alreadyDelivered: 3,
      quarantined: 1,
      stoppedBy: 'done',
    });
    expect(quarantined).toEqual(['7']);
    expect(enqueued.flatMap((j) => j.keys)).toEqual([
      '1',
      '2',
      '5',
      '6',
      '8',
      '9',
      '10',
      '11',
      '12',
      '13',
      '14',
      '15',
      '16',
      '17',
      '18',
      '19',
    ]);
    // Each page in jobs of at most 4, named after their first and last vendor row.
    expect(enqueued.map((j) => j.keys.length)).toEqual([4, 3, 4, 4, 1]);
    expect(enqueued[0]!.id).toBe('backfill-entrances-1000_1-1050_6');
    expect(progress.filter((p) => p.state === 'waiting-queue')).toHaveLength(2);
    const reading = progress.find((p) => p.state === 'reading')!;
    expect(reading.fraction).toBeCloseTo(0.45); // page 1 ends at t=1090 of [1000, 1200)
    expect(reading.etaMs).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ state: 'done', fraction: 1 });
  });

  it('stops after the current page when aborted', async () => {
    const abort = new AbortController();
    const result = await runBackfill<Row>(
      {
        stream: 'departures',
        pageSize: 5,
        maxItemsPerJob: 100,
        maxQueueDepth: 100,
        readPage: async (after) => {
          abort.abort();
          const start = after ? Number(after.id) : 0;
          const slice = rows.filter((r) => Number(r.vendorKey) > start).slice(0, 5);
          return {
            rows: slice,
            last: { time: slice.at(-1)!.cursorTime, id: slice.at(-1)!.vendorKey },
            full: true,
          };
        },
        transform: testTransform(() => false),
        delivered: async (records) => records.map(() => false),
        quarantine: async () => undefined,
        enqueue: async () => undefined,
        queueDepth: async () => 0,
        cursorEpoch: (c) => Number(c.time),
        signal: abort.signal,
      },
      { from: 0, to: 10_000 },
    );
    expect(result).toMatchObject({ read: 5, enqueued: 5, stoppedBy: 'aborted' });
  });
});

describe('runBackfill ordering (I/O passed in)', () => {
  const base = (enqueued: string[][]) => ({
    pageSize: 4,
    maxItemsPerJob: 100,
    maxQueueDepth: 100,
    readPage: async (after: { id: string } | null, limit: number, bounds: { from: number; upTo: number }) => {
      const start = after ? Number(after.id) : 0;
      const slice = rows
        .filter((r) => r.t >= bounds.from && r.t < bounds.upTo && Number(r.vendorKey) > start)
        .slice(0, limit);
      const last = slice.at(-1);
      return {
        rows: slice,
        last: last ? { time: last.cursorTime, id: last.vendorKey } : null,
        full: slice.length >= limit,
      };
    },
    transform: testTransform<Row>(() => false),
    delivered: async (records: EventRecord[]) => records.map(() => false),
    quarantine: async () => undefined,
    enqueue: async (jobs: Array<{ records: EventRecord[] }>) => {
      enqueued.push(...jobs.map((j) => j.records.map((r) => r.vendorKey)));
    },
    queueDepth: async () => 0,
    cursorEpoch: (c: { time: string }) => Number(c.time),
    sleep: async () => undefined,
  });

  it('departures read only before the entrance watermark, and wait for it to move', async () => {
    const enqueued: string[][] = [];
    const gates = [1035, 1035, 1035, 1105, undefined];
    const progress: BackfillProgress[] = [];
    const bounds: number[] = [];
    const deps = base(enqueued);
    const result = await runBackfill<Row>(
      {
        ...deps,
        stream: 'departures',
        readPage: async (after, limit, b) => {
          bounds.push(b.upTo);
          return deps.readPage(after, limit, b);
        },
        gate: async () => (gates.length > 1 ? gates.shift() : gates[0]),
        onProgress: (p) => progress.push(p),
      },
      { from: 1000, to: 1200 },
    );
    expect(result).toMatchObject({ read: 20, enqueued: 20, stoppedBy: 'done' });
    // Rows before 1035 (t 1000..1030), a wait, then before 1105, then the rest of the range.
    expect(enqueued.slice(0, 1)).toEqual([['1', '2', '3', '4']]);
    expect(bounds.slice(0, 3)).toEqual([1035, 1035, 1105]);
    expect(bounds.at(-1)).toBe(1200);
    expect(enqueued.flat()).toEqual(rows.slice(0, 20).map((r) => r.vendorKey));
    const waits = progress.filter((p) => p.state === 'waiting-entrances');
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]).toMatchObject({ gate: 1035, position: 1035 });
    expect(formatProgress('departures', waits[0]!, 'UTC')).toContain(
      'WAITING: for entrances from 1970-01-01 00:17:15 on to be delivered',
    );
  });

  it('entrances hold departures at the read position while reading and release at the end, abort or error', async () => {
    const holds: number[] = [];
    let released = 0;
    const ordering = {
      hold: async (epoch: number) => {
        holds.push(epoch);
      },
      release: async () => {
        released++;
      },
    };
    const enqueued: string[][] = [];
    await runBackfill<Row>({ ...base(enqueued), stream: 'entrances', ...ordering }, { from: 1000, to: 1200 });
    expect(holds[0]).toBe(1000);
    expect(holds).toEqual([...holds].sort((a, b) => a - b));
    expect(holds.at(-1)).toBeLessThan(1200);
    expect(released).toBe(1);

    const abort = new AbortController();
    abort.abort();
    await runBackfill<Row>(
      { ...base([]), stream: 'entrances', ...ordering, signal: abort.signal },
      { from: 1000, to: 1200 },
    );
    expect(released).toBe(2);
    const failing = {
      ...base([]),
      stream: 'entrances' as const,
      ...ordering,
      readPage: async () => {
        throw new Error('server gone');
      },
    };
    await expect(runBackfill<Row>(failing, { from: 1000, to: 1200 })).rejects.toThrow('server gone');
    expect(released).toBe(3);
  });
});

describe('backfill command', () => {
  it('sends exactly the rows the live pipeline skipped, nothing twice, and leaves the checkpoint alone', async () => {
    harness = await startHarness({ seed: { lots: 3, visits: 80, photoRows: 8, days: 1 } });
    const h = harness;
    const expected = await expectedEvents(h.db.admin, 'visit-table');
    const [rows] = await h.db.admin.query<mysql.RowDataPacket[]>(
      'SELECT id, CAST(in_time AS CHAR) AS t FROM car_inout ORDER BY in_time, id',
    );
    expect(rows.length).toBe(expected.entrances.length);
    // The live checkpoint starts in the middle: the rows up to it are never read live.
    const mid = rows[40]!;
    await h.rt.checkpoints.set('entrances', { time: String(mid.t), id: String(mid.id) });
    const skippedCount = 41;
    await h.start();
    await waitFor(
      'the live entrances after the checkpoint',
      () => h.sim.state.store.count('entrance') === expected.entrances.length - skippedCount,
    );
    await waitFor(
      'departures delivered',
      () => h.sim.state.store.count('departure') === expected.departures.length,
    );
    await h.stopWorkers();
    const checkpoint = await h.rt.checkpoints.get('entrances');
    await h.start(['pusher']);

    const keysAtSim = () => {
      const counts = new Map<string, number>();
      for (const e of h.sim.state.received('entrance', 0, 1_000_000)) {
        const r = e.record as Record<string, unknown>;
        const key = `${r.park_code}|${r.plate_number}|${r.enter_time}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };
    const env = h.childEnv();
    const last = Math.max(...expected.entrances.map((e) => Number(e.fields.enter_time)));
    // --from in the vendor's own wall-clock text (no offset), --to in UTC.
    const args = [
      'backfill',
      'entrances',
      '--from',
      String(rows[0]!.t),
      '--to',
      new Date((last + 1) * 1000).toISOString(),
      '--wait',
    ];
    const first = await runCli(args, env);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain(
      `read ${expected.entrances.length} rows, enqueued ${skippedCount} (in 1 jobs), already delivered ${expected.entrances.length - skippedCount}, quarantined 0`,
    );
    expect(first.stdout).toContain(`records delivered ${skippedCount},`);
    expect(first.stderr).toMatch(/entrances 100% \[#+\] read 80.*ETA/);
    const counts = keysAtSim();
    for (const e of expected.entrances) expect(counts.get(e.key), e.key).toBe(1);
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length);
    expect(await h.rt.checkpoints.get('entrances')).toEqual(checkpoint);

    // Again: everything is in the ledger, nothing is enqueued or sent.
    const again = await runCli(args, env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`enqueued 0 (in 0 jobs), already delivered ${expected.entrances.length}`);
    const departures = await runCli(
      ['backfill', 'departures', '--from', String(rows[0]!.t), '--to', new Date().toISOString()],
      env,
    );
    expect(departures.code, departures.stderr).toBe(0);
    expect(departures.stdout).toContain(
      `enqueued 0 (in 0 jobs), already delivered ${expected.departures.length}`,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length);
    expect(h.sim.state.store.count('departure')).toBe(expected.departures.length);

    const parks = await runCli(['backfill', 'parks', '--from', '2026-01-01'], env);
    expect(parks.code).toBe(1);
    expect(parks.stderr).toContain('full-sync');
  }, 120_000);

  it('backfills entrances and departures of one range at once: no departure before its entrance', async () => {
    harness = await startHarness({ seed: { lots: 3, visits: 80, photoRows: 0, days: 1 } });
    const h = harness;
    const expected = await expectedEvents(h.db.admin, 'visit-table');
    // The live pipeline starts a second after the last row: everything is left to the backfills.
    for (const [stream, column] of [
      ['entrances', 'in_time'],
      ['departures', 'out_time'],
    ] as const) {
      const [[last]] = await h.db.admin.query<mysql.RowDataPacket[]>(
        `SELECT CAST(MAX(${column}) + INTERVAL 1 SECOND AS CHAR) AS t FROM car_inout`,
      );
      await h.rt.checkpoints.set(stream, { time: String(last!.t), id: '0' });
    }
    await h.start(['scheduler', 'poller']);
    await waitFor('the live polls to have read once', async () => {
      const [e, d] = await Promise.all([
        h.rt.progress.caughtUp('entrances'),
        h.rt.progress.caughtUp('departures'),
      ]);
      return e !== undefined && d !== undefined;
    });
    const env = h.childEnv();
    const from = '2020-01-01T00:00:00Z';
    const to = new Date(Date.now() + 60_000).toISOString();
    // Entrances first, with no pusher running: their jobs wait in the queue, undelivered.
    const entrances = await runCli(['backfill', 'entrances', '--from', from, '--to', to], env);
    expect(entrances.code, entrances.stderr + entrances.stdout).toBe(0);
    expect(entrances.stdout).toContain(`enqueued ${expected.entrances.length}`);
    // Departures now: they may not go before those entrances are delivered.
    // Until the departures backfill says it waits for the entrances (a fixed pause was too short for
    // a CLI start on a loaded machine), with nothing of it enqueued meanwhile.
    let waiting = false;
    const departures = runCli(
      ['backfill', 'departures', '--from', from, '--to', to, '--wait'],
      env,
      90_000,
      (stderr) => {
        waiting ||= stderr.includes('WAITING: for entrances');
      },
    );
    await waitFor(
      'the departures backfill to wait for the entrances',
      async () => waiting || undefined,
      60_000,
    );
    expect(await h.rt.queues.push.departures.getJobCounts('wait', 'active', 'delayed')).toEqual({
      wait: 0,
      active: 0,
      delayed: 0,
    });
    await h.start(['pusher']);
    const result = await departures;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stderr).toContain('WAITING: for entrances');
    await waitFor(
      'every entrance and departure delivered',
      () =>
        h.sim.state.store.count('entrance') === expected.entrances.length &&
        h.sim.state.store.count('departure') === expected.departures.length,
    );
    expect(
      departuresAfterEntrances(expected.departures, receivedAt(h, 'entrance'), receivedAt(h, 'departure')),
    ).toEqual([]);
  }, 120_000);
});
