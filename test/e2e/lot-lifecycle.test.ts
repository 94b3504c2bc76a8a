/**
 * ISP's view of every lot stays right, against a simulator that refuses data for lots it does not
 * know (as a strict ISP may): a lot is registered before its data, deleted after it, never rolled
 * back, and a wrong lot read never deletes lots at ISP. Real MariaDB (visit-table demo schema),
 * Redis and the simulator over HTTP; lots and visits are written straight into the vendor tables.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collectStatus } from '../../src/pipeline/status.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';
import { simLot } from '../helpers/sim-lots.js';

/** The vendor's wall clock (Asia/Shanghai), `ago` seconds back. */
const wall = (ago: number) => `CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00') - INTERVAL ${ago} SECOND`;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(config: Record<string, unknown> = {}, lots = 6): Promise<Harness> {
  harness = await startHarness({
    style: 'visit-table',
    seed: { lots, visits: 0, photos: false },
    strict: { knownLots: true },
    config: {
      streams: {
        entrances: { photo: null },
        departures: { photo: null },
        parks: { deleteGraceSeconds: 0, ...((config.parks as object) ?? {}) },
      },
      ...(config.pipeline ? { pipeline: config.pipeline } : {}),
    },
  });
  await harness.start();
  const h = harness;
  await waitFor(
    'the seeded lots registered',
    async () => (await h.rt.lotChanges.counts('parks')).delivered >= lots,
  );
  return h;
}

async function addLot(h: Harness, code: string, total = 50, used = 3): Promise<void> {
  await h.db.admin.query(
    'INSERT INTO parkinfo (park_no, park_name, lng, lat, total_num, used_num) VALUES (?, ?, 117.0, 36.6, ?, ?)',
    [code, `lot ${code}`, total, used],
  );
}

/** `n` visits of a lot: entered `ago` seconds back, left a second later; plates unique per call. */
async function addVisits(h: Harness, code: string, n: number, ago = 5, tag = 'A'): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) => [code, `鲁${tag}${String(i).padStart(5, '0')}`]);
  for (let i = 0; i < rows.length; i += 500) {
    const slice = rows.slice(i, i + 500);
    await h.db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, should_pay, real_pay, pay_kind, pay_time)
       VALUES ${slice.map(() => `(?, ?, ${wall(ago)}, ${wall(ago - 1)}, '小型车', 500, 500, '微信', ${wall(ago - 1)})`).join(', ')}`,
      slice.flat(),
    );
  }
}

const refusedOf = (lot: Awaited<ReturnType<typeof simLot>>) =>
  lot ? Object.values(lot.refused).reduce((a, b) => a + b, 0) : 0;

function receivedAt(
  h: Harness,
  kind: 'park' | 'spot-num' | 'entrance' | 'departure' | 'park-deletion',
  code: string,
) {
  return h.sim.state
    .received(kind, 0, 1e7)
    .filter((e) =>
      String((e.record as { park_code: string }).park_code)
        .split(',')
        .includes(code),
    )
    .map((e) => e.receivedAt);
}

describe('lot lifecycle against a strict ISP', () => {
  it('registers a lot added with counts and traffic in the same second before any of its data', async () => {
    const h = await start();
    const conn = h.db.admin;
    await conn.beginTransaction();
    await conn.query(
      "INSERT INTO parkinfo (park_no, park_name, lng, lat, total_num, used_num) VALUES ('NEW/1', 'new', 117.0, 36.6, 80, 5)",
    );
    await conn.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind) VALUES
         ('NEW/1', '鲁N00001', ${wall(3)}, NULL, '小型车'), ('NEW/1', '鲁N00002', ${wall(3)}, ${wall(2)}, '小型车')`,
    );
    await conn.commit();
    await waitFor(
      'the new lot, its count, entrances and departure at ISP',
      async () => {
        const lot = await simLot(h.sim.url, 'NEW/1');
        return lot && lot.accepted.entrance === 2 && lot.accepted.departure === 1 && lot.count !== null;
      },
      30_000,
    );
    const lot = (await simLot(h.sim.url, 'NEW/1'))!;
    expect(refusedOf(lot)).toBe(0);
    const registered = Math.min(...receivedAt(h, 'park', 'NEW/1'));
    for (const kind of ['spot-num', 'entrance', 'departure'] as const)
      for (const at of receivedAt(h, kind, 'NEW/1')) expect(at).toBeGreaterThanOrEqual(registered);
    expect(h.sim.state.counters.rejectedUnknownLot).toBe(0);
  }, 60_000);

  it('deletes a closed lot only after its 1,000+ events waiting behind a 30 s outage', async () => {
    const h = await start({ parks: { deleteGraceSeconds: 2 } }, 8);
    await addLot(h, 'SHUT/1');
    await waitFor(
      'SHUT/1 registered',
      async () => (await simLot(h.sim.url, 'SHUT/1'))?.status === 'registered',
    );
    h.sim.patchFaults({ downForMs: 30_000 });
    await addVisits(h, 'SHUT/1', 600, 4);
    await h.db.admin.query("DELETE FROM parkinfo WHERE park_no = 'SHUT/1'");
    // While ISP is down the lot is seen gone; its DELETE waits for the events.
    await waitFor(
      'SHUT/1 seen gone',
      async () => (await h.rt.lotChanges.vanished('parks')).has('SHUT/1'),
      20_000,
    );
    await waitFor(
      'the DELETE at ISP',
      async () => (await simLot(h.sim.url, 'SHUT/1'))?.status === 'deleted',
      120_000,
    );
    const lot = (await simLot(h.sim.url, 'SHUT/1'))!;
    expect(lot.accepted.entrance).toBe(600);
    expect(lot.accepted.departure).toBe(600);
    expect(refusedOf(lot)).toBe(0);
    expect(h.sim.state.counters.rejected).toBe(0);
    const deleted = Math.min(...receivedAt(h, 'park-deletion', 'SHUT/1'));
    const lastData = Math.max(
      ...receivedAt(h, 'entrance', 'SHUT/1'),
      ...receivedAt(h, 'departure', 'SHUT/1'),
    );
    expect(deleted).toBeGreaterThan(lastData);
  }, 180_000);

  it('keeps a lot closed and reopened within the grace, and re-registers one reopened after its DELETE', async () => {
    const h = await start({ parks: { deleteGraceSeconds: 4 } }, 8);
    await addLot(h, 'BACK/1');
    await addLot(h, 'BACK/2');
    await waitFor(
      'both registered',
      async () => (await simLot(h.sim.url, 'BACK/2'))?.status === 'registered',
    );

    // Closed and reopened within the grace: never deleted.
    await h.db.admin.query("DELETE FROM parkinfo WHERE park_no = 'BACK/1'");
    await waitFor(
      'BACK/1 seen gone',
      async () => (await h.rt.lotChanges.vanished('parks')).has('BACK/1'),
      20_000,
    );
    await addLot(h, 'BACK/1');
    await waitFor(
      'BACK/1 back',
      async () => !(await h.rt.lotChanges.vanished('parks')).has('BACK/1'),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 5_000));
    expect(receivedAt(h, 'park-deletion', 'BACK/1')).toEqual([]);
    expect((await simLot(h.sim.url, 'BACK/1'))?.status).toBe('registered');

    // Closed, deleted at ISP; its events meanwhile are held; reopened: registered again, events follow.
    await h.db.admin.query("DELETE FROM parkinfo WHERE park_no = 'BACK/2'");
    await waitFor(
      'BACK/2 deleted at ISP',
      async () => (await simLot(h.sim.url, 'BACK/2'))?.status === 'deleted',
      60_000,
    );
    await addVisits(h, 'BACK/2', 5, 4, 'B');
    await waitFor(
      'its events held',
      async () => (await h.rt.holds.lots()).some((l) => l.code === 'BACK/2' && l.count > 0),
      30_000,
    );
    const status = await collectStatus(h.rt);
    expect(status.lotLifecycle.held.find((l) => l.parkCode === 'BACK/2')?.reason).toMatch(/BACK\/2/);
    await addLot(h, 'BACK/2');
    await waitFor(
      'the held events delivered',
      async () => (await simLot(h.sim.url, 'BACK/2'))?.accepted.departure === 5,
      60_000,
    );
    const lot = (await simLot(h.sim.url, 'BACK/2'))!;
    expect(lot.status).toBe('registered');
    expect(lot.accepted.entrance).toBe(5);
    expect(refusedOf(lot)).toBe(0);
    // Entrances before departures, every one.
    expect(Math.max(...receivedAt(h, 'entrance', 'BACK/2'))).toBeLessThanOrEqual(
      Math.min(...receivedAt(h, 'departure', 'BACK/2')),
    );
  }, 120_000);

  it('never rolls a count back: a replayed stale count job sends the current count', async () => {
    const h = await start({ pipeline: { rejectedAttempts: 1 } });
    const code = (await h.rt.lotChanges.pending('spotNums')).at(0)?.code ?? 'ATXL/1';
    await waitFor('a count for the lot', async () => (await simLot(h.sim.url, code))?.count !== null);
    // ISP refuses the count 7 used: it ends in the failed set with that snapshot.
    h.sim.patchFaults({
      rejectRules: [{ kind: 'spot-num', field: 'used_spots_num', equals: 7, message: 'count refused' }],
    });
    await h.db.admin.query('UPDATE parkinfo SET used_num = 7 WHERE park_no = ?', [code]);
    const queue = h.rt.queues.push.spotNums;
    await waitFor(
      'the refused count in the failed set',
      async () => (await queue.getFailed()).length > 0,
      30_000,
    );
    h.sim.patchFaults({ rejectRules: [] });
    // A newer count is delivered ...
    await h.db.admin.query('UPDATE parkinfo SET used_num = 9 WHERE park_no = ?', [code]);
    await waitFor(
      'the newer count at ISP',
      async () => (await simLot(h.sim.url, code))?.count?.used === 9,
      30_000,
    );
    // ... and the replay of the old one does not roll ISP back.
    for (const job of await queue.getFailed()) await job.retry('failed');
    await waitFor(
      'the replay done',
      async () => (await queue.getFailed()).length === 0 && (await queue.getActiveCount()) === 0,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await simLot(h.sim.url, code))?.count?.used).toBe(9);
  }, 90_000);

  it('deletes nothing when the lot table reads empty or 30% of lots close at once, until confirmed', async () => {
    const h = await start({}, 10);
    // 3 of 10 lots closed at once: above the default share of 20%.
    const [rows] = (await h.db.admin.query(
      'SELECT park_no FROM parkinfo ORDER BY park_no LIMIT 3',
    )) as unknown as [Array<{ park_no: string }>];
    const closing = rows.map((r) => r.park_no);
    await h.db.admin.query('DELETE FROM parkinfo WHERE park_no IN (?)', [closing]);
    await waitFor('the guard', async () => (await h.rt.lotChanges.guard('parks'))?.wouldDelete === 3, 20_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(h.sim.state.store.count('park-deletion')).toBe(0);
    const status = await collectStatus(h.rt);
    expect(status.lotLifecycle.deleteGuard?.reason).toMatch(/3 of 10 lots \(30%\)/);

    // The whole table read empty (a wrong database, a lost grant ...): still nothing deleted.
    await h.db.admin.query('RENAME TABLE parkinfo TO parkinfo_moved');
    await h.db.admin.query('CREATE TABLE parkinfo LIKE parkinfo_moved');
    await waitFor(
      'the guard on an empty read',
      async () => (await h.rt.lotChanges.guard('parks'))?.rowsRead === 0,
      20_000,
    );
    expect(h.sim.state.store.count('park-deletion')).toBe(0);
    await h.db.admin.query('DROP TABLE parkinfo');
    await h.db.admin.query('RENAME TABLE parkinfo_moved TO parkinfo');

    // Confirmed by the operator: the three are deleted, the rest stays.
    await h.rt.lotChanges.confirmDeletes('parks');
    await waitFor(
      'the three DELETEs',
      async () => {
        const states = await Promise.all(closing.map((c) => simLot(h.sim.url, c)));
        return states.every((s) => s?.status === 'deleted');
      },
      30_000,
    );
    expect(await h.rt.lotChanges.guard('parks')).toBeUndefined();
    expect((await h.rt.lotChanges.counts('parks')).delivered).toBe(7);
  }, 90_000);

  it('splits a refused DELETE list: 9 lots deleted, the refused one failed with ISP’s message', async () => {
    const h = await start({ parks: { maxDeleteShare: 1 } }, 12);
    const [rows] = (await h.db.admin.query(
      'SELECT park_no FROM parkinfo ORDER BY park_no LIMIT 10',
    )) as unknown as [Array<{ park_no: string }>];
    const closing = rows.map((r) => r.park_no);
    const refused = closing[4]!;
    h.sim.patchFaults({
      rejectRules: [
        { kind: 'park-deletion', field: 'park_code', equals: refused, message: 'lot has open invoices' },
      ],
    });
    await h.db.admin.query('DELETE FROM parkinfo WHERE park_no IN (?)', [closing]);
    await waitFor(
      'the refused DELETE in the failed set',
      async () => (await h.rt.queues.push.parks.getFailed()).length === 1,
      30_000,
    );
    const deleted = await Promise.all(closing.map(async (c) => (await simLot(h.sim.url, c))?.status));
    expect(deleted.filter((s) => s === 'deleted')).toHaveLength(9);
    expect((await simLot(h.sim.url, refused))?.status).toBe('registered');
    const [failed] = await h.rt.queues.push.parks.getFailed();
    expect(failed?.failedReason).toContain('lot has open invoices');
    expect(failed?.failedReason).toContain(refused);
  }, 60_000);

  it('splits a refused batch record by record, through a 500, while other lots’ departures flow', async () => {
    const h = await start({ pipeline: { rejectedAttempts: 1 } }, 4);
    const [lots] = (await h.db.admin.query(
      'SELECT park_no FROM parkinfo ORDER BY park_no LIMIT 2',
    )) as unknown as [Array<{ park_no: string }>];
    const [a, b] = [lots[0]!.park_no, lots[1]!.park_no];
    // Lot A: 100 entrances in one page and one job, 3 of them refused by ISP.
    const refused = ['鲁R00007', '鲁R00042', '鲁R00077'];
    // Slow enough answers that the split of 100 records takes seconds.
    h.sim.patchFaults({
      latencyMs: 80,
      rejectRules: refused.map((plate) => ({
        kind: 'entrance' as const,
        field: 'plate_number',
        equals: plate,
        message: `plate ${plate} blacklisted`,
      })),
    });
    const rows = Array.from({ length: 100 }, (_, i) => [a, `鲁R${String(i).padStart(5, '0')}`]);
    await h.db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time, car_kind) VALUES ${rows.map(() => `(?, ?, ${wall(4)}, '小型车')`).join(', ')}`,
      rows.flat(),
    );
    // Meanwhile lot B's visits come and go, and are not held by lot A's trouble.
    await addVisits(h, b, 10, 4, 'B');
    // A transient 500 in the middle of the split (after the batch and the first single were refused).
    await waitFor('the split under way', () => h.sim.state.counters.rejected >= 2, 30_000, 5);
    h.sim.patchFaults({ http500Rate: 1 });
    await new Promise((r) => setTimeout(r, 150));
    h.sim.patchFaults({ http500Rate: 0 });
    const bDone = await waitFor(
      'lot B delivered',
      async () => ((await simLot(h.sim.url, b))?.accepted.departure === 10 ? Date.now() : 0),
      30_000,
    );
    await waitFor(
      'the three refused entrances isolated, the other 97 delivered',
      async () =>
        (await h.rt.queues.push.entrances.getFailed()).length === 3 &&
        (await simLot(h.sim.url, a))?.accepted.entrance === 97,
      60_000,
    );
    const aDone = Math.max(...receivedAt(h, 'entrance', a));
    expect(h.sim.state.counters.http500).toBeGreaterThan(0);
    // Each refused record reached ISP at most twice: in the batch, then alone.
    expect(h.sim.state.counters.rejected).toBeLessThanOrEqual(1 + refused.length);
    expect((await simLot(h.sim.url, a))?.accepted.entrance).toBe(97);
    // Lot B's departures did not wait for lot A's split.
    expect(bDone).toBeLessThan(aDone + 5_000);
    const bDepartures = receivedAt(h, 'departure', b);
    expect(Math.min(...bDepartures)).toBeLessThan(aDone);
  }, 90_000);
});
