/**
 * A vendor database whose clock runs 10 minutes fast (every session of the worker sees its time set
 * ahead): rows it stamps "now" are 10 minutes in this host's future, beyond the future-time
 * tolerance (5 minutes). Measured at each poll, the skew moves the transforms' clock, so nothing is
 * quarantined, everything is delivered, and `status` shows the skew.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collectStatus } from '../../src/pipeline/status.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('vendor clock ahead of this host', () => {
  it('quarantines nothing stamped by a vendor clock 10 min fast, and shows the skew', async () => {
    harness = await startHarness({
      style: 'visit-table',
      seed: { lots: 2, visits: 0, photos: false },
      config: { streams: { entrances: { photo: null }, departures: { photo: null } } },
      // The server's NOW(), UNIX_TIMESTAMP() and UTC_TIMESTAMP() in the worker's sessions: 600 s ahead.
      vendorInitSql: ['SET @@timestamp = UNIX_TIMESTAMP() + 600'],
    });
    const h = harness;
    await h.start();
    const [[lot]] = (await h.db.admin.query('SELECT park_no FROM parkinfo LIMIT 1')) as unknown as [
      Array<{ park_no: string }>,
    ];
    // Stamped by the vendor's clock: host time + 600 s, a few seconds back from its "now".
    const stamp = (ago: number) =>
      `CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00') + INTERVAL ${600 - ago} SECOND`;
    await h.db.admin.query(
      `INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind) VALUES
       (?, '鲁C00001', ${stamp(8)}, ${stamp(6)}, '小型车'), (?, '鲁C00002', ${stamp(7)}, NULL, '小型车')`,
      [lot!.park_no, lot!.park_no],
    );
    await waitFor(
      'both entrances and the departure delivered',
      () => h.sim.state.store.count('entrance') === 2 && h.sim.state.store.count('departure') === 1,
      30_000,
    );
    expect(await h.rt.quarantine.counts()).toEqual({ parks: 0, spotNums: 0, entrances: 0, departures: 0 });
    const status = await collectStatus(h.rt);
    expect(status.vendorClock?.skewSeconds).toBeGreaterThanOrEqual(598);
    expect(status.vendorClock?.skewSeconds).toBeLessThanOrEqual(602);
  }, 60_000);
});
