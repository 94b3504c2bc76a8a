/**
 * Random interleavings of what a vendor does to its lots while ISP has outages: lots added,
 * closed and reopened, counts changed, cars coming and going. After each sequence, once the worker
 * is quiet, the strict simulator's view of every lot equals the vendor's (registered or deleted,
 * the current count, every event of the lot once) and ISP refused nothing. fast-check draws the
 * sequences; the world carries over from one to the next, as a real deployment's does.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';
import { simLots } from '../helpers/sim-lots.js';

const CODES = ['P/1', 'P/2', 'P/3', 'P/4'];
const wall = (ago: number) => `CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00') - INTERVAL ${ago} SECOND`;

type Op =
  | { kind: 'open'; code: string; used: number }
  | { kind: 'close'; code: string }
  | { kind: 'count'; code: string; used: number }
  | { kind: 'cars'; code: string; n: number; leave: boolean }
  | { kind: 'outage'; ms: number }
  | { kind: 'pause'; ms: number };

const code = fc.constantFrom(...CODES);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), code, used: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ kind: fc.constant('close' as const), code }),
  fc.record({ kind: fc.constant('count' as const), code, used: fc.integer({ min: 0, max: 60 }) }),
  fc.record({
    kind: fc.constant('cars' as const),
    code,
    n: fc.integer({ min: 1, max: 8 }),
    leave: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('outage' as const), ms: fc.integer({ min: 300, max: 2_500 }) }),
  fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 800 }) }),
);

let harness: Harness;
let plate = 0;

beforeAll(async () => {
  harness = await startHarness({
    style: 'visit-table',
    seed: { lots: 2, visits: 0, photos: false },
    strict: { knownLots: true },
    config: {
      streams: {
        entrances: { photo: null },
        departures: { photo: null },
        parks: { deleteGraceSeconds: 0, maxDeleteShare: 1, pollEveryMs: 300 },
      },
    },
  });
  await harness.start();
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

async function apply(h: Harness, o: Op): Promise<void> {
  const open = async (c: string) =>
    ((await h.db.admin.query('SELECT 1 FROM parkinfo WHERE park_no = ?', [c])) as unknown as [unknown[]])[0]
      .length > 0;
  switch (o.kind) {
    case 'open':
      if (!(await open(o.code)))
        await h.db.admin.query(
          'INSERT INTO parkinfo (park_no, park_name, lng, lat, total_num, used_num) VALUES (?, ?, 117.0, 36.6, 60, ?)',
          [o.code, `lot ${o.code}`, o.used],
        );
      return;
    case 'close':
      await h.db.admin.query('DELETE FROM parkinfo WHERE park_no = ?', [o.code]);
      return;
    case 'count':
      await h.db.admin.query('UPDATE parkinfo SET used_num = ? WHERE park_no = ?', [o.used, o.code]);
      return;
    case 'cars': {
      // Cars come only to an open lot (the vendor's own rule); they may leave after it closes.
      if (!(await open(o.code))) return;
      const rows = Array.from({ length: o.n }, () => [o.code, `鲁P${String(plate++).padStart(5, '0')}`]);
      const out = o.leave ? wall(3) : 'NULL';
      await h.db.admin.query(
        `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind) VALUES ${rows.map(() => `(?, ?, ${wall(4)}, ${out}, '小型车')`).join(', ')}`,
        rows.flat(),
      );
      return;
    }
    case 'outage':
      h.sim.patchFaults({ downForMs: o.ms });
      return;
    case 'pause':
      await new Promise((r) => setTimeout(r, o.ms));
  }
}

/** What ISP should hold, from the vendor's tables: every lot ever seen, with its events. */
async function vendorView(h: Harness) {
  const [lots] = (await h.db.admin.query('SELECT park_no, total_num, used_num FROM parkinfo')) as unknown as [
    Array<{ park_no: string; total_num: number; used_num: number }>,
  ];
  const [events] = (await h.db.admin.query(
    'SELECT park_no, COUNT(*) AS entrances, COUNT(out_time) AS departures FROM car_inout GROUP BY park_no',
  )) as unknown as [Array<{ park_no: string; entrances: number; departures: number }>];
  return { lots, events };
}

async function mismatches(h: Harness): Promise<string[]> {
  const { lots, events } = await vendorView(h);
  const sim = new Map((await simLots(h.sim.url)).map((l) => [l.parkCode, l]));
  const out: string[] = [];
  const open = new Set(lots.map((l) => l.park_no));
  for (const l of lots) {
    const s = sim.get(l.park_no);
    if (s?.status !== 'registered')
      out.push(`${l.park_no}: ${s?.status ?? 'unknown'} at ISP, open at the vendor`);
    else if (s.count?.used !== l.used_num || s.count.total !== l.total_num)
      out.push(
        `${l.park_no}: count ${JSON.stringify(s.count)} at ISP, ${l.used_num}/${l.total_num} at the vendor`,
      );
  }
  for (const [c, s] of sim) {
    if (!open.has(c) && CODES.includes(c) && s.status === 'registered')
      out.push(`${c}: still registered at ISP, closed`);
  }
  for (const e of events) {
    const s = sim.get(e.park_no);
    if (
      (s?.accepted.entrance ?? 0) !== Number(e.entrances) ||
      (s?.accepted.departure ?? 0) !== Number(e.departures)
    )
      out.push(
        `${e.park_no}: ISP accepted ${s?.accepted.entrance ?? 0}/${s?.accepted.departure ?? 0} events, the vendor has ${e.entrances}/${e.departures}`,
      );
  }
  if (h.sim.state.counters.rejected > 0) out.push(`ISP refused ${h.sim.state.counters.rejected} requests`);
  return out;
}

describe('lot lifecycle, random interleavings', () => {
  it('leaves ISP holding what the vendor holds, with nothing refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 12 }), async (ops) => {
        const h = harness;
        for (const o of ops) await apply(h, o);
        let last: string[] = [];
        try {
          await waitFor(
            'ISP in step with the vendor',
            async () => {
              last = await mismatches(h);
              return last.length === 0;
            },
            45_000,
            300,
          );
        } catch {
          throw new Error(`after ${JSON.stringify(ops)}:\n  ${last.join('\n  ')}`);
        }
      }),
      { numRuns: 4, endOnFailure: true },
    );
    expect(await mismatches(harness)).toEqual([]);
  }, 300_000);
});
