/**
 * A visit that lives in two tables, read through one derived table (`UNION ALL`): `dry-run` shows
 * rows of both, and the worker's poll path delivers every entrance and departure of both tables
 * exactly once, photos included (fetched by id through the same derived table).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dryRun } from '../../src/cli/dry-run.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';
import { splitVisits, unionMapping } from '../helpers/split-visits.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('a stream read through UNION ALL', () => {
  it('is shown by dry-run and delivered exactly once from both tables', async () => {
    harness = await startHarness({
      seed: { lots: 4, visits: 240, photoRows: 30, days: 1 },
      config: unionMapping(['car_inout_hist', 'car_inout']),
    });
    const h = harness;
    // What ISP must receive, computed while every visit is still in one table.
    const expected = await expectedEvents(h.db.admin, 'visit-table');
    const moved = await splitVisits(h.db.admin, 'car_inout_hist', 120);
    expect(moved).toBe(120);

    // dry-run reads the oldest rows first: those now in the history table (lots registered first,
    // or their events would be shown as held).
    await h.registerLots();
    const preview = await dryRun(h.rt, 'entrances', 5);
    expect(preview.rows).toBe(5);
    expect(preview.payloads).toHaveLength(5 - preview.quarantine.length);

    await h.start();
    await waitFor(
      'every event delivered',
      () =>
        h.sim.state.store.count('entrance') >= expected.entrances.length &&
        h.sim.state.store.count('departure') >= expected.departures.length,
      90_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    for (const [kind, want, timeField, photoField] of [
      ['entrance', expected.entrances, 'enter_time', 'enter_pic'],
      ['departure', expected.departures, 'depart_time', 'depart_pic'],
    ] as const) {
      const got = h.sim.state.received(kind, 0, 1_000_000).map((e) => e.record as Record<string, unknown>);
      expect(got.map((r) => `${r.park_code}|${r.plate_number}|${r[timeField]}`).sort()).toEqual(
        want.map((e) => e.key).sort(),
      );
      expect(got.filter((r) => r[photoField] !== '').length, `${kind} photos`).toBe(
        want.filter((e) => e.photo).length,
      );
    }
  }, 120_000);
});
